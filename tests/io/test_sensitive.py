"""Sensitive-site importer: the shipped installations, CSV shapes, GeoJSON areas and bad input."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cleanpath.errors import ValidationError
from cleanpath.io import sensitive as sv
from cleanpath.io.registry import importer
from cleanpath.store.ingest import ingest

from conftest import INSTALLATIONS

DATA = Path(__file__).resolve().parents[1] / "data" / "sensitive"
# The GeoJSON fixture's shapes sit on a lattice of 0.001 degrees from (7.60 E, 49.43 N).
LON0, LAT0, U = 7.60, 49.43, 0.001
EARTH_R = 6_371_008.8


def installations_csv() -> list[dict[str, str]]:
    with open(INSTALLATIONS, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def haversine_m(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_R * math.asin(math.sqrt(h))


def units(lat: float, lon: float) -> tuple[float, float]:
    """Lattice coordinates (x, y) of a position in the GeoJSON fixture."""
    return (lon - LON0) / U, (lat - LAT0) / U


def test_registered():
    assert importer("sensitive") is sv.import_sensitive


# --- the shipped installations ------------------------------------------------------------------

def test_shipped_installations_match_the_shared_file():
    want = installations_csv()
    df = sv.shipped_installations()
    assert len(df) == len(want) == 36
    assert df["sensitive_id"].is_unique
    assert set(df["country"]) == {"DE", "IT", "JP", "KR", "AU"}
    assert (df["kind"] == "military").all() and (df["radius_m"] == 5000).all()
    by_name = df.set_index("name")
    for row in want:
        got = by_name.loc[row["name"]]
        assert got["country"] == row["country"] and got["source"] == row["source_or_approx"]
        assert got["lat"] == pytest.approx(float(row["lat"])) and got["lon"] == pytest.approx(float(row["lon"]))


def test_shipped_file_is_the_shared_file():
    from importlib import resources

    shipped = resources.files("cleanpath.data").joinpath("sensitive", "us_military_installations.csv")
    assert shipped.read_bytes() == INSTALLATIONS.read_bytes()
    prov = resources.files("cleanpath.data").joinpath("sensitive", "PROVENANCE.md").read_text()
    for row in installations_csv():  # every row's source is kept in the provenance notes
        assert row["name"] in prov and row["source_or_approx"] in prov


def test_shipped_installations_by_country():
    jp = sv.shipped_installations("jp")
    assert len(jp) == sum(r["country"] == "JP" for r in installations_csv()) == 10
    assert (jp["country"] == "JP").all()
    assert len(sv.shipped_installations("FR")) == 0


def test_ids_are_stable_slugs_of_country_and_name():
    ids = set(sv.shipped_installations()["sensitive_id"])
    assert {"de-ramstein-air-base", "it-caserma-del-din-ex-dal-molin-vicenza", "kr-osan-air-base",
            "jp-naf-atsugi", "au-raaf-base-tindal-us-bomber-rotations"} <= ids
    assert sv.slug(pd.Series(["IT-Caserma Ederlé", "  x  ", None, "PL-Łódź Straße", "JP-"])).tolist() == \
        ["it-caserma-ederle", "x", "", "pl-lodz-strasse", "jp"]
    kanji = sv.slug(pd.Series(["横田飛行場", "横田飛行場", "三沢飛行場"])).tolist()
    assert kanji[0] == kanji[1] != kanji[2] and kanji[0].startswith("h") and len(kanji[0]) == 11


def test_installations_ingest_into_a_workspace(workspace):
    rep = ingest(workspace, "sensitive", [INSTALLATIONS])
    assert rep.added == {"sensitive_sites": 36}
    assert any("branch" in w for w in rep.warnings)
    ss = workspace.network("main").sensitive_sites
    assert len(ss) == 36 and ss["sensitive_id"].is_unique
    assert {"DE", "IT", "JP", "KR", "AU"} == set(ss["country"])
    ramstein = ss.set_index("sensitive_id").loc["de-ramstein-air-base"]
    assert (ramstein["lat"], ramstein["lon"]) == (49.4345, 7.6007)
    # Importing the same sites again merges them: identical rows are the same sites, skipped.
    rep = ingest(workspace, "sensitive", [INSTALLATIONS])
    assert rep.added == {"sensitive_sites": 0} and rep.skipped == {"sensitive_sites": 36}
    assert len(workspace.network("main").sensitive_sites) == 36
    # The same ids with other values are refused, with lines (a merge never overwrites).
    with pytest.raises(ValidationError) as e:
        ingest(workspace, "sensitive", [INSTALLATIONS], radius_m=1234.0)
    assert e.value.problems[0].line == 2 and "other values" in e.value.problems[0].reason
    assert len(workspace.network("main").sensitive_sites) == 36


# --- CSV ----------------------------------------------------------------------------------------

def test_model_columns_csv_with_blanks_filled():
    df = sv.import_sensitive(DATA / "sites.csv").tables["sensitive_sites"].set_index("sensitive_id")
    assert list(df.index) == ["us-embassy-berlin", "de-bendlerblock-federal-ministry-of-defence",
                              "de-embassy-row-test-site", "us-embassy-rome"]
    berlin = df.loc["us-embassy-berlin"]
    assert (berlin["kind"], berlin["radius_m"], berlin["weight"]) == ("diplomatic", 1000.0, 2.0)
    row = df.loc["de-embassy-row-test-site"]
    assert (row["kind"], row["country"], row["radius_m"], row["source"]) == ("military", "DE", 5000.0, "sites.csv")
    assert df.loc["de-bendlerblock-federal-ministry-of-defence", "kind"] == "government"


def test_options_fill_only_what_rows_leave_blank():
    df = sv.import_sensitive(DATA / "sites.csv", kind="critical_infrastructure", radius_m=250,
                             country="de").tables["sensitive_sites"].set_index("sensitive_id")
    assert list(df.index) == ["us-embassy-berlin", "de-bendlerblock-federal-ministry-of-defence",
                              "de-embassy-row-test-site"]  # the IT row is skipped
    assert df.loc["de-embassy-row-test-site", "kind"] == "critical_infrastructure"
    assert df.loc["de-embassy-row-test-site", "radius_m"] == 250
    assert df.loc["us-embassy-berlin", "radius_m"] == 1000  # given in the file: kept


def test_bad_csv_rows_have_lines():
    with pytest.raises(ValidationError) as e:
        sv.import_sensitive(DATA / "bad_sites.csv")
    got = sorted((p.line, p.column) for p in e.value.problems)
    # Row 5 has no name, so no id can be derived either.
    assert got == [(3, "kind"), (4, "lat"), (5, "name"), (5, "radius_m"), (5, "sensitive_id"),
                   (6, "sensitive_id")]


def test_bad_options_are_refused():
    with pytest.raises(ValidationError) as e:
        sv.import_sensitive(DATA / "sites.csv", kind="barracks", radius_m=-1, country="Germany")
    assert {p.column for p in e.value.problems} == {"kind", "radius_m", "country"}


def test_csv_without_positions(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("name,country\nA,DE\n")
    with pytest.raises(ValidationError, match="lat, lon"):
        sv.import_sensitive(p)


def test_same_id_in_two_files(tmp_path):
    other = tmp_path / "again.csv"
    other.write_text((DATA / "sites.csv").read_text())
    with pytest.raises(ValidationError) as e:
        sv.import_sensitive([DATA / "sites.csv", other])
    p = e.value.problems[0]
    assert p.file == str(other) and p.line == 2 and "sites.csv at line 2" in p.reason
    assert len(e.value.problems) == 4


# --- GeoJSON ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def areas() -> pd.DataFrame:
    return sv.import_sensitive(DATA / "areas.geojson").tables["sensitive_sites"].set_index("name")


def test_geojson_points_keep_their_radius(areas):
    p = areas.loc["Test embassy (point)"]
    assert (p["sensitive_id"], p["kind"], p["radius_m"], p["lat"], p["lon"]) == \
        ("embassy-point", "diplomatic", 750.0, 52.5163, 13.3777)
    assert pd.isna(p["geometry"])
    assert areas.loc["Italian site", "radius_m"] == 5000


def test_polygon_points_are_inside(areas):
    # Square 0..4: centroid (2, 2).
    x, y = units(areas.loc["Square base", "lat"], areas.loc["Square base", "lon"])
    assert (x, y) == pytest.approx((2, 2), abs=1e-6)
    # Square 10..14 with a hole 11..13: the centroid (12, 2) is in the hole; the point must not be.
    x, y = units(areas.loc["Base with a hole", "lat"], areas.loc["Base with a hole", "lon"])
    assert 0 < y < 4 and (10 < x < 11 or 13 < x < 14)
    # U shape 20..23 open at the top between x 21 and 22: centroid (21.5, 1.357) is in the gap.
    x, y = units(areas.loc["U-shaped depot", "lat"], areas.loc["U-shaped depot", "lon"])
    assert y == pytest.approx(9.5 / 7, abs=1e-3)
    assert 20 < x < 21 or 22 < x < 23
    # MultiPolygon: the point lies in the larger part (33..37).
    x, y = units(areas.loc["Two-part range", "lat"], areas.loc["Two-part range", "lon"])
    assert 33 < x < 37 and 0 < y < 4


def test_polygon_radius_encloses_the_area(areas):
    row = areas.loc["Square base"]
    corners = [(LAT0 + j * U, LON0 + i * U) for i in (0, 4) for j in (0, 4)]
    far = max(haversine_m(row["lat"], row["lon"], la, lo) for la, lo in corners)
    assert row["radius_m"] == math.ceil(far)


def test_polygon_geometry_is_stored_as_geojson(areas):
    src = json.loads((DATA / "areas.geojson").read_text())
    geom = json.loads(areas.loc["Base with a hole", "geometry"])
    assert geom == src["features"][2]["geometry"]
    multi = json.loads(areas.loc["Two-part range", "geometry"])
    assert multi["type"] == "MultiPolygon" and len(multi["coordinates"]) == 2
    assert areas.loc["Two-part range", "source"] == "hand-drawn"
    assert areas.loc["Square base", "weight"] == 3


def test_bad_geojson_features_are_named():
    with pytest.raises(ValidationError) as e:
        sv.import_sensitive(DATA / "bad.geojson")
    probs = e.value.problems
    assert [p.line for p in probs] == [1, 2, 3, 4, 5]
    for n, (p, words) in enumerate(zip(probs, ["self-intersecting", "not closed", "latitude 95",
                                               "no geometry", "not supported"]), 1):
        assert p.reason.startswith(f"feature {n}") and words in p.reason, p.reason


def test_empty_feature_collection():
    with pytest.raises(ValidationError, match="no features"):
        sv.import_sensitive(DATA / "empty.geojson")


def test_not_json_and_not_geojson(tmp_path):
    broken = tmp_path / "a.geojson"
    broken.write_text('{"type": "FeatureCollection",\n "features": [}\n')
    with pytest.raises(ValidationError) as e:
        sv.import_sensitive(broken)
    assert (e.value.problems[0].line, e.value.problems[0].column) == (2, 15)
    other = tmp_path / "b.json"
    other.write_text('{"type": "Topology"}')
    with pytest.raises(ValidationError, match="FeatureCollection or Feature"):
        sv.import_sensitive(other)


def _feature(geometry, **props) -> dict:
    return {"type": "Feature", "properties": {"name": "x", **props}, "geometry": geometry}


def _write(tmp_path, *features) -> Path:
    p = tmp_path / "f.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return p


def test_hole_outside_its_polygon(tmp_path):
    outer = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    hole = [[5, 5], [5, 6], [6, 6], [5, 5]]
    p = _write(tmp_path, _feature({"type": "Polygon", "coordinates": [outer, hole]}))
    with pytest.raises(ValidationError, match="hole 1 lies .*outside its shell"):
        sv.import_sensitive(p)


def test_feature_values_checked_by_the_schema_name_the_feature(tmp_path):
    p = _write(tmp_path, _feature({"type": "Point", "coordinates": [7.6, 49.4]}, name="a", kind="base"),
               _feature({"type": "Point", "coordinates": [7.6, 49.4]}, name="b", radius_m="far"))
    with pytest.raises(ValidationError) as e:
        sv.import_sensitive(p)
    assert [(q.line, q.column) for q in e.value.problems] == [(1, "kind"), (2, "radius_m")]
    assert e.value.problems[1].reason.startswith("feature 2: ")


# --- the geometry checks on their own (the package's one validator, cleanpath.geo) --------------

def _polygon(*pts) -> dict:
    return {"type": "Polygon", "coordinates": [[list(p) for p in pts] + [list(pts[0])]]}


def test_self_intersection_cases():
    from cleanpath.geo import parse_area
    from cleanpath.geo.geometry import GeometryError

    parse_area(_polygon((0, 0), (4, 0), (4, 4), (0, 4)))
    with pytest.raises(GeometryError, match=r"self-intersecting\) at lon 1, lat 1"):
        parse_area(_polygon((0, 0), (2, 2), (2, 0), (0, 2)))  # a bow-tie
    # A figure eight through one shared vertex touches itself.
    with pytest.raises(GeometryError, match="self-intersecting"):
        parse_area(_polygon((0, 0), (2, 0), (1, 1), (2, 2), (0, 2), (1, 1)))
    # An edge that folds back on the previous one (a spike).
    with pytest.raises(GeometryError, match="self-intersecting"):
        parse_area(_polygon((0, 0), (2, 0), (2, 2), (2, 1.5), (0, 2)))
    # A pentagram crosses itself; a regular 1000-gon does not.
    star = [(math.cos(math.radians(90 + 144 * k)), math.sin(math.radians(90 + 144 * k))) for k in range(5)]
    with pytest.raises(GeometryError, match="self-intersecting"):
        parse_area(_polygon(*star))
    t = np.linspace(0, 2 * np.pi, 1000, endpoint=False)
    parse_area(_polygon(*zip(np.cos(t), np.sin(t))))


