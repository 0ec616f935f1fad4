"""The structured synthetic network: valid, exact in size, deterministic, and shaped as promised.

Structure is checked from the tables alone (pandas joins), and reachability twice: with
scipy.sparse.csgraph and, independently, with networkx as an oracle.
"""

from __future__ import annotations

import subprocess
import sys

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

import cleanpath
from cleanpath.build.synthetic import BOX, synthetic_network, write_csv
from cleanpath.model.schema import TABLES

N = 5_000


@pytest.fixture(scope="module")
def net() -> dict[str, pd.DataFrame]:
    return synthetic_network(elements=N, seed=11)


def _obj(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype(object)


def _with_site(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Elements with their site's kind and operator."""
    el = _obj(tables["elements"])
    sites = _obj(tables["sites"])[["site_id", "kind", "operator_id"]].rename(columns={"kind": "site_kind"})
    return el.merge(sites, on="site_id", how="left", validate="many_to_one")


def _links_with_ends(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    el = _with_site(tables)[["element_id", "site_id", "role", "vendor", "generation", "operator_id"]]
    ln = _obj(tables["links"])
    ln = ln.merge(el.add_suffix("_a"), left_on="a", right_on="element_id_a", how="left")
    return ln.merge(el.add_suffix("_b"), left_on="b", right_on="element_id_b", how="left")


# --- validity and size ------------------------------------------------------------------------------

def test_tables_validate_unchanged(net):
    out = cleanpath.validate_tables(net)  # raises ValidationError on any problem
    assert len(out["elements"]) == N
    assert len(out["links"]) == round(1.5 * N)
    # Vendors are already catalogue ids: validation leaves them as they are.
    assert out["elements"]["vendor"].tolist() == net["elements"]["vendor"].tolist()
    for name, df in net.items():
        assert list(df.columns) == TABLES[name].column_names


def test_csv_files_import_into_a_workspace(net, tmp_path, workspace):
    written = write_csv(net, tmp_path / "csv")
    assert sorted(p.name for p in written) == ["elements.csv", "links.csv", "operators.csv", "sites.csv"]
    report = cleanpath.ingest(workspace, "tables", [tmp_path / "csv"], snapshot="syn")
    assert report.totals["elements"] == N and report.totals["links"] == round(1.5 * N)
    assert report.unknown_vendors == {}
    back = workspace.network("syn")
    pd.testing.assert_frame_equal(back.elements, cleanpath.validate_tables(net)["elements"])


@pytest.mark.parametrize("elements, operators", [(300, 1), (900, 3), (7_777, 2), (12_345, 5)])
def test_exact_element_count_for_any_size(elements, operators):
    t = synthetic_network(elements=elements, operators=operators, seed=3)
    assert len(t["elements"]) == elements
    assert t["operators"]["operator_id"].nunique() == operators
    assert set(t["sites"]["operator_id"]) == set(t["operators"]["operator_id"])
    cleanpath.validate_tables(t)


def test_links_per_element_is_met_and_structure_is_kept():
    t = synthetic_network(elements=4_000, links_per_element=1.8, seed=2)
    assert len(t["links"]) == round(1.8 * 4_000)
    cleanpath.validate_tables(t)
    # Asking for fewer links than the structure needs keeps the structure (no redundancy).
    low = synthetic_network(elements=4_000, links_per_element=1.0, seed=2)
    assert 1.3 * 4_000 < len(low["links"]) < round(1.5 * 4_000)
    base = _obj(low["links"]).groupby("kind").size()
    more = _obj(t["links"]).groupby("kind").size()
    # Redundancy is transport only: the other kinds are identical.
    assert (base.drop("transport") == more.drop("transport")).all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="at least 900"):
        synthetic_network(elements=899, operators=3)
    with pytest.raises(ValueError, match="operators"):
        synthetic_network(elements=10_000, operators=0)


# --- determinism -------------------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_csv(tmp_path):
    a = write_csv(synthetic_network(elements=3_000, seed=5), tmp_path / "a")
    b = write_csv(synthetic_network(elements=3_000, seed=5), tmp_path / "b")
    write_csv(synthetic_network(elements=3_000, seed=6), tmp_path / "c")
    for pa_, pb in zip(sorted(a), sorted(b)):
        assert pa_.read_bytes() == pb.read_bytes(), pa_.name
    assert (tmp_path / "a" / "elements.csv").read_bytes() != (tmp_path / "c" / "elements.csv").read_bytes()


def test_module_entry_point_writes_the_same_files(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cleanpath.build.synthetic", "--elements", "2000",
                           "--seed", "4", "--out", str(tmp_path / "cli")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "elements=2,000" in proc.stdout
    expected = write_csv(synthetic_network(elements=2_000, seed=4), tmp_path / "api")
    for p in expected:
        assert (tmp_path / "cli" / p.name).read_bytes() == p.read_bytes()
    bad = subprocess.run([sys.executable, "-m", "cleanpath.build.synthetic", "--elements", "10",
                          "--out", str(tmp_path / "bad")], capture_output=True, text=True)
    assert bad.returncode == 2 and "at least" in bad.stderr


# --- structure -----------------------------------------------------------------------------------------

def test_every_nsa_radio_is_anchored_on_its_own_sites_4g_baseband(net):
    el = _obj(net["elements"])
    nsa = el[(el["role"] == "ran.radio") & (el["generation"] == "5G-NSA")]
    assert len(nsa) > 100
    ln = _links_with_ends(net)
    anchors = ln[ln["kind"] == "anchor"]
    assert set(anchors["a"]) == set(nsa["element_id"])           # every NSA radio, nothing else
    assert anchors["a"].is_unique                                  # exactly one anchor each
    assert (anchors["role_b"] == "ran.baseband").all()
    assert (anchors["generation_b"] == "4G").all()
    assert (anchors["site_id_a"] == anchors["site_id_b"]).all()


def test_cell_sites_have_the_promised_role_mix(net):
    el = _with_site(net)
    cells = el[el["site_kind"] == "cell"]
    per_site = cells.groupby(["site_id", "role", "generation"]).size().unstack(["role", "generation"],
                                                                              fill_value=0)
    assert (per_site[("ran.baseband", "4G")] == 1).all()
    assert (per_site[("transport.router", "none")] == 1).all()
    assert (per_site[("ran.radio", "4G")] >= 3).all()
    assert per_site[("ran.radio", "5G-NSA")].isin([0, 3]).all()
    # A 5G-SA baseband comes with three 5G-SA radios.
    assert ((per_site[("ran.radio", "5G-SA")] == 3 * per_site[("ran.baseband", "5G-SA")])).all()
    assert (per_site[("ran.radio", "5G-NSA")] > 0).mean() > 0.25
    # One RAN vendor per site (a site's RAN is swapped as one unit).
    ran = cells[cells["role"].str.startswith("ran.")]
    assert (ran.groupby("site_id")["vendor"].nunique() == 1).all()
    other = el[el["site_kind"] != "cell"]
    for role in ("core.mme", "core.amf", "core.upf", "mgmt.oss", "mgmt.ems", "gateway.internet",
                 "transport.microwave", "security.firewall"):
        assert (other["role"] == role).any(), role
    assert set(net["sites"]["kind"]) == {"cell", "hub", "aggregation", "core_dc", "gateway"}


def test_sites_lie_in_the_box_and_operators_in_one_country(net):
    s = net["sites"]
    assert s["lat"].between(BOX[0], BOX[1]).all() and s["lon"].between(BOX[2], BOX[3]).all()
    assert set(net["operators"]["country"]) == {"DE"}
    cells = s[s["kind"] == "cell"]
    assert (cells["subscribers"] > 0).all()
    assert s.loc[s["kind"] != "cell", "subscribers"].isna().all()


def test_control_and_management_links(net):
    ln = _links_with_ends(net)
    ctl = ln[ln["kind"] == "control"]
    bb = ctl[ctl["role_a"] == "ran.baseband"]
    assert set(bb.loc[bb["generation_a"] == "4G", "role_b"]) == {"core.mme"}
    assert set(bb.loc[bb["generation_a"] == "5G-SA", "role_b"]) == {"core.amf"}
    el = _obj(net["elements"])
    basebands = el[el["role"] == "ran.baseband"]
    assert set(bb["a"]) == set(basebands["element_id"])
    assert (bb["operator_id_a"] == bb["operator_id_b"]).all()

    mgmt = ln[ln["kind"] == "management"]
    to_ems = mgmt[mgmt["role_b"] == "mgmt.ems"]
    # Managed by the EMS of their own vendor, at their own operator; once each.
    assert (to_ems["vendor_a"] == to_ems["vendor_b"]).all()
    assert (to_ems["operator_id_a"] == to_ems["operator_id_b"]).all()
    assert to_ems["a"].is_unique
    managed = el[~el["role"].isin(["ran.radio", "mgmt.ems", "mgmt.oss"])]
    assert set(to_ems["a"]) == set(managed["element_id"])
    # Each EMS reports to its operator's OSS, and manages something.
    ems = el[el["role"] == "mgmt.ems"]
    to_oss = mgmt[mgmt["role_b"] == "mgmt.oss"]
    assert set(to_oss["a"]) == set(ems["element_id"])
    assert (to_oss["operator_id_a"] == to_oss["operator_id_b"]).all()
    assert set(ems["element_id"]) == set(to_ems["b"])


def test_vendors_are_mixed_in_contiguous_blocks():
    t = synthetic_network(elements=60_000, seed=1)
    el = _with_site(t)
    assert {"huawei", "zte", "ericsson", "nokia", "cisco", "juniper"} <= set(el["vendor"])
    cells = el[(el["site_kind"] == "cell") & (el["role"] == "ran.baseband")
               & (el["generation"] == "4G")].drop_duplicates("site_id")
    # Along the site order, the RAN vendor changes at most once per aggregation area.
    changes = (cells["vendor"].to_numpy()[1:] != cells["vendor"].to_numpy()[:-1]).sum()
    aggs = (t["sites"]["kind"] == "aggregation").sum()
    assert 0 < changes < aggs
    # Every operator mixes RAN vendors.
    assert (cells.groupby("operator_id")["vendor"].nunique() >= 2).all()


# --- reachability: scipy and networkx ------------------------------------------------------------------

def _transport_reach_scipy(t: dict[str, pd.DataFrame]) -> tuple[int, np.ndarray]:
    """Number of transport components, and which elements share a component with a gateway."""
    ids = t["elements"]["element_id"].to_numpy(dtype=object)
    pos = pd.Series(np.arange(len(ids)), index=ids)
    ln = _obj(t["links"])
    tr = ln[ln["kind"] == "transport"]
    a, b = pos[tr["a"]].to_numpy(), pos[tr["b"]].to_numpy()
    m = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(len(ids), len(ids))).tocsr()
    count, labels = connected_components(m, directed=False)
    gw = (t["elements"]["role"] == "gateway.internet").to_numpy(dtype=bool)
    return count, np.isin(labels, labels[gw])


def _transport_reach_networkx(t: dict[str, pd.DataFrame]) -> tuple[int, set[str]]:
    el = _obj(t["elements"])
    ln = _obj(t["links"])
    g = nx.Graph()
    g.add_nodes_from(el["element_id"])
    g.add_edges_from(ln.loc[ln["kind"] == "transport", ["a", "b"]].itertuples(index=False))
    gateways = el.loc[el["role"] == "gateway.internet", "element_id"]
    reached: set[str] = set()
    for gw in gateways:
        if gw not in reached:
            reached |= nx.node_connected_component(g, gw)
    return nx.number_connected_components(g), reached


@pytest.mark.parametrize("seed, operators", [(11, 3), (4, 1), (9, 4)])
def test_every_element_reaches_a_gateway_through_transport(seed, operators):
    t = synthetic_network(elements=N, seed=seed, operators=operators)
    count, reaches = _transport_reach_scipy(t)
    nx_count, nx_reached = _transport_reach_networkx(t)
    ids = t["elements"]["element_id"].to_numpy(dtype=object)
    assert reaches.all()
    assert nx_reached == set(ids)
    # One transport network per operator, and both libraries agree.
    assert count == nx_count == operators


def test_reachability_check_can_fail():
    """The oracle is not vacuous: cut the gateways' uplinks and elements stop reaching them."""
    t = synthetic_network(elements=2_000, seed=1, operators=1)
    el = _obj(t["elements"])
    border = set(el.loc[(el["site_id"].str.contains("-gw")) & (el["role"] == "transport.router"),
                        "element_id"])
    ln = _obj(t["links"])
    cut = ln[~((ln["kind"] == "transport") & (ln["a"].isin(border) ^ ln["b"].isin(border))
               & ~(ln["a"].str.contains("-gw") & ln["b"].str.contains("-gw")))]
    t2 = dict(t, links=cut)
    _count, reaches = _transport_reach_scipy(t2)
    _nx_count, nx_reached = _transport_reach_networkx(t2)
    assert not reaches.all()
    assert len(nx_reached) == int(reaches.sum()) < len(el)
