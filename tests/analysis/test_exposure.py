"""The exposure question: hand-built networks with known answers, brute-force haversine on random
networks and cell files (antimeridian, poles, polygons with holes), real data from shared/data,
the executors (processes, a real Dask LocalCluster) agreeing with the local run, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import cleanpath
from cleanpath.analysis.exposure import exposure_geojson, run_exposure, select_sensitive
from cleanpath.errors import ValidationError
from cleanpath.geo import destination
from cleanpath.model.network import Network
from cleanpath.model.vendors import default_untrusted
from conftest import INSTALLATIONS, TOPOLOGYZOO
from oracles import chord_distance_m, edge_distance_m, ray_cast

R = 10_000.0


# -- a hand-built network with known answers -------------------------------------------------------

def _at(lat, lon, bearing, dist):
    a, b = destination(lat, lon, bearing, dist)
    return float(a), float(b)


def known_network() -> Network:
    """Base X at (50, 8) with a 10 km radius; sites at 5, 9.999, exactly 10, 10.01 and 3 km."""
    a = _at(50, 8, 0, 5000)
    b = _at(50, 8, 90, 9999)
    c = _at(50, 8, 200, R)          # exactly on the circle: inside
    d = _at(50, 8, 300, R + 10)     # 10 m beyond: outside
    e = _at(50, 8, 45, 3000)        # a site with no elements still counts
    sites = pd.DataFrame({
        "site_id": ["A", "B", "C", "D", "E", "F"],
        "operator_id": ["op1", "op2", "op1", "op1", "op2", "op1"],
        "kind": "cell",
        "lat": [a[0], b[0], c[0], d[0], e[0], None],
        "lon": [a[1], b[1], c[1], d[1], e[1], None],
    })
    elements = pd.DataFrame({
        "element_id": ["a1", "a2", "a3", "b1", "c1", "d1", "f1"],
        "site_id": ["A", "A", "A", "B", "C", "D", "F"],
        "role": ["ran.radio", "ran.baseband", "ran.radio", "ran.radio", "ran.radio", "ran.radio", "ran.radio"],
        "vendor": ["HUAWEI", "Huawei Technologies Co., Ltd.", "Ericsson", "ZTE", "Nokia", "huawei", "zte"],
        "generation": ["4G", "4G", "5G-NSA", "4G", "2G", "4G", "4G"],
    })
    ops = pd.DataFrame({"operator_id": ["op1", "op2"], "name": ["One", "Two"], "country": ["DE", "DE"]})
    sens = pd.DataFrame({"sensitive_id": ["X", "Y"], "name": ["Base X", "Far away"], "kind": ["military", "diplomatic"],
                         "lat": [50.0, -40.0], "lon": [8.0, 100.0], "radius_m": [R, 5000.0]})
    return Network({"operators": ops, "sites": sites, "elements": elements, "sensitive_sites": sens}, name="known")


def test_known_network_counts_breakdowns_and_nearest():
    res = run_exposure(known_network())
    ex = res.tables["exposure"].set_index("sensitive_id")
    x = ex.loc["X"]
    assert (x.sites_within, x.elements_within, x.untrusted_elements_within) == (4, 5, 3)
    assert x.untrusted_share == pytest.approx(3 / 5)
    assert x.nearest_untrusted_id == "A" and x.nearest_untrusted_m == pytest.approx(5000, abs=1e-6)
    # Y, in the Indian Ocean, has nothing around; its nearest untrusted site is D (west of X).
    y = ex.loc["Y"]
    assert (y.sites_within, y.elements_within, y.untrusted_elements_within) == (0, 0, 0)
    assert np.isnan(y.untrusted_share)
    d_lat, d_lon = known_network().sites.set_index("site_id").loc["D", ["lat", "lon"]]
    dists = {s: float(chord_distance_m(-40, 100, la, lo)) for s, la, lo in
             zip("ABD", *known_network().sites.set_index("site_id").loc[list("ABD"), ["lat", "lon"]].to_numpy().T)}
    assert y.nearest_untrusted_id == min(dists, key=dists.get)
    assert y.nearest_untrusted_m == pytest.approx(min(dists.values()), rel=1e-9)
    vend = res.tables["by_vendor"]
    assert vend[vend.sensitive_id == "X"][["vendor", "untrusted", "elements", "sites"]].values.tolist() == [
        ["huawei", True, 2, 1], ["ericsson", False, 1, 1], ["nokia", False, 1, 1], ["zte", True, 1, 1]]
    ops = res.tables["by_operator"].set_index("operator_id")
    assert ops.loc["op1", ["elements", "untrusted_elements", "sites"]].tolist() == [4, 2, 2]
    assert ops.loc["op2", ["elements", "untrusted_elements", "sites"]].tolist() == [1, 1, 2]  # B and the empty E
    gen = res.tables["by_generation"].set_index("generation")
    assert gen.loc["4G", ["elements", "untrusted_elements", "sites"]].tolist() == [3, 3, 2]
    assert gen.loc["5G-NSA", "elements"] == 1 and gen.loc["2G", "elements"] == 1
    assert res.summary["sites_without_position"] == 1 and res.summary["with_untrusted_within"] == 1
    loc = res.tables["locations"].set_index("sensitive_id")
    assert loc.loc["X", "area"] == "circle" and loc.loc["X", "nearest_untrusted_lat"] == pytest.approx(
        known_network().sites.set_index("site_id").loc["A", "lat"])


def test_no_sites_to_look_around_and_no_equipment_give_empty_answers():
    net = known_network()
    res = run_exposure(net, sensitive=net.sensitive_sites.iloc[0:0])
    assert all(len(t) == 0 for t in res.tables.values())
    assert "nearest_untrusted_m" in res.tables["exposure"] and res.summary["sensitive_sites"] == 0
    bare = Network({"operators": net.operators, "sites": net.sites, "sensitive_sites": net.sensitive_sites})
    ex = run_exposure(bare).tables["exposure"].set_index("sensitive_id")
    assert ex.loc["X", "sites_within"] == 4 and ex.loc["X", "elements_within"] == 0
    assert ex.nearest_untrusted_m.isna().all() and ex.nearest_untrusted_id.isna().all()


def test_radius_override_breakdown_choice_and_untrusted_spellings():
    net = known_network()
    res = run_exposure(net, radius_m=4000, by=["generation"], untrusted=["Telefonaktiebolaget LM Ericsson"])
    x = res.tables["exposure"].set_index("sensitive_id").loc["X"]
    assert (x.sites_within, x.elements_within) == (1, 0)  # only the empty site E at 3 km
    assert set(res.tables) == {"exposure", "by_generation", "locations"}
    res = run_exposure(net, untrusted=["Ericsson"], by=())
    x = res.tables["exposure"].set_index("sensitive_id").loc["X"]
    assert x.untrusted_elements_within == 1 and x.nearest_untrusted_id == "A"
    assert res.params["untrusted"] == ["ericsson"]
    with pytest.raises(ValidationError, match="unknown breakdown"):
        run_exposure(net, by=["colour"])
    with pytest.raises(ValidationError, match="radius"):
        run_exposure(net, radius_m=-5)
    with pytest.raises(ValidationError, match="memory limit"):
        run_exposure(net, memory_limit="lots")
    assert run_exposure(net, memory_limit="512MiB").tables["exposure"].elements_within.tolist() == [5, 0]


# -- random networks against brute force -----------------------------------------------------------

POLY_HOLE = [[[10, 50], [12, 50], [12, 52], [10, 52], [10, 50]],
             [[10.5, 50.5], [11.5, 50.5], [11.5, 51.5], [10.5, 51.5], [10.5, 50.5]]]
FIJI = [[[178.5, -16], [-179.5, -16], [-179.5, -18.5], [178.5, -18.5], [178.5, -16]]]


def random_network(seed: int = 11, n_sites: int = 6000) -> Network:
    rng = np.random.default_rng(seed)
    centres = [(0, 179.99), (12, -179.995), (89.97, 30), (-89.9, -120), (70, 179.8), (51, 11), (-17, 179.5),
               (48.1, 11.6), (40, -3.7)]
    lat, lon = [rng.uniform(-90, 90, 1000)], [rng.uniform(-180, 180, 1000)]
    per = (n_sites - 1000) // len(centres)
    for la, lo in centres:
        a, b = destination(np.full(per, la), np.full(per, lo), rng.uniform(0, 360, per),
                           rng.uniform(0, 150_000, per))
        lat.append(a), lon.append(b)
    lat, lon = np.concatenate(lat), np.concatenate(lon)
    n = lat.size
    sites = pd.DataFrame({"site_id": [f"s{i:05d}" for i in range(n)], "operator_id": rng.choice(["o1", "o2", "o3"], n),
                          "kind": "cell", "lat": lat, "lon": lon})
    ne = 3 * n
    elements = pd.DataFrame({"element_id": [f"e{i}" for i in range(ne)],
                             "site_id": sites.site_id.to_numpy()[rng.integers(0, n, ne)],
                             "role": "ran.radio",
                             "vendor": rng.choice(["huawei", "ericsson", "nokia", "zte", "samsung"], ne,
                                                  p=[0.15, 0.4, 0.35, 0.05, 0.05]),
                             "generation": rng.choice(["2G", "4G", "5G-NSA"], ne)})
    zl = [0, 12, 89.99, -89.95, 70, 48.1, 40.0, -33.0]
    zo = [-180, 179.999, -150, 60, -179.9, 11.6, -3.7, 151.0]
    zr = [20_000, 30_000, 50_000, 100_000, 40_000, 5_000, 0, 10_000]
    sens = pd.DataFrame({"sensitive_id": [f"z{i}" for i in range(len(zl))] + ["poly", "fiji"],
                         "name": "z", "kind": "military", "lat": zl + [51.0, -17.0], "lon": zo + [11.0, 179.5],
                         "radius_m": zr + [5000.0, 5000.0],
                         "geometry": [None] * len(zl) + [json.dumps({"type": "Polygon", "coordinates": POLY_HOLE}),
                                                         json.dumps({"type": "Polygon", "coordinates": FIJI})]})
    ops = pd.DataFrame({"operator_id": ["o1", "o2", "o3"], "name": ["1", "2", "3"], "country": ["DE", "FR", "FJ"]})
    return Network({"operators": ops, "sites": sites, "elements": elements, "sensitive_sites": sens}, name="rnd")


def brute_force(net: Network) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per sensitive site: counts by brute-force distance (or ray casting), and by vendor."""
    s = net.sites
    lat = s.lat.to_numpy(dtype=float)
    lon = s.lon.to_numpy(dtype=float)
    bad = default_untrusted()
    el = net.elements.merge(s[["site_id"]].reset_index().rename(columns={"index": "row"}), on="site_id")
    el["bad"] = el.vendor.isin(bad)
    rows, vend = [], []
    for z in net.sensitive_sites.itertuples():
        if isinstance(z.geometry, str):
            rings = json.loads(z.geometry)["coordinates"]
            if z.sensitive_id == "fiji":
                rings = [[[x + 360 if x < 0 else x, y] for x, y in r] for r in rings]
                inside = np.array([ray_cast(x + 360 if x < 0 else x, y, rings) for x, y in zip(lon, lat)])
            else:
                inside = np.array([ray_cast(x, y, rings) for x, y in zip(lon, lat)])
        else:
            inside = chord_distance_m(z.lat, z.lon, lat, lon) <= z.radius_m + 1e-3
        e = el[inside[el.row.to_numpy()]]
        bad_sites = el[el.bad].row.unique()
        d = chord_distance_m(z.lat, z.lon, lat[bad_sites], lon[bad_sites])
        if isinstance(z.geometry, str):
            # A polygon site's nearest distance is measured from its edge, 0 inside.
            shift = z.sensitive_id == "fiji"
            blon = np.where(shift & (lon[bad_sites] < 0), lon[bad_sites] + 360, lon[bad_sites])
            d = np.where(inside[bad_sites], 0.0, edge_distance_m(lat[bad_sites], blon, [rings]))
        rows.append({"sensitive_id": z.sensitive_id, "sites_within": int(inside.sum()),
                     "elements_within": len(e), "untrusted_elements_within": int(e.bad.sum()),
                     "nearest_untrusted_m": d.min(),
                     # ties (several untrusted sites inside a polygon, all at 0) go to the first site
                     "nearest_untrusted_id": s.site_id.iloc[bad_sites[np.lexsort((bad_sites, d))[0]]]})
        for v, g in e.groupby("vendor"):
            vend.append({"sensitive_id": z.sensitive_id, "vendor": v, "elements": len(g), "sites": g.row.nunique()})
    return pd.DataFrame(rows), pd.DataFrame(vend)


@pytest.fixture(scope="module")
def rnd_net() -> Network:
    return random_network()


@pytest.fixture(scope="module")
def rnd_local(rnd_net):
    return run_exposure(rnd_net)


def test_random_network_equals_brute_force(rnd_net, rnd_local):
    exp, exp_vendor = brute_force(rnd_net)
    got = rnd_local.tables["exposure"]
    cols = ["sensitive_id", "sites_within", "elements_within", "untrusted_elements_within", "nearest_untrusted_id"]
    pd.testing.assert_frame_equal(got[cols].reset_index(drop=True), exp[cols], check_dtype=False)
    circle = got.area.eq("circle").to_numpy() if "area" in got else exp.sensitive_id.str.startswith("z").to_numpy()
    np.testing.assert_allclose(got.nearest_untrusted_m[circle], exp.nearest_untrusted_m[circle], rtol=1e-9, atol=1e-6)
    # polygons: the edge is followed to DENSIFY_TOL_M (5 cm)
    np.testing.assert_allclose(got.nearest_untrusted_m[~circle], exp.nearest_untrusted_m[~circle], atol=0.06)
    assert (exp.elements_within > 0).sum() >= 8  # the test exercises real counts, poles and both polygons
    gv = rnd_local.tables["by_vendor"][["sensitive_id", "vendor", "elements", "sites"]]
    merged = exp_vendor.merge(gv, on=["sensitive_id", "vendor"], how="outer", suffixes=("", "_got"))
    assert (merged.elements == merged.elements_got).all() and (merged.sites == merged.sites_got).all()


# -- cells from Parquet ----------------------------------------------------------------------------

def write_cells(path: Path, seed: int, n: int, *, lat0=50.0, lon0=8.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lat, lon = destination(np.full(n, lat0), np.full(n, lon0), rng.uniform(0, 360, n), rng.uniform(0, 40_000, n))
    df = pd.DataFrame({
        "radio": rng.choice(["GSM", "UMTS", "LTE", "NR", "CDMA"], n),
        "mcc": 262, "net": rng.choice([1, 2, 3], n), "area": rng.integers(1, 999, n),
        "cell": np.arange(n) + seed * 1_000_000, "unit": 0, "lon": lon, "lat": lat,
        "range": 1000, "samples": 5, "changeable": 1, "created": 1_600_000_000, "updated": 1_700_000_000,
        "averageSignal": 0,
        "vendor": rng.choice(["HUAWEI", "Ericsson AB", "Nokia", "ZTE Corporation", None], n),
    })
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=500)
    return df


def test_parquet_cells_equal_brute_force(tmp_path):
    a = write_cells(tmp_path / "a.parquet", 1, 3000)
    b = write_cells(tmp_path / "b.parquet", 2, 2000, lat0=50.1, lon0=8.2)
    cells = pd.concat([a, b], ignore_index=True)
    sens = pd.DataFrame({"sensitive_id": ["p", "q"], "name": ["P", "Q"], "kind": "military",
                         "lat": [50.05, 0.0], "lon": [8.1, 0.0], "radius_m": [8000.0, 1000.0],
                         "geometry": [None, None]})
    res = run_exposure(None, sensitive=sens, cells=[tmp_path / "a.parquet", tmp_path / "b.parquet"])
    d = chord_distance_m(50.05, 8.1, cells.lat.to_numpy(), cells.lon.to_numpy())
    inside = cells[d <= 8000 + 1e-3]
    bad = cells.vendor.isin(["HUAWEI", "ZTE Corporation"]).to_numpy()
    p = res.tables["exposure"].set_index("sensitive_id").loc["p"]
    assert (p.sites_within, p.elements_within) == (len(inside), len(inside))
    assert p.untrusted_elements_within == int(inside.vendor.isin(["HUAWEI", "ZTE Corporation"]).sum())
    k = np.flatnonzero(bad)[d[bad].argmin()]
    assert p.nearest_untrusted_m == pytest.approx(d[bad].min(), rel=1e-9)
    assert p.nearest_untrusted_id == f"{cells.radio[k]}-262-{cells.net[k]}-{cells.area[k]}-{cells.cell[k]}"
    q = res.tables["exposure"].set_index("sensitive_id").loc["q"]
    assert q.elements_within == 0 and q.nearest_untrusted_m > 5e6
    gen = res.tables["by_generation"].set_index("generation")["elements"].to_dict()
    radio = inside.radio.map({"GSM": "2G", "UMTS": "3G", "CDMA": "3G", "LTE": "4G", "NR": "5G-NSA"})
    assert gen == radio.value_counts().to_dict()
    ops = res.tables["by_operator"].set_index("operator_id")["elements"].to_dict()
    assert ops == {f"262-0{k}": v for k, v in inside.net.value_counts().items()}
    vend = res.tables["by_vendor"].set_index("vendor")
    assert vend.loc["huawei", "untrusted"] and not vend.loc["ericsson", "untrusted"]
    assert vend.loc["unknown", "elements"] == inside.vendor.isna().sum()


def test_bad_cell_files_are_clear_errors(tmp_path):
    df = write_cells(tmp_path / "bad.parquet", 3, 10)
    df.loc[2, "lat"] = 95.0
    df.loc[5, "lon"] = -181.0
    df.loc[7, "lat"] = np.nan  # written as a null
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp_path / "bad.parquet")
    pq.write_table(pa.Table.from_pandas(df.drop(columns="lon"), preserve_index=False), tmp_path / "nolon.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    sens = pd.DataFrame({"sensitive_id": ["p"], "name": ["P"], "kind": "military", "lat": [50.0], "lon": [8.0]})
    with pytest.raises(ValidationError) as e:
        run_exposure(None, sensitive=sens, cells=[tmp_path / "bad.parquet"])
    assert [(p.line, p.column, p.value) for p in e.value.problems] == [(3, "lat", "95.0"), (6, "lon", "-181.0"),
                                                                       (8, "lat", None)]
    assert e.value.problems[2].reason == "missing coordinate"
    with pytest.raises(ValidationError) as e:
        run_exposure(None, sensitive=sens, cells=[tmp_path / "nolon.parquet", tmp_path / "junk.parquet",
                                                  tmp_path / "missing.parquet"])
    msgs = [(Path(p.file).name, p.reason) for p in e.value.problems]
    assert msgs[0][0] == "nolon.parquet" and "no lon column" in msgs[0][1]
    assert msgs[1][0] == "junk.parquet" and "Parquet" in msgs[1][1]
    assert msgs[2] == ("missing.parquet", "file not found")


def test_bad_sensitive_geometry_names_the_row():
    net = known_network()
    sens = net.sensitive_sites.copy()
    sens["geometry"] = [json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
                        json.dumps({"type": "Polygon", "coordinates": []})]
    with pytest.raises(ValidationError) as e:
        run_exposure(net, sensitive=sens)
    assert [(p.line, p.column) for p in e.value.problems] == [(1, "geometry"), (2, "geometry")]
    assert "self-intersecting" in e.value.problems[0].reason and "empty" in e.value.problems[1].reason


def test_select_sensitive_by_kind_id_and_file(tmp_path):
    net = known_network()
    assert select_sensitive(net, ["military"]).sensitive_id.tolist() == ["X"]
    assert select_sensitive(net, ["Y", "military", "X"]).sensitive_id.tolist() == ["Y", "X"]
    assert len(select_sensitive(net, [])) == 2
    with pytest.raises(ValidationError, match="not a sensitive site id"):
        select_sensitive(net, ["nope"])
    from cleanpath.registry.files import read_sensitive_files

    files = read_sensitive_files([str(INSTALLATIONS)], face="cli")
    got = select_sensitive(None, [str(INSTALLATIONS)], files=files)
    assert len(got) > 20 and got.lat.between(-90, 90).all()
    with pytest.raises(ValidationError, match="reads no files"):
        read_sensitive_files([str(INSTALLATIONS)], face="rest")


# -- real data -------------------------------------------------------------------------------------

def test_real_installations_around_the_dfn_backbone(workspace):
    cleanpath.ingest(workspace, "topologyzoo", [TOPOLOGYZOO / "Dfn.gml"], country="DE", operator_id="dfn",
                     vendor="huawei")
    cleanpath.ingest(workspace, "sensitive", [INSTALLATIONS])
    net = workspace.network("main")
    res = run_exposure(net, radius_m=25_000)
    ex = res.tables["exposure"]
    sites = net.sites.dropna(subset=["lat", "lon"])
    counts = net.elements.groupby("site_id").size()
    for z in net.sensitive_sites.itertuples():
        d = chord_distance_m(z.lat, z.lon, sites.lat.to_numpy(float), sites.lon.to_numpy(float))
        within = sites[d <= 25_000 + 1e-3]
        row = ex[ex.sensitive_id == z.sensitive_id].iloc[0]
        assert row.sites_within == len(within)
        assert row.elements_within == int(counts.reindex(within.site_id).fillna(0).sum())
        assert row.nearest_untrusted_m == pytest.approx(d.min(), rel=1e-9)
    assert (ex.sites_within > 0).any()  # Ramstein, Stuttgart... sit near DFN points of presence


# -- executors agree -------------------------------------------------------------------------------

def _assert_same(a, b):
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, check_dtype=False)


def test_processes_executor_gives_the_same_tables(rnd_net, rnd_local):
    from cleanpath.scale import get_executor

    with get_executor("processes", workers=2) as ex:
        _assert_same(run_exposure(rnd_net, executor=ex), rnd_local)


def test_dask_local_cluster_gives_the_same_tables(rnd_net, rnd_local, tmp_path):
    """A real dask.distributed LocalCluster with 2 worker processes, partitioned by space; far
    zones (the poles, the ocean) need the second, global nearest search."""
    from cleanpath.scale import get_executor

    a = write_cells(tmp_path / "a.parquet", 1, 3000)
    sens = rnd_net.sensitive_sites.iloc[[5, 6, 0]]
    with get_executor("dask", workers=2) as ex:
        assert ex.workers == 2
        res = run_exposure(rnd_net, executor=ex)
        cells_dask = run_exposure(None, sensitive=sens, cells=[tmp_path / "a.parquet"], executor=ex)
    _assert_same(res, rnd_local)
    assert res.summary["executor"] == "dask"
    _assert_same(cells_dask, run_exposure(None, sensitive=sens, cells=[tmp_path / "a.parquet"]))
    assert len(a) == 3000


# -- map layer and CLI -----------------------------------------------------------------------------

def test_geojson_layer_cuts_circles_at_the_antimeridian_and_keeps_polygons(rnd_net, rnd_local):
    layer = exposure_geojson(rnd_local, rnd_net.sensitive_sites)
    assert layer["type"] == "FeatureCollection"
    areas = {f["properties"]["sensitive_id"]: f for f in layer["features"] if f["properties"]["layer"] == "sensitive"}
    assert set(areas) == set(rnd_net.sensitive_sites.sensitive_id)
    for f in areas.values():
        coords = np.array([p for part in (f["geometry"]["coordinates"] if f["geometry"]["type"] == "MultiPolygon"
                                          else [f["geometry"]["coordinates"]]) for ring in part for p in ring])
        assert np.abs(coords[:, 0]).max() <= 180 and np.abs(coords[:, 1]).max() <= 90
    assert areas["z0"]["geometry"]["type"] == "MultiPolygon"       # centred on -180
    assert areas["poly"]["geometry"]["coordinates"] == POLY_HOLE    # as given
    lines = [f for f in layer["features"] if f["properties"]["layer"] == "nearest_untrusted"]
    assert len(lines) == len(areas)


def _cli() -> click.Group:
    from cleanpath.cli.main import cli

    return cli


def _cli_run(ws: Path, *args: str):
    return CliRunner().invoke(_cli(), ["-w", str(ws), *args], catch_exceptions=False)


def test_cli_json_contract_geojson_and_errors(tmp_path):
    ws_path = tmp_path / "ws.duckdb"
    with cleanpath.open_workspace(ws_path) as ws:
        ws.write_network("main", known_network())
    out = tmp_path / "layer.geojson"
    r = _cli_run(ws_path, "exposure", "--sensitive", "X", "--radius", "10km", "--format", "json",
                 "--geojson", str(out))
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["question"] == "exposure"
    row = obj["tables"]["exposure"][0]
    assert {"sensitive_id", "sites_within", "elements_within", "untrusted_elements_within",
            "nearest_untrusted_m"} <= set(row)
    assert (row["sensitive_id"], row["sites_within"], row["untrusted_elements_within"]) == ("X", 4, 3)
    assert {"by_vendor", "by_operator", "by_generation"} <= set(obj["tables"])
    assert json.loads(out.read_text())["type"] == "FeatureCollection"
    r = _cli_run(ws_path, "exposure", "--radius", "5 parsecs")
    assert r.exit_code == 2 and "not a distance" in r.output
    r = _cli_run(ws_path, "exposure", "--by", "colour", "--format", "json")
    assert r.exit_code == 2 and json.loads(r.stdout)["error"] == "validation"
    r = _cli_run(ws_path, "exposure", "--executor", "local", "--scheduler", "tcp://x:1")
    assert r.exit_code == 2 and "scheduler" in r.output
    r = _cli_run(ws_path, "exposure", "--radius", "0.5mi", "--by", "none", "--format", "csv")
    assert r.exit_code == 0 and r.stdout.splitlines()[0].startswith("sensitive_id,name,kind,radius_m")
