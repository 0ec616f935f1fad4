"""OpenCelliD importer: grouping cells into sites, operators, bad input, speed.

The fixtures in tests/data/opencellid are synthetic (generate.py); their right grouping is known
by construction and recorded in truth.json, independently of the importer.
"""

from __future__ import annotations

import gzip
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from cleanpath.errors import ValidationError
from cleanpath.io import opencellid as oc
from cleanpath.io.registry import importer

DATA = Path(__file__).resolve().parents[1] / "data" / "opencellid"
DE, IT, BAD = DATA / "cells_de.csv", DATA / "cells_it.csv.gz", DATA / "bad.csv"
TRUTH = json.loads((DATA / "truth.json").read_text())
HEADER = "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal"
EARTH_R = 6_371_008.8


def line(radio, mcc, net, cell, lat, lon, *, area=1, samples=5, changeable=1) -> str:
    return f"{radio},{mcc},{net},{area},{cell},,{lon!r},{lat!r},1000,{samples},{changeable},1500000000,1500000000,0"


def write(tmp_path: Path, rows: list[str], name="cells.csv", header=True) -> Path:
    p = tmp_path / name
    p.write_text((HEADER + "\n" if header else "") + "\n".join(rows) + "\n")
    return p


def metres_north(lat: float, m: float) -> float:
    return lat + math.degrees(m / EARTH_R)


def haversine_m(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_R * math.asin(math.sqrt(h))


@pytest.fixture(scope="module")
def fixture_import():
    return oc.import_opencellid([DE, IT])


def _by_operator(imp) -> pd.DataFrame:
    el, sites = imp.tables["elements"], imp.tables["sites"]
    radios = el[el["role"] == "ran.radio"].merge(sites[["site_id", "operator_id"]], on="site_id")
    radios = radios.assign(cells=radios["model"].str.extract(r"^(\d+) cells?$")[0].astype(int))
    return radios


def test_registered():
    assert importer("opencellid") is oc.import_opencellid


def test_sites_and_generations_match_truth(fixture_import):
    sites = fixture_import.tables["sites"]
    radios = _by_operator(fixture_import)
    assert set(sites["operator_id"]) == set(TRUTH)
    for op, want in TRUTH.items():
        assert (sites["operator_id"] == op).sum() == want["sites"], op
        mine = radios[radios["operator_id"] == op]
        for gen in ("2G", "3G", "4G", "5G-NSA", "5G-SA"):
            assert (mine["generation"] == gen).sum() == want[gen], (op, gen)
        assert mine["cells"].sum() == want["cells"], op  # every cell counted once, none lost


def test_one_baseband_per_radio_with_fronthaul(fixture_import):
    el, links = fixture_import.tables["elements"], fixture_import.tables["links"]
    bb = el[el["role"] == "ran.baseband"].set_index(["site_id", "generation"])
    radio = el[el["role"] == "ran.radio"].set_index(["site_id", "generation"])
    assert sorted(bb.index) == sorted(radio.index)
    assert not bb.index.duplicated().any()
    transport = links[links["kind"] == "transport"]
    pairs = set(zip(transport["a"], transport["b"]))
    expected = set(zip(radio.loc[bb.index, "element_id"], bb["element_id"]))
    assert pairs == expected
    assert set(el["vendor"]) == {"unknown"}


def test_nsa_radios_anchor_on_the_sites_4g_baseband(fixture_import):
    el, links = fixture_import.tables["elements"], fixture_import.tables["links"]
    anchors = links[links["kind"] == "anchor"]
    ids = el.set_index("element_id")
    nsa = el[(el["generation"] == "5G-NSA") & (el["role"] == "ran.radio")]
    assert len(anchors) == len(nsa) == 4
    for a, b in zip(anchors["a"], anchors["b"]):
        assert ids.at[a, "generation"] == "5G-NSA" and ids.at[a, "role"] == "ran.radio"
        assert ids.at[b, "generation"] == "4G" and ids.at[b, "role"] == "ran.baseband"
        assert ids.at[a, "site_id"] == ids.at[b, "site_id"]
    sa = el[el["generation"] == "5G-SA"]
    assert not set(sa["element_id"]) & set(anchors["a"])


def test_networks_sharing_a_mast_and_enb_ids_stay_apart(fixture_import):
    sites = fixture_import.tables["sites"].set_index("site_id")
    tk, vf = sites.loc["262-01-enb100001"], sites.loc["262-02-enb100001"]
    assert tk["operator_id"] == "de-telekom" and vf["operator_id"] == "de-vodafone"
    assert haversine_m(tk["lat"], tk["lon"], vf["lat"], vf["lon"]) < 60  # same mast, two sites
    # Vodafone's GSM cells at Telekom's site-5 mast form their own site, not Telekom's.
    gsm = fixture_import.tables["elements"]
    vf_2g = gsm[(gsm["generation"] == "2G") & gsm["site_id"].str.startswith("262-02-")]
    assert len(vf_2g) == 2 and vf_2g["site_id"].str.contains("-cl").all()


def test_operators_named_from_the_table(fixture_import):
    ops = fixture_import.tables["operators"].set_index("operator_id")
    assert ops.at["de-telekom", "name"] == "Telekom" and ops.at["de-telekom", "country"] == "DE"
    assert (ops.at["de-telekom", "mcc"], ops.at["de-telekom", "mnc"]) == (262, 1)
    # 262-02 and 262-09 are both Vodafone: one operator, with its primary code.
    assert (ops.at["de-vodafone", "mcc"], ops.at["de-vodafone", "mnc"]) == (262, 2)
    assert ops.at["it-vodafone", "country"] == "IT"
    # Unknown MNC: kept, named mcc-mnc, country from its MCC; CDMA SID is no MNC.
    assert ops.at["262-99", "name"] == "262-99" and ops.at["262-99", "country"] == "DE"
    assert ops.at["311-4179", "country"] == "US" and pd.isna(ops.at["311-4179", "mnc"])
    warned = " ".join(fixture_import.warnings)
    assert "262-99 (2 cells)" in warned and "311-4179 (3 cells)" in warned
    assert "1 cell record(s) repeated" in warned


def test_positions_keep_lon_lat_order_and_exact_cells_win(fixture_import):
    sites = fixture_import.tables["sites"]
    de = sites[sites["operator_id"] == "de-telekom"]
    assert de["lat"].between(49.3, 49.6).all() and de["lon"].between(7.5, 7.95).all()
    exact = sites[sites["operator_id"] == "262-99"].iloc[0]
    t = TRUTH["262-99"]
    assert haversine_m(exact["lat"], exact["lon"], t["exact_lat"], t["exact_lon"]) < 0.5


def test_site_position_is_the_samples_weighted_mean(tmp_path):
    a = (50.0, 8.0)
    b = (metres_north(50.0, 40), 8.0005)
    p = write(tmp_path, [line("LTE", 262, 1, 500 * 256 + 1, *a, samples=1),
                         line("LTE", 262, 1, 500 * 256 + 2, *b, samples=3)])
    site = oc.import_opencellid(p).tables["sites"].iloc[0]
    lat = (a[0] * 1 + b[0] * 3) / 4
    lon = (a[1] * 1 + b[1] * 3) / 4
    assert site["lat"] == pytest.approx(lat, abs=2e-6) and site["lon"] == pytest.approx(lon, abs=2e-6)


def test_enb_and_gnb_ids_come_from_the_cell_identity(tmp_path):
    rows = [
        line("LTE", 262, 1, 7 * 256 + 0, 50.0, 8.0), line("LTE", 262, 1, 7 * 256 + 255, 50.0, 8.0),
        line("LTE", 262, 1, 8 * 256 + 1, 50.0, 8.0),             # eNB 8 on the same mast: own site
        line("NR", 262, 1, 9 * 4096 + 0, 51.0, 9.0), line("NR", 262, 1, 9 * 4096 + 4095, 51.0, 9.0),
        line("NR", 262, 1, 10 * 4096 + 1, 52.0, 10.0),
    ]
    imp = oc.import_opencellid(write(tmp_path, rows))
    sites = set(imp.tables["sites"]["site_id"])
    assert sites == {"262-01-enb7", "262-01-enb8", "262-01-gnb9", "262-01-gnb10"}
    gen = imp.tables["elements"].set_index("element_id")["generation"]
    assert gen["262-01-gnb9/5G-radio"] == "5G-SA"
    assert imp.tables["elements"].set_index("element_id").at["262-01-enb7/4G-radio", "model"] == "2 cells"


def test_gnb_joins_eNB_only_within_colocation_distance(tmp_path):
    near = metres_north(50.0, oc.COLOCATION_M * 0.5)
    far = metres_north(51.0, oc.COLOCATION_M * 2)
    rows = [line("LTE", 262, 1, 7 * 256 + 1, 50.0, 8.0), line("NR", 262, 1, 70 * 4096, near, 8.0),
            line("LTE", 262, 1, 8 * 256 + 1, 51.0, 8.0), line("NR", 262, 1, 80 * 4096, far, 8.0)]
    imp = oc.import_opencellid(write(tmp_path, rows))
    el = imp.tables["elements"].set_index("element_id")
    assert el.at["262-01-enb7/5G-radio", "generation"] == "5G-NSA"
    assert el.at["262-01-gnb80/5G-radio", "generation"] == "5G-SA"
    assert "262-01-gnb70" not in set(imp.tables["sites"]["site_id"])


def test_legacy_site_straddling_a_grid_line_is_one_site(tmp_path):
    dlat = math.degrees(oc.GRID_M / EARTH_R)
    edge = 37_000 * dlat  # a grid row boundary (about 49.9 N)
    rows = [line("GSM", 262, 1, 100 + k, metres_north(edge, d), 8.0) for k, d in enumerate((-15, -5, 8, 14))]
    # and a second site 400 m north
    rows += [line("GSM", 262, 1, 200 + k, metres_north(edge, 400 + d), 8.0) for k, d in enumerate((-10, 10))]
    sites = oc.import_opencellid(write(tmp_path, rows)).tables["sites"]
    assert len(sites) == 2


def test_a_chain_of_legacy_cells_is_not_one_site(tmp_path):
    # GSM cells every 80 m along 3 km: a merge that chained them would make one 3 km "site".
    rows = [line("GSM", 262, 1, k, metres_north(50.0, 80 * k), 8.0) for k in range(38)]
    imp = oc.import_opencellid(write(tmp_path, rows))
    sites = imp.tables["sites"]
    assert len(sites) > 5
    el = imp.tables["elements"]
    cells = el[el["role"] == "ran.radio"]["model"].str.extract(r"^(\d+)")[0].astype(int)
    assert cells.sum() == 38 and cells.max() <= 2 * oc.MAX_SITE_SPREAD_M / 80 + 1


def test_merged_clusters_that_spread_too_far_fall_back_to_grid_cells(tmp_path, monkeypatch):
    # With a merge distance larger than the grid, a line of cells would chain into one site;
    # the spread cap must split it back into grid cells, and leave a compact site whole.
    monkeypatch.setattr(oc, "MERGE_M", 1000.0)
    rows = [line("GSM", 262, 1, k, metres_north(50.0, 80 * k), 8.0) for k in range(38)]
    rows += [line("GSM", 262, 1, 500 + k, metres_north(52.0, 7 * k), 9.0) for k in range(4)]
    sites = oc.import_opencellid(write(tmp_path, rows)).tables["sites"]
    assert (sites["lat"] > 51).sum() == 1
    line_sites = sites[sites["lat"] < 51]
    assert len(line_sites) >= 3000 // oc.GRID_M
    gaps = np.diff(np.sort(line_sites["lat"].to_numpy())) * math.radians(1) * EARTH_R
    assert gaps.min() > 40  # sites are separate grid cells, not fragments of one


def test_header_and_gzip_are_optional(tmp_path, fixture_import):
    body = DE.read_text().split("\n", 1)[1]
    bare = tmp_path / "de.csv.gz"
    with gzip.open(bare, "wt") as g:
        g.write(body)
    a = oc.import_opencellid([bare, IT]).tables
    b = fixture_import.tables
    for t in ("operators", "sites", "elements", "links"):
        pd.testing.assert_frame_equal(a[t], b[t])


def test_input_order_does_not_change_the_result(tmp_path, fixture_import):
    rows = DE.read_text().strip().split("\n")[1:]
    rng = np.random.default_rng(3)
    shuffled = write(tmp_path, [rows[i] for i in rng.permutation(len(rows))])
    a = oc.import_opencellid([shuffled, IT]).tables
    b = fixture_import.tables
    for t in ("operators", "elements", "links"):
        pd.testing.assert_frame_equal(a[t], b[t])
    pd.testing.assert_frame_equal(a["sites"], b["sites"], atol=1e-6)


def test_bad_rows_are_reported_with_lines():
    with pytest.raises(ValidationError) as e:
        oc.import_opencellid([BAD])
    got = [(p.line, p.column, p.value) for p in e.value.problems]
    assert got == [(3, "mcc", "abc"), (4, "lat", "95.000000"), (5, "radio", "XYZ"), (7, None, "LTE,262,1")]
    assert all(p.file == str(BAD) for p in e.value.problems)
    assert "3 fields" in e.value.problems[3].reason and "latitude" in e.value.problems[1].reason


def test_out_of_range_value_found_without_reparsing_keeps_its_line(tmp_path):
    # Everything parses as numbers here, so the fast typed path must locate the row itself.
    p = tmp_path / "c.csv"
    p.write_text(HEADER + "\n" + line("LTE", 262, 1, 256, 50.0, 8.0) + "\n\n\n"
                 + line("LTE", 262, 1, 257, 50.0, 181.5) + "\n" + line("UMTS", 262, 1000, 5, 50.0, 8.0) + "\n")
    with pytest.raises(ValidationError) as e:
        oc.import_opencellid(p)
    assert [(q.line, q.column) for q in e.value.problems] == [(5, "lon"), (6, "net")]


def test_at_most_100_problems(tmp_path):
    rows = [line("LTE", "x", 1, k, 50.0, 8.0) for k in range(150)]
    with pytest.raises(ValidationError) as e:
        oc.import_opencellid(write(tmp_path, rows))
    assert len(e.value.problems) == 100 and e.value.truncated
    assert e.value.problems[0].line == 2 and e.value.problems[-1].line == 101


def test_header_missing_columns(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("radio,mcc,net,cell,lat\nLTE,262,1,256,50.0\n")
    with pytest.raises(ValidationError) as e:
        oc.import_opencellid(p)
    assert e.value.problems[0].line == 1 and "area" in e.value.problems[0].reason


def test_country_option_filters_by_mcc(fixture_import):
    imp = oc.import_opencellid([DE, IT], country="it")
    assert set(imp.tables["operators"]["operator_id"]) == {"it-vodafone"}
    assert len(imp.tables["sites"]) == TRUTH["it-vodafone"]["sites"]
    assert any("other countries than IT" in w for w in imp.warnings)
    with pytest.raises(ValidationError, match="no cells of country NO"):
        oc.import_opencellid([DE], country="NO")


def test_unknown_mcc_takes_the_country_option(tmp_path):
    p = write(tmp_path, [line("LTE", 242, 1, 256, 60.0, 10.0)])  # Norway: not in the table
    assert oc.import_opencellid(p).tables["operators"].iloc[0]["country"] == "ZZ"
    ops = oc.import_opencellid(p, country="NO").tables["operators"]
    assert (ops.iloc[0]["operator_id"], ops.iloc[0]["country"]) == ("242-01", "NO")


def test_ingest_into_a_workspace_with_a_vendor(workspace):
    from cleanpath.store.ingest import ingest

    rep = ingest(workspace, "opencellid", [DE, IT], vendor="HUAWEI")
    net = workspace.network("main")
    assert rep.added["sites"] == sum(t["sites"] for t in TRUTH.values())
    assert set(net.elements["vendor"]) == {"huawei"}
    g = net.graph()
    assert g.adjacency["anchor"].nnz == 4


def test_mccmnc_table_is_consistent():
    t = oc.mccmnc_table()
    assert not t.duplicated(["mcc_int", "mnc_int"]).any()
    assert t["mnc"].str.fullmatch(r"\d{2,3}").all() and t["mcc"].str.fullmatch(r"\d{3}").all()
    assert set(t["country"]) >= {"DE", "IT", "JP", "KR", "AU", "CA", "GB", "FR", "ES", "PL", "US",
                                 "SE", "NL", "BE", "AT", "CH"}
    assert (t.groupby("operator_id")["country"].nunique() == 1).all()
    assert (t.groupby("mcc")["country"].nunique() == 1).all()
    assert t["operator_id"].str.fullmatch(r"[a-z]{2}-[a-z0-9]+").all()
    known = {(262, 1): "de-telekom", (310, 410): "us-att", (440, 10): "jp-docomo", (450, 5): "kr-skt",
             (505, 1): "au-telstra", (302, 720): "ca-rogers", (234, 15): "gb-vodafone"}
    idx = t.set_index(["mcc_int", "mnc_int"])["operator_id"]
    assert {k: idx[k] for k in known} == known


def _synthetic_csv(n_cells: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    n_sites = n_cells // 4
    lat, lon = rng.uniform(47.5, 54.5, n_sites), rng.uniform(6, 15, n_sites)
    site = rng.integers(0, n_sites, n_cells)
    radio = rng.choice(np.array(["GSM", "UMTS", "LTE", "NR"]), n_cells, p=[.15, .3, .45, .1])
    legacy = rng.integers(0, 1 << 27, n_cells)
    cell = np.where(radio == "LTE", site * 256 + rng.integers(0, 6, n_cells),
                    np.where(radio == "NR", site * 4096 + rng.integers(0, 3, n_cells), legacy))
    jit = rng.normal(0, 0.0003, (2, n_cells))
    t = pa.table({"radio": radio, "mcc": np.full(n_cells, 262), "net": rng.choice([1, 2, 3], n_cells),
                  "area": rng.integers(1, 60000, n_cells), "cell": cell, "unit": np.zeros(n_cells, int),
                  "lon": lon[site] + jit[0], "lat": lat[site] + jit[1], "range": np.full(n_cells, 1000),
                  "samples": rng.integers(1, 100, n_cells), "changeable": np.ones(n_cells, int),
                  "created": np.zeros(n_cells, int), "updated": np.zeros(n_cells, int),
                  "averageSignal": np.zeros(n_cells, int)})
    buf = io.BytesIO()
    pacsv.write_csv(t, buf, pacsv.WriteOptions(include_header=False))
    return buf.getvalue()


def test_200k_cells_every_cell_counted(tmp_path):
    # speed is measured in bench/ (bench_foundation.py), not asserted here
    p = tmp_path / "big.csv"
    p.write_bytes(_synthetic_csv(200_000))
    imp = oc.import_opencellid(p)
    radios = imp.tables["elements"]
    n_cells = radios[radios["role"] == "ran.radio"]["model"].str.extract(r"^(\d+)")[0].astype(int).sum()
    assert n_cells == 200_000 - _duplicates(imp)


def _duplicates(imp) -> int:
    for w in imp.warnings:
        if "repeated" in w:
            return int(w.split()[0].replace(",", ""))
    return 0
