"""One geometry everywhere: a polygon across the 180th meridian and its cut-at-180 MultiPolygon give
the same answers in every question that uses geometry, and bad geometry is refused at import.

The reproduction (issue 11): a sensitive-site polygon crossing the antimeridian as an uncut ring.
Exposure read it right; clean-path, outage and the audit's near/inside scopes read it as the band
round the rest of the world. Here small hand-made networks around Fiji, with decoy cells on the
same latitudes elsewhere on the globe, are asked each question with the uncut ring and with the
cut MultiPolygon; answers must be equal and must match independent oracles (ray casting on
unwrapped longitudes, sampled edge distances).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cleanpath
from cleanpath.analysis.audit import audit_network
from cleanpath.analysis.clean_path import run_clean_path
from cleanpath.analysis.exposure import run_exposure
from cleanpath.analysis.outage import run_outage
from cleanpath.analysis.service import Coverage
from cleanpath.errors import ValidationError
from cleanpath.geo import PointIndex, parse_area
from cleanpath.io.sensitive import import_sensitive
from cleanpath.policy.loader import load_policy
from cleanpath.store.ingest import ingest
from oracles import cut_at_antimeridian, edge_distance_m, inside_polygons, wrap

CITE = "{instrument: Test Act, date: 2020-01-01, url: https://example.org/act}"

# A quadrilateral round the antimeridian near Fiji, longitudes written continuously (past 180).
FIJI = [[[179.5, -16.5], [180.5, -16.3], [180.4, -17.5], [179.4, -17.4], [179.5, -16.5]]]


def uncut(polygon) -> dict:
    """The RFC 7946-legal uncut ring: longitudes wrapped, so one edge jumps from 179.x to -179.x."""
    return {"type": "Polygon", "coordinates": [[[float(wrap(x)), y] for x, y in r] for r in polygon]}


# --- the network ----------------------------------------------------------------------------------

def network(geometry: dict, cells: list[tuple[float, float, str]], name: str = "fiji") -> cleanpath.Network:
    """One operator: each cell a radio and a router, linked to a data centre near Suva (UPF, gateway).

    ``cells`` are (lat, lon, radio vendor). The sensitive site is the polygon ``geometry``.
    """
    sites = [{"site_id": "dc", "operator_id": "op", "kind": "core_dc", "lat": -18.1, "lon": 178.44,
              "subscribers": 0}]
    els = [{"element_id": "dcr", "site_id": "dc", "role": "transport.router", "vendor": "ericsson"},
           {"element_id": "upf", "site_id": "dc", "role": "core.upf", "vendor": "ericsson"},
           {"element_id": "gw", "site_id": "dc", "role": "gateway.internet", "vendor": "ericsson"}]
    links = [("dcr", "upf", "transport"), ("dcr", "gw", "transport")]
    for k, (lat, lon, vendor) in enumerate(cells):
        s = f"c{k:02d}"
        sites.append({"site_id": s, "operator_id": "op", "kind": "cell", "lat": lat, "lon": lon,
                      "subscribers": 100})
        els += [{"element_id": f"r{k:02d}", "site_id": s, "role": "ran.radio", "vendor": vendor,
                 "generation": "4G"},
                {"element_id": f"t{k:02d}", "site_id": s, "role": "transport.router", "vendor": "ericsson"}]
        links += [(f"r{k:02d}", f"t{k:02d}", "transport"), (f"t{k:02d}", "dcr", "transport")]
    tables = {
        "operators": pd.DataFrame({"operator_id": ["op"], "name": ["Op"], "country": ["FJ"]}),
        "sites": pd.DataFrame(sites),
        "elements": pd.DataFrame(els),
        "links": pd.DataFrame(links, columns=["a", "b", "kind"]),
        "sensitive_sites": pd.DataFrame([{"sensitive_id": "base", "name": "Base", "kind": "military",
                                          "lat": -17.0, "lon": 180.0, "radius_m": 5000.0,
                                          "geometry": json.dumps(geometry)}]),
    }
    return cleanpath.Network(tables, name=name)


#: Inside the polygon on both sides of 180 and on it; just outside; and decoys on the same
#: latitudes round the world (inside the "band" the old planar reading made of the polygon).
CELLS = [(-17.0, 179.8, "huawei"), (-16.9, -179.8, "ericsson"), (-17.1, 180.0, "huawei"),
         (-18.0, 179.9, "ericsson"), (-16.25, -179.9, "zte"),
         (-17.0, 0.0, "ericsson"), (-16.9, 10.0, "huawei"), (-17.0, -90.0, "nokia")]


def yaml_geometry(geometry: dict) -> str:
    """GeoJSON as YAML flow text with plain decimals (YAML 1.1 reads ``1e-05`` as a string)."""
    def fmt(v):
        return "[" + ", ".join(fmt(x) for x in v) + "]" if isinstance(v, list) else f"{float(v):.12f}"
    return f"{{type: {geometry['type']}, coordinates: {fmt(geometry['coordinates'])}}}"


def answers(net: cleanpath.Network, geometry: dict) -> dict:
    """Every geometry-dependent answer, in comparable form."""
    cov = Coverage.of(net)
    cp = run_clean_path(net, untrusted={"huawei", "zte"}).tables["clean_path"]
    cp = cp.drop(columns=[c for c in cp.columns if c in ("seconds",)])
    cp = cp.astype(object).where(cp.notna(), None).to_dict("records")  # NaN != NaN: compare as None
    region = run_outage(net, region=json.dumps(geometry))
    exp = run_exposure(net, untrusted=["huawei", "zte"]).tables["exposure"].iloc[0]
    pol = load_policy("g.yaml", text=f"""
pack: geo-test
title: geometry
jurisdiction: [FJ]
rules:
  - {{id: near, kind: forbid, title: t, vendors: {{ids: [huawei, zte]}}, scope: {{near: {{kind: [military]}}}}, citation: {CITE}}}
  - {{id: near20, kind: forbid, title: t, vendors: {{ids: [huawei, zte]}},
     scope: {{near: {{kind: [military], radius_m: 20000}}}}, citation: {CITE}}}
  - {{id: inside, kind: forbid, title: t, vendors: {{ids: [huawei, zte]}},
     scope: {{inside: {yaml_geometry(geometry)}}}, citation: {CITE}}}
""")
    f = audit_network(net, policies=[pol], as_of=dt.date(2024, 1, 1)).tables["findings"]
    return {
        "coverage": sorted(zip(cov.row.tolist(), net.elements["element_id"].to_numpy()[cov.col].tolist())),
        "clean_path": cp,
        "outage": {k: v for k, v in region.summary.items() if "second" not in k},
        "outage_lost": sorted(map(str, region.tables[next(iter(region.tables))].iloc[:, 0].tolist())),
        "exposure": (int(exp["sites_within"]), int(exp["elements_within"]), int(exp["untrusted_elements_within"]),
                     exp["nearest_untrusted_id"]),
        "nearest_m": float(exp["nearest_untrusted_m"]),
        "findings": sorted(zip(f["rule_id"].astype(str), f["finding_id"].astype(str))),
    }


def test_the_reproduction_antimeridian_polygon_is_the_area_not_the_band():
    net_u = network(uncut(FIJI), CELLS)
    net_c = network(cut_at_antimeridian(FIJI), CELLS)
    a, b = answers(net_u, uncut(FIJI)), answers(net_c, cut_at_antimeridian(FIJI))
    nearest_u, nearest_c = a.pop("nearest_m"), b.pop("nearest_m")
    assert a == b
    assert nearest_u == pytest.approx(nearest_c, abs=0.1)
    # Coverage: exactly the three radios inside (r00 and r02 on the west side and on 180, r01 east).
    assert [e for _r, e in a["coverage"]] == ["r00", "r01", "r02"]
    # Clean path: the clean radio inside (r01, Ericsson) is the witness, not a decoy 19,000 km away.
    row = a["clean_path"][0]
    assert row["clean"] and row["witness"][0] == "r01"
    # Exposure counts the three inside cells; the nearest untrusted is inside (distance 0).
    assert a["exposure"][:3] == (3, 6, 2) and nearest_u == 0.0
    # Audit: near (the polygon) finds the two Huawei radios inside; near 20 km adds the ZTE one
    # just outside; inside (the same polygon) finds the two; no decoy anywhere.
    by_rule = {r: sorted(fid.split("/")[2] for rr, fid in a["findings"] if rr == r) for r in ("near", "near20", "inside")}
    assert by_rule == {"near": ["r00", "r02"], "near20": ["r00", "r02", "r04"], "inside": ["r00", "r02"]}


def test_polygon_sites_measure_nearest_untrusted_from_the_edge():
    """A polygon site with no untrusted equipment inside: the distance is to its edge."""
    cells = [(-16.9, -179.8, "ericsson"), (-18.0, 179.9, "huawei"), (-17.0, 0.0, "huawei")]
    exp = run_exposure(network(uncut(FIJI), cells), untrusted=["huawei"]).tables["exposure"].iloc[0]
    want = edge_distance_m([-18.0], [179.9], [FIJI])[0]
    assert exp["nearest_untrusted_id"] == "c01"
    assert exp["nearest_untrusted_m"] == pytest.approx(want, abs=0.1)


# --- the property -----------------------------------------------------------------------------------

@st.composite
def crossing_quads(draw):
    """Convex quadrilaterals across 180 (continuous longitudes), with an optional hole on one side."""
    west = draw(st.floats(178.0, 179.9))
    east = draw(st.floats(180.1, 182.0))
    south = draw(st.floats(-60.0, 58.0))
    north = south + draw(st.floats(0.2, 2.0))
    j = [draw(st.floats(-0.05, 0.05)) for _ in range(8)]
    shell = [[west + j[0], south + j[1]], [east + j[2], south + j[3]], [east + j[4], north + j[5]],
             [west + j[6], north + j[7]]]
    shell.append(shell[0])
    poly = [shell]
    if draw(st.booleans()):
        side = draw(st.sampled_from(["w", "e"]))
        x0 = (west + 0.1) if side == "w" else 180.05
        x1 = min(179.95, x0 + 0.1) if side == "w" else min(east - 0.1, 180.2)
        if x1 > x0 + 0.01:
            y0, y1 = south + 0.1 * (north - south) + 0.06, north - 0.1 * (north - south) - 0.06
            if y1 > y0:
                poly.append([[x0, y0], [x0, y1], [x1, y1], [x1, y0], [x0, y0]])
    return poly


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(crossing_quads(), st.integers(0, 2**32 - 1))
def test_point_in_polygon_and_edge_distance_agree_cut_or_uncut(poly, seed):
    a, b = parse_area(uncut(poly)), parse_area(cut_at_antimeridian(poly))
    rng = np.random.default_rng(seed)
    ys = [p[1] for p in poly[0]]
    lat = rng.uniform(min(ys) - 0.5, max(ys) + 0.5, 400)
    lon = rng.uniform(177.5, 182.5, 400)
    lat = np.r_[lat, np.clip(lat[:20], -90, 90)]
    lon = np.r_[lon, np.full(20, 180.0)]  # on the meridian itself
    da, db = a.distance_m(lat, wrap(lon)), b.distance_m(lat, wrap(lon))
    np.testing.assert_allclose(da, db, atol=0.1)  # both follow the lon/lat edges to 5 cm
    clear = (da > 0.5) | (da == 0)  # away from the boundary, where rounding of the cut decides
    ia, ib = a.contains(lat, wrap(lon)), b.contains(lat, wrap(lon))
    np.testing.assert_array_equal(ia[clear], ib[clear])
    np.testing.assert_array_equal(ia[clear], inside_polygons(lat, lon, [poly])[clear])
    assert ((da == 0) == ia).all()
    # the radius index finds the same points through either geometry
    idx = PointIndex(lat, wrap(lon))
    na, nb = idx.near_area(a), idx.near_area(b)
    assert set(na[clear[na]]) == set(nb[clear[nb]])


@settings(max_examples=8, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(crossing_quads(), st.integers(0, 2**32 - 1))
def test_every_question_agrees_cut_or_uncut(poly, seed):
    rng = np.random.default_rng(seed)
    ys = [p[1] for p in poly[0]]
    n = 10
    lat = rng.uniform(min(ys) - 0.3, max(ys) + 0.3, n)
    lon = wrap(rng.uniform(178.0, 182.0, n))
    vendors = rng.choice(["huawei", "ericsson", "zte", "nokia"], n)
    # decoys round the world on the same latitudes
    cells = [(float(y), float(x), str(v)) for y, x, v in zip(lat, lon, vendors)]
    cells += [(float(lat[0]), 0.0, "ericsson"), (float(lat[1]), -100.0, "huawei")]
    d = parse_area(uncut(poly)).distance_m(np.array([c[0] for c in cells]), np.array([c[1] for c in cells]))
    if ((d > 0) & (d < 1.0)).any():
        return  # a cell within a metre of the edge: the cut's rounding may decide it either way
    a = answers(network(uncut(poly), cells), uncut(poly))
    b = answers(network(cut_at_antimeridian(poly), cells), cut_at_antimeridian(poly))
    assert a.pop("nearest_m") == pytest.approx(b.pop("nearest_m"), abs=0.1, nan_ok=True)
    assert a == b
    # and both match the oracle: covered radios are exactly the cells inside by ray casting
    inside = inside_polygons([c[0] for c in cells], [c[1] + 360 if c[1] < 0 else c[1] for c in cells], [poly])
    assert [e for _r, e in a["coverage"]] == [f"r{k:02d}" for k in np.flatnonzero(inside)]


# --- bad geometry at import ---------------------------------------------------------------------------

BAD = {
    "wkt": ("POLYGON((0 0, 1 0, 1 1, 0 0))", "WKT, not GeoJSON"),
    "garbage": ("round the back of the hangar", "not valid JSON"),
    "bowtie": (json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
               "self-intersecting"),
    "unclosed": (json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}), "not closed"),
}


def nothing_landed(ws) -> bool:
    return all(len(ws.network(s.name).sensitive_sites) == 0 for s in ws.snapshots())


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_geometry_in_a_sensitive_csv_names_file_line_column_value(tmp_path, workspace, kind):
    text, reason = BAD[kind]
    f = tmp_path / "sites.csv"
    pd.DataFrame({"sensitive_id": ["ok", "bad"], "name": ["Ok", "Bad"], "lat": [1.0, 0.5], "lon": [1.0, 0.5],
                  "geometry": [None, text]}).to_csv(f, index=False)
    with pytest.raises(ValidationError) as e:
        import_sensitive([f])
    p = e.value.problems[0]
    assert (p.file, p.line, p.column) == (str(f), 3, "geometry") and reason in p.reason and p.value
    with pytest.raises(ValidationError):
        ingest(workspace, "sensitive", [f])
    assert nothing_landed(workspace)


@pytest.mark.parametrize("kind", ["bowtie", "unclosed"])
def test_bad_geometry_in_a_sensitive_geojson_names_the_feature(tmp_path, workspace, kind):
    text, reason = BAD[kind]
    f = tmp_path / "sites.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "ok"}, "geometry": {"type": "Point", "coordinates": [1, 1]}},
        {"type": "Feature", "properties": {"name": "bad"}, "geometry": json.loads(text)}]}))
    with pytest.raises(ValidationError) as e:
        ingest(workspace, "sensitive", [f])
    p = e.value.problems[0]
    assert (p.file, p.line, p.column) == (str(f), 2, "geometry") and reason in p.reason
    assert p.reason.startswith("feature 2") and p.value
    assert nothing_landed(workspace)


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_geometry_in_interchange_tables_is_refused(tmp_path, workspace, kind):
    """The interchange format (a directory of table CSVs) goes through the same validator."""
    text, reason = BAD[kind]
    d = tmp_path / "net"
    d.mkdir()
    pd.DataFrame({"operator_id": ["op"], "name": ["Op"], "country": ["FJ"]}).to_csv(d / "operators.csv", index=False)
    pd.DataFrame({"sensitive_id": ["ok", "bad"], "name": ["Ok", "Bad"], "kind": "military", "lat": [1.0, 0.5],
                  "lon": [1.0, 0.5], "geometry": [json.dumps(uncut(FIJI)), text]}).to_csv(
        d / "sensitive_sites.csv", index=False)
    with pytest.raises(ValidationError) as e:
        ingest(workspace, "tables", [d])
    p = e.value.problems[0]
    assert p.line == 3 and p.column == "geometry" and reason in p.reason and "sensitive_sites" in str(p.file)
    assert nothing_landed(workspace)


def test_good_csv_geometry_fills_a_missing_position(tmp_path):
    f = tmp_path / "sites.csv"
    pd.DataFrame({"name": ["Fiji"], "country": ["FJ"], "lat": [None], "lon": [None],
                  "geometry": [json.dumps(uncut(FIJI))]}).to_csv(f, index=False)
    ss = import_sensitive([f]).tables["sensitive_sites"]
    lat, lon = float(ss["lat"].iloc[0]), float(ss["lon"].iloc[0])
    assert parse_area(uncut(FIJI)).contains([lat], [lon])[0]
