"""Sensitive sites from GeoPackage, Shapefile (plain, zipped) and KML files (pyogrio).

Test files are real: GeoJSON written here is turned into each format by GDAL (pyogrio's raw
writer) in tmp_path. The oracle is the GeoJSON importer reading the same features, and, for
areas, point-in-polygon on a grid of test points.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio.raw
import pytest
from click.testing import CliRunner

import cleanpath
from cleanpath.cli.main import cli
from cleanpath.errors import ValidationError
from cleanpath.geo import parse_area
from cleanpath.io.geofiles import wkb_to_geojson
from cleanpath.io.sensitive import import_sensitive

SQUARE = [[7.5, 49.4], [7.7, 49.4], [7.7, 49.5], [7.5, 49.5], [7.5, 49.4]]
HOLE = [[7.55, 49.43], [7.55, 49.47], [7.65, 49.47], [7.65, 49.43], [7.55, 49.43]]
FEATURES = [
    {"type": "Feature", "properties": {"name": "Ramstein Air Base", "kind": "military", "radius_m": 3000,
                                       "country": "DE"},
     "geometry": {"type": "Point", "coordinates": [7.6, 49.437]}},
    {"type": "Feature", "properties": {"name": "Exclusion zone", "kind": "critical_infrastructure", "country": "DE"},
     "geometry": {"type": "Polygon", "coordinates": [SQUARE, HOLE]}},
    {"type": "Feature", "properties": {"name": "Two plants", "kind": "industrial", "country": "DE", "weight": 2.5},
     "geometry": {"type": "MultiPolygon", "coordinates": [
         [[[8.0, 50.0], [8.1, 50.0], [8.1, 50.1], [8.0, 50.0]]],
         [[[9.0, 51.0], [9.1, 51.0], [9.1, 51.1], [9.0, 51.0]]]]}},
]


def _geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def write_as(tmp_path: Path, features: list[dict], name: str, *, layer: str | None = None,
             crs: str = "EPSG:4326", append: bool = False, geometry_type: str = "Unknown") -> Path:
    """Write features through GDAL into ``name`` (driver by suffix)."""
    src = _geojson(tmp_path / f"src-{layer or 'x'}.geojson", features)
    meta, _fids, geoms, fields = pyogrio.raw.read(src)
    out = tmp_path / name
    driver = {".gpkg": "GPKG", ".kml": "KML", ".shp": "ESRI Shapefile"}[out.suffix]
    pyogrio.raw.write(out, geoms, fields, meta["fields"], driver=driver, geometry_type=geometry_type,
                      crs=crs, layer=layer, append=append)
    return out


def _zip_shapefile(shp: Path) -> Path:
    out = shp.with_name(shp.name + ".zip")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for q in shp.parent.iterdir():
            if q.stem == shp.stem and q.suffix != ".zip":
                z.write(q, q.name)
    return out


@pytest.fixture
def reference(tmp_path):
    return import_sensitive([_geojson(tmp_path / "ref.geojson", FEATURES)]).tables["sensitive_sites"]


def _same_sites(got, want):
    assert got["name"].tolist() == want["name"].tolist()
    assert got["kind"].tolist() == want["kind"].tolist()
    assert got["sensitive_id"].tolist() == want["sensitive_id"].tolist()
    np.testing.assert_allclose(got["weight"].astype(float), want["weight"].astype(float))
    np.testing.assert_allclose(got["radius_m"].astype(float), want["radius_m"].astype(float), rtol=1e-6)
    # areas: the same points inside (ring orientation may differ by format, the area may not)
    lat, lon = np.meshgrid(np.linspace(49.35, 51.15, 60), np.linspace(7.45, 9.15, 60))
    for g, w in zip(got["geometry"], want["geometry"]):
        assert pd.isna(g) == pd.isna(w)
        if not pd.isna(g):
            np.testing.assert_array_equal(parse_area(g).contains(lat.ravel(), lon.ravel()),
                                          parse_area(w).contains(lat.ravel(), lon.ravel()))


@pytest.mark.parametrize("name", ["sites.gpkg", "sites.kml"])
def test_gpkg_and_kml_read_like_geojson(tmp_path, reference, name):
    f = write_as(tmp_path, FEATURES, name, layer="bases")
    got = import_sensitive([f]).tables["sensitive_sites"]
    _same_sites(got, reference)


def test_kmz_and_its_bomb(tmp_path, reference):
    kml = write_as(tmp_path, FEATURES, "sites.kml", layer="bases")
    kmz = tmp_path / "sites.kmz"
    with zipfile.ZipFile(kmz, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(kml, "doc.kml")
    _same_sites(import_sensitive([kmz]).tables["sensitive_sites"], reference)
    with zipfile.ZipFile(kmz, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("files/zeros.bin", b"\0" * (8 << 20))
    with pytest.raises(ValidationError, match="decompression bomb"):
        import_sensitive([kmz])


def test_attribute_only_layer_is_skipped_with_a_note(tmp_path, reference):
    f = write_as(tmp_path, FEATURES, "sites.gpkg", layer="bases")
    pyogrio.raw.write(f, None, [np.array(["x", "y"], dtype=object)], ["note"], driver="GPKG", layer="notes",
                      append=True)
    got = import_sensitive([f])
    _same_sites(got.tables["sensitive_sites"], reference)
    assert any("without geometry skipped: notes" in w for w in got.warnings)


def test_shapefile_plain_zipped_and_in_a_directory(tmp_path, reference):
    polys = [f for f in FEATURES if f["geometry"]["type"] != "Point"]
    d = tmp_path / "shp"
    d.mkdir()
    shp = write_as(d, polys, "zones.shp", geometry_type="MultiPolygon")
    want = reference.iloc[1:].reset_index(drop=True)
    _same_sites(import_sensitive([shp]).tables["sensitive_sites"], want)
    zipped = _zip_shapefile(shp)
    _same_sites(import_sensitive([zipped]).tables["sensitive_sites"], want)
    zipped.unlink()
    for q in d.glob("src-*"):
        q.unlink()
    # a directory holds the .shp and its .dbf/.shx/.prj/.cpg: the companions are not read as CSV
    _same_sites(import_sensitive([d]).tables["sensitive_sites"], want)
    (d / "zones.dbf").unlink()
    with pytest.raises(ValidationError, match=r"\.dbf file is missing"):
        import_sensitive([shp])


def test_bad_polygon_is_located_by_file_layer_feature_and_field(tmp_path):
    bowtie = {"type": "Feature", "properties": {"name": "Bow tie"},
              "geometry": {"type": "Polygon", "coordinates": [[[7, 49], [8, 50], [8, 49], [7, 50], [7, 49]]]}}
    bad_kind = {"type": "Feature", "properties": {"name": "Navy", "kind": "navy"},
                "geometry": {"type": "Point", "coordinates": [7, 49]}}
    line = {"type": "Feature", "properties": {"name": "Fence"},
            "geometry": {"type": "LineString", "coordinates": [[7, 49], [8, 50]]}}
    f = write_as(tmp_path, [FEATURES[0], bowtie], "z.gpkg", layer="zones")
    write_as(tmp_path, [bad_kind, line], "z.gpkg", layer="more", append=True)
    with pytest.raises(ValidationError) as e:
        import_sensitive([f])
    got = {(p.file, p.line, p.column): p.reason for p in e.value.problems}
    assert got[(f"{f}:zones", 2, "geometry")].startswith("feature 2: ")
    assert "self-intersect" in got[(f"{f}:zones", 2, "geometry")] or "cross" in got[(f"{f}:zones", 2, "geometry")]
    assert "LineString" in got[(f"{f}:more", 2, "geometry")]
    # the bad kind is found when the geometry is fine: drop the line and look again
    f2 = write_as(tmp_path, [FEATURES[0], bad_kind], "k.kml", layer="sites")
    with pytest.raises(ValidationError) as e:
        import_sensitive([f2])
    (p,) = e.value.problems
    assert (p.file, p.line, p.column, p.value) == (f"{f2}:sites", 2, "kind", "navy")
    assert p.reason.startswith("feature 2: ")


def test_projected_crs_is_refused_not_misread(tmp_path):
    utm = {"type": "Feature", "properties": {"name": "Base"},
           "geometry": {"type": "Point", "coordinates": [410000.0, 5478000.0]}}
    f = write_as(tmp_path, [utm], "utm.gpkg", layer="bases", crs="EPSG:25832")
    with pytest.raises(ValidationError, match="EPSG:25832.*reproject.*ogr2ogr -t_srs EPSG:4326") as e:
        import_sensitive([f])
    assert e.value.problems[0].file == f"{f}:bases"


def test_cli_imports_a_geopackage_and_a_device_is_refused(tmp_path):
    f = write_as(tmp_path, FEATURES, "sites.gpkg", layer="bases")
    ws = tmp_path / "ws.duckdb"
    out = CliRunner().invoke(cli, ["-w", str(ws), "import", "sensitive", str(f), "--format", "json"],
                             catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["summary"]["added"] == {"sensitive_sites": 3}
    with cleanpath.open_workspace(ws, read_only=True) as w:
        assert sorted(w.network("main").sensitive_sites["kind"]) == ["critical_infrastructure", "industrial",
                                                                    "military"]
    with pytest.raises(ValidationError, match="not a regular file|device|character"):
        import_sensitive([Path("/dev/zero.gpkg") if Path("/dev/zero.gpkg").exists() else _fifo(tmp_path)])


def _fifo(tmp_path: Path) -> Path:
    import os

    p = tmp_path / "pipe.gpkg"
    os.mkfifo(p)
    return p


# --- WKB against hand-packed bytes ---------------------------------------------------------------

def test_wkb_decoder_big_endian_iso_z_and_ewkb_srid():
    # big-endian 2-D point
    assert wkb_to_geojson(b"\x00" + struct.pack(">I2d", 1, 7.5, 49.25)) == {"type": "Point",
                                                                            "coordinates": [7.5, 49.25]}
    # ISO PolygonZ (1003), one ring of 4 positions, little-endian: Z dropped
    ring = [(0, 0, 5), (1, 0, 5), (1, 1, 5), (0, 0, 5)]
    wkb = b"\x01" + struct.pack("<III", 1003, 1, 4) + b"".join(struct.pack("<3d", *p) for p in ring)
    assert wkb_to_geojson(wkb) == {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    # EWKB MultiPolygon with SRID flag, holding one 2-D polygon
    inner = b"\x01" + struct.pack("<III", 3, 1, 4) + b"".join(struct.pack("<2d", *p[:2]) for p in ring)
    ewkb = b"\x01" + struct.pack("<IiI", 6 | 0x20000000, 4326, 1) + inner
    assert wkb_to_geojson(ewkb) == {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]}
    assert wkb_to_geojson(None) is None
    with pytest.raises(ValueError, match="truncated"):
        wkb_to_geojson(wkb[:-8])
