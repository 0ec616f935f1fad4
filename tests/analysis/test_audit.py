"""The audit engine on hand-built networks whose findings are known in advance.

``make_network`` builds small networks from a few element rows; the other test files of the
policy work import it from here.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import cleanpath
from cleanpath.analysis.audit import audit_network, audit_timeline, element_deadlines, fails, months
from cleanpath.policy import load_policy
from cleanpath.policy.engine import FINDING_COLUMNS
from oracles import E, found, make_network

D = dt.date


POLICY_HEAD = """
pack: test-pack
title: Test rules
jurisdiction: [GB]
"""
CITE = "{instrument: Test Act, date: 2020-01-01, url: https://example.org/act}"


def policy(rules_yaml: str, head: str = POLICY_HEAD):
    return load_policy("test.yaml", text=head + "rules:\n" + rules_yaml)


# --- deadlines ----------------------------------------------------------------------------------

@pytest.mark.parametrize("day, severity, days", [
    (D(2023, 12, 30), "warning", 1),     # the day before the deadline: still a warning
    (D(2023, 12, 31), "warning", 0),     # the deadline day itself is the last day allowed
    (D(2024, 1, 1), "violation", -1),    # the day after: a violation
])
def test_remove_by_deadline_boundaries(day, severity, days):
    net = make_network([E("core1", "gb-dc", "core.mme", "huawei")])
    r = audit_network(net, policies="uk-tsa", as_of=day)
    f = r.tables["findings"]
    row = f[f["rule_id"] == "core"]
    assert len(row) == 1
    assert row["severity"].iloc[0] == severity
    assert row["days_to_deadline"].iloc[0] == days
    assert row["deadline"].iloc[0] == D(2023, 12, 31)
    assert row["element_id"].iloc[0] == "core1" and row["operator_id"].iloc[0] == "op-gb"


def test_rule_not_in_force_before_its_start():
    net = make_network([E("core1", "gb-dc", "core.mme", "huawei")])
    r = audit_network(net, policies="uk-tsa", as_of=D(2022, 10, 12))  # the direction is of 2022-10-13
    assert not (r.tables["findings"]["rule_id"] == "core").any()
    status = r.tables["by_rule"].set_index("rule_id")["status"]
    assert status["core"] == "not in force until 2022-10-13"
    r = audit_network(net, policies="uk-tsa", as_of=D(2022, 10, 13))
    assert ("uk-tsa/core", "core1", "warning") in found(r)


def test_warn_days_limits_the_warning_window():
    p = policy(f"""
  - {{id: r, kind: remove_by, title: out, vendors: huawei, deadline: 2030-01-31, warn_days: 30,
     citation: {CITE}}}
""")
    net = make_network([E("x", "gb-cell", "ran.radio", "huawei", "4G")])
    assert len(audit_network(net, policies=[p], as_of=D(2029, 12, 31)).tables["findings"]) == 0  # 31 days
    assert found(audit_network(net, policies=[p], as_of=D(2030, 1, 1))) == {("test-pack/r", "x", "warning")}


# --- caps ---------------------------------------------------------------------------------------

def _cap_network(n_total: int, n_huawei: int):
    els = [E(f"r{i}", "gb-cell", "ran.radio", "huawei" if i < n_huawei else "ericsson", "4G")
           for i in range(n_total)]
    return make_network(els)


CAP_RULE = f"""
  - {{id: cap, kind: cap, title: at most 35 %, vendors: huawei, scope: {{domain: [ran]}},
     measure: elements, max_percent: 35, citation: {CITE}}}
"""


@pytest.mark.parametrize("n_huawei, over", [(350, False), (351, True)])
def test_cap_35_percent_boundary(n_huawei, over):
    # 350 of 1,000 is exactly 35.0 % (passes); 351 of 1,000 is 35.1 % (fails)
    r = audit_network(_cap_network(1000, n_huawei), policies=[policy(CAP_RULE)], as_of=D(2024, 1, 1))
    f = r.tables["findings"]
    assert len(f) == int(over)
    if over:
        assert f["operator_id"].iloc[0] == "op-gb" and f["severity"].iloc[0] == "violation"
        assert pd.isna(f["element_id"].iloc[0])
        assert "35.1 %" in f["message"].iloc[0] and "351 of 1,000" in f["message"].iloc[0]
        assert f["finding_id"].iloc[0] == "test-pack/cap/op-gb"


def test_cap_by_sites_and_by_subscribers():
    # 20 RAN sites; huawei on 7 (35 %: pass) or 8 (40 %: fail). Subscribers: split by share.
    sites = [{"site_id": f"s{i}", "operator_id": "op-gb", "kind": "cell", "lat": 51, "lon": 0,
              "subscribers": 100} for i in range(20)]

    def net(k):
        els = [E(f"e{i}", f"s{i}", "ran.radio", "huawei" if i < k else "nokia", "4G") for i in range(20)]
        els += [E(f"x{i}", f"s{i}", "ran.radio", "nokia", "4G") for i in range(k)]  # huawei sites: half
        return make_network(els, sites=sites)

    by_sites = policy(CAP_RULE.replace("measure: elements", "measure: sites"))
    assert len(audit_network(net(7), policies=[by_sites], as_of=D(2024, 1, 1)).tables["findings"]) == 0
    assert len(audit_network(net(8), policies=[by_sites], as_of=D(2024, 1, 1)).tables["findings"]) == 1
    # subscribers: huawei serves half of each of its k sites' 100 subscribers: 50 k of 2,000 (+1,000
    # at gb-cell, which has no RAN in scope and does not count)
    by_subs = policy(CAP_RULE.replace("measure: elements", "measure: subscribers"))
    assert len(audit_network(net(14), policies=[by_subs], as_of=D(2024, 1, 1)).tables["findings"]) == 0  # 35 %
    f = audit_network(net(15), policies=[by_subs], as_of=D(2024, 1, 1)).tables["findings"]
    assert len(f) == 1 and "750 of 2,000" in f["message"].iloc[0]


def test_cap_without_subscriber_data_is_reported_not_guessed():
    els = [E("a", "gb-dc", "ran.radio", "huawei", "4G")]  # gb-dc has no subscribers figure
    r = audit_network(make_network(els), policies=[policy(CAP_RULE.replace("elements", "subscribers")
                                                          .replace("domain: [ran]", "site_kind: [core_dc]"))],
                      as_of=D(2024, 1, 1))
    f = r.tables["findings"]
    assert list(f["severity"]) == ["info"] and "not evaluated" in f["message"].iloc[0]


def test_cap_by_traffic_uses_demands():
    sites = [{"site_id": "a", "operator_id": "op-gb", "kind": "cell", "lat": 51, "lon": 0},
             {"site_id": "b", "operator_id": "op-gb", "kind": "cell", "lat": 51, "lon": 0.1}]
    els = [E("ra", "a", "ran.radio", "huawei", "4G"), E("rb", "b", "ran.radio", "ericsson", "4G")]
    demands = [{"a_site": "a", "b_site": "gateway", "volume": 36.0}, {"a_site": "b", "b_site": "gateway", "volume": 64.0}]
    rule = policy(CAP_RULE.replace("measure: elements", "measure: traffic"))
    f = audit_network(make_network(els, sites=sites, demands=demands), policies=[rule],
                      as_of=D(2024, 1, 1)).tables["findings"]
    assert len(f) == 1 and "36 of 100" in f["message"].iloc[0]


# --- vendors, dates, service --------------------------------------------------------------------

def test_vendor_aliases_resolve_in_network_and_policy():
    net = make_network([E("a", "gb-dc", "core.amf", "HUAWEI TECHNOLOGIES CO., LTD."),
                        E("b", "gb-dc", "core.smf", "Huawei Technologies Co Ltd")])
    assert set(net.elements["vendor"]) == {"huawei"}
    p = policy(f"""
  - {{id: r, kind: forbid, title: no, vendors: {{ids: ["HUAWEI TECHNOLOGIES CO., LTD."]}}, citation: {CITE}}}
""")
    assert p.rules[0].vendors.ids == ("huawei",)
    assert found(audit_network(net, policies=[p], as_of=D(2024, 1, 1))) == {
        ("test-pack/r", "a", "violation"), ("test-pack/r", "b", "violation")}


def test_vendor_sets_by_country_and_composition():
    p = policy(f"""
  - {{id: cn, kind: forbid, title: no, vendors: {{hq_country: [CN]}}, citation: {CITE}}}
  - {{id: cn-not-zte, kind: forbid, title: no, vendors: {{all: [{{hq_country: [CN]}}, {{not: {{ids: [zte]}}}}]}},
     citation: {CITE}}}
  - {{id: any, kind: forbid, title: no, vendors: {{any: [{{ids: [ericsson]}}, {{ids: [zte]}}]}}, citation: {CITE}}}
""")
    net = make_network([E(v, "gb-cell", "ran.radio", v, "4G") for v in ("huawei", "zte", "fiberhome", "ericsson", "nokia")])
    got = found(audit_network(net, policies=[p], as_of=D(2024, 1, 1)))
    by_rule = {r: {x[1] for x in got if x[0] == f"test-pack/{r}"} for r in ("cn", "cn-not-zte", "any")}
    assert by_rule == {"cn": {"huawei", "zte", "fiberhome"}, "cn-not-zte": {"huawei", "fiberhome"},
                       "any": {"ericsson", "zte"}}


def test_scopes_by_site_kind_region_operator_role_and_composition():
    sites = [{"site_id": "n1", "operator_id": "op-gb", "kind": "cell", "lat": 55, "lon": -3, "region": "Scotland"},
             {"site_id": "s1", "operator_id": "op-gb", "kind": "hub", "lat": 51, "lon": 0, "region": "Kent"}]
    els = [E("a", "n1", "ran.radio", "huawei", "4G"), E("b", "s1", "transport.router", "huawei"),
           E("c", "gb-dc", "core.upf", "huawei"), E("d", "gb-dc", "core.hss", "huawei"),
           E("e", "us-dc", "core.upf", "huawei")]
    p = policy(f"""
  - {{id: region, kind: forbid, title: t, vendors: huawei, scope: {{region: [Scotland]}}, citation: {CITE}}}
  - {{id: kind, kind: forbid, title: t, vendors: huawei, scope: {{site_kind: [hub, core_dc]}}, citation: {CITE}}}
  - {{id: role-not, kind: forbid, title: t, vendors: huawei, scope: {{all: [{{domain: [core]}}, {{not: {{role: [core.hss]}}}}]}},
     citation: {CITE}}}
  - {{id: op-any, kind: forbid, title: t, vendors: huawei, scope: {{any: [{{operator: [op-us]}}, {{site: [n1]}}]}},
     citation: {CITE}}}
""", head="pack: test-pack\ntitle: t\n")
    got = found(audit_network(make_network(els, sites=sites), policies=[p], as_of=D(2024, 1, 1)))
    by_rule = {r: {x[1] for x in got if x[0] == f"test-pack/{r}"} for r in ("region", "kind", "role-not", "op-any")}
    assert by_rule == {"region": {"a"}, "kind": {"b", "c", "d", "e"}, "role-not": {"c", "e"}, "op-any": {"a", "e"}}


def test_out_of_service_and_future_elements_are_not_judged():
    net = make_network([E("off", "gb-dc", "core.mme", "huawei", in_service=False),
                        E("later", "gb-dc", "core.sgw", "huawei", installed_on="2030-01-01"),
                        E("now", "gb-dc", "core.pgw", "huawei", installed_on="2020-01-01")])
    r = audit_network(net, policies="uk-tsa", as_of=D(2025, 1, 1))
    assert {x[1] for x in found(r) if x[0] == "uk-tsa/core"} == {"now"}


def test_no_new_needs_installation_dates_and_counts_the_unknown():
    net = make_network([E("old", "gb-cell", "ran.radio", "huawei", "5G-NSA", installed_on="2021-09-30"),
                        E("new", "gb-cell", "ran.radio", "huawei", "5G-NSA", installed_on="2021-10-01"),
                        E("nodate", "gb-cell", "ran.radio", "huawei", "5G-NSA")])
    r = audit_network(net, policies="uk-tsa", as_of=D(2022, 1, 1))
    assert {x[1] for x in found(r) if x[0] == "uk-tsa/no-new-5g"} == {"new"}
    by_rule = r.tables["by_rule"].set_index("rule_id")
    assert by_rule.loc["no-new-5g", "unchecked"] == 1


def test_jurisdiction_limits_packs_to_their_countries():
    net = make_network([E("de-core", "de-dc", "core.mme", "huawei"), E("gb-core", "gb-dc", "core.mme", "huawei")])
    r = audit_network(net, policies="uk-tsa", as_of=D(2024, 6, 1))
    assert {x[1] for x in found(r) if x[0] == "uk-tsa/core"} == {"gb-core"}
    r = audit_network(net, policies="uk-tsa", as_of=D(2024, 6, 1), jurisdiction=False)
    assert {x[1] for x in found(r) if x[0] == "uk-tsa/core"} == {"gb-core", "de-core"}


def test_dated_list_membership_counts_from_the_entry_date():
    # Kaspersky joined the FCC Covered List on 2022-03-25; the subsidy rule follows the list
    net = make_network([E("k", "us-dc", "security.firewall", "AO Kaspersky Lab", funded_by="USF")])
    assert not found(audit_network(net, policies="us-fcc", as_of=D(2022, 3, 24)))
    assert found(audit_network(net, policies="us-fcc", as_of=D(2022, 3, 25))) == {
        ("us-fcc/covered-list-subsidy", "k", "warning")}


def test_funding_rule_matches_programme_names_loosely_and_checks_dates():
    net = make_network([E("a", "us-cell", "ran.radio", "zte", "4G", installed_on="2020-01-03", funded_by="universal-service FUND"),
                        E("b", "us-cell", "ran.radio", "zte", "4G", installed_on="2020-01-02", funded_by="USF"),
                        E("c", "us-cell", "ran.radio", "zte", "4G", funded_by="USF"),
                        E("d", "us-cell", "ran.radio", "zte", "4G", installed_on="2021-01-01", funded_by="private")])
    r = audit_network(net, policies="us-fcc", as_of=D(2021, 1, 1))
    assert {x[1] for x in found(r) if x[0] == "us-fcc/usf-support"} == {"a"}
    assert r.tables["by_rule"].set_index("rule_id").loc["usf-support", "unchecked"] == 1


def test_unattributed_elements_are_counted():
    net = make_network([E("a", "gb-cell", "ran.radio", "unknown", "4G"), E("b", "gb-cell", "ran.radio", "Acme Radio", "4G"),
                        E("c", "gb-cell", "ran.radio", "nokia", "4G")])
    assert audit_network(net, policies="uk-tsa", as_of=D(2024, 1, 1)).summary["unattributed_elements"] == 2


# --- geography ----------------------------------------------------------------------------------

R = 6_371_008.8


def _north_of(lat: float, metres: float) -> float:
    """Latitude ``metres`` due north (along a meridian the great-circle distance is R * dlat)."""
    return lat + math.degrees(metres / R)


def test_near_sensitive_sites_at_the_radius():
    base = (49.4345, 7.6007)
    sites = [{"site_id": n, "operator_id": "op-de", "kind": "cell", "lat": _north_of(base[0], d), "lon": base[1]}
             for n, d in (("in", 4999.0), ("edge", 4999.999), ("out", 5001.0))]
    sens = [{"sensitive_id": "ramstein", "name": "Ramstein", "kind": "military", "lat": base[0], "lon": base[1],
             "radius_m": 5000}]
    els = [E(s["site_id"], s["site_id"], "ran.radio", "huawei", "4G") for s in sites]
    p = policy(f"""
  - {{id: near, kind: forbid, title: no, vendors: huawei, scope: {{near: {{kind: [military]}}}}, citation: {CITE}}}
  - {{id: near2, kind: forbid, title: no, vendors: huawei, scope: {{near: {{kind: [military], radius_m: 5001.5}}}},
     citation: {CITE}}}
""", head="pack: test-pack\ntitle: t\n")
    r = audit_network(make_network(els, sites=sites, sensitive=sens), policies=[p], as_of=D(2024, 1, 1))
    assert {x[1] for x in found(r) if x[0] == "test-pack/near"} == {"in", "edge"}
    assert {x[1] for x in found(r) if x[0] == "test-pack/near2"} == {"in", "edge", "out"}


def test_near_matches_brute_force_haversine_across_the_antimeridian_and_poles():
    from cleanpath.geo import PointIndex

    rng = np.random.default_rng(7)
    # points clustered at the antimeridian, near the north pole and at random
    lat = np.concatenate([rng.uniform(-2, 2, 300), rng.uniform(88, 90, 300), rng.uniform(-90, 90, 300)])
    lon = np.concatenate([rng.choice([-1, 1], 300) * rng.uniform(179, 180, 300), rng.uniform(-180, 180, 300),
                          rng.uniform(-180, 180, 300)])
    clat = np.array([0.0, 89.5, 10.0])
    clon = np.array([180.0, 0.0, 20.0])
    r = np.array([150_000.0, 120_000.0, 3_000_000.0])
    got = PointIndex(lat, lon).within(clat, clon, r)
    # oracle: angle between unit vectors by atan2(|u x v|, u . v), a different formula
    u = np.stack([np.cos(np.radians(lat)) * np.cos(np.radians(lon)), np.cos(np.radians(lat)) * np.sin(np.radians(lon)),
                  np.sin(np.radians(lat))], axis=1)
    v = np.stack([np.cos(np.radians(clat)) * np.cos(np.radians(clon)), np.cos(np.radians(clat)) * np.sin(np.radians(clon)),
                  np.sin(np.radians(clat))], axis=1)
    ang = np.arctan2(np.linalg.norm(np.cross(u[:, None, :], v[None, :, :]), axis=2), u @ v.T)
    want = (ang * R <= r[None, :]).any(axis=1)
    assert got.sum() > 100 and np.array_equal(got, want)


def test_near_real_us_installations_matches_brute_force(shared_data):
    from conftest import INSTALLATIONS

    inst = pd.read_csv(INSTALLATIONS)
    de = inst[inst["country"] == "DE"].reset_index(drop=True)
    sens = [{"sensitive_id": f"m{i}", "name": r.name, "kind": "military", "lat": r.lat, "lon": r.lon,
             "country": r.country, "radius_m": 5000} for i, r in enumerate(de.itertuples())]
    rng = np.random.default_rng(3)
    # cell sites scattered around the installations, from next door to 30 km away
    k = 400
    base = de.iloc[rng.integers(0, len(de), k)]
    lat = base["lat"].to_numpy() + rng.uniform(-0.25, 0.25, k)
    lon = base["lon"].to_numpy() + rng.uniform(-0.35, 0.35, k)
    sites = [{"site_id": f"c{i}", "operator_id": "op-de", "kind": "cell", "lat": lat[i], "lon": lon[i]}
             for i in range(k)]
    els = [E(f"e{i}", f"c{i}", "ran.radio", "huawei", "4G") for i in range(k)]
    r = audit_network(make_network(els, sites=sites, sensitive=sens), policies="eu-toolbox", as_of=D(2024, 1, 1))
    got = {x[1] for x in found(r) if x[0] == "eu-toolbox/sensitive-areas"}
    # oracle: haversine written out here, every site against every installation
    p1, p2 = np.radians(lat)[:, None], np.radians(de["lat"].to_numpy())[None, :]
    dl = np.radians(lon)[:, None] - np.radians(de["lon"].to_numpy())[None, :]
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    d = 2 * R * np.arcsin(np.sqrt(a))
    want = {f"e{i}" for i in np.flatnonzero((d <= 5000).any(axis=1))}
    assert 10 < len(want) < k and got == want


def test_inside_polygon_with_a_hole():
    square = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    sites = [{"site_id": n, "operator_id": "op-gb", "kind": "cell", "lat": la, "lon": lo}
             for n, la, lo in (("in", 2, 2), ("hole", 5, 5), ("out", 12, 5), ("nopos", None, None))]
    els = [E(s["site_id"], s["site_id"], "ran.radio", "huawei", "4G") for s in sites]
    p = policy(f"""
  - id: poly
    kind: forbid
    title: no
    vendors: huawei
    scope: {{inside: {{type: Polygon, coordinates: {json.dumps([square, hole])}}}}}
    citation: {CITE}
""")
    r = audit_network(make_network(els, sites=sites), policies=[p], as_of=D(2024, 1, 1))
    assert {x[1] for x in found(r)} == {"in"}


def test_inside_reads_a_geojson_file(tmp_path):
    (tmp_path / "area.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
            [[-1, 51], [1, 51], [1, 52], [-1, 52], [-1, 51]]]}}]}))
    (tmp_path / "p.yaml").write_text(POLICY_HEAD + f"""rules:
  - {{id: r, kind: forbid, title: no, vendors: huawei, scope: {{inside: {{file: area.geojson}}}}, citation: {CITE}}}
""")
    p = load_policy(tmp_path / "p.yaml")
    net = make_network([E("a", "gb-cell", "ran.radio", "huawei", "4G"), E("b", "gb-dc", "ran.radio", "huawei", "4G")])
    # gb-cell is at 51.5 N, 0.1 W (inside); gb-dc at 52.0 N, 0.4 E is on the polygon's top edge, and
    # boundaries belong to the area everywhere in cleanpath (cleanpath.geo), as in exposure
    assert {x[1] for x in found(audit_network(net, policies=[p], as_of=D(2024, 1, 1)))} == {"a", "b"}


def test_sensitive_polygon_replaces_its_radius():
    geom = json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]})
    sites = [{"site_id": "far-in-poly", "operator_id": "op-gb", "kind": "cell", "lat": 0.9, "lon": 0.9},
             {"site_id": "near-centre-outside", "operator_id": "op-gb", "kind": "cell", "lat": -0.01, "lon": 0.5}]
    sens = [{"sensitive_id": "s", "name": "S", "kind": "government", "lat": 0.0, "lon": 0.5, "radius_m": 5000,
             "geometry": geom}]
    els = [E(s["site_id"], s["site_id"], "ran.radio", "huawei", "4G") for s in sites]
    r = audit_network(make_network(els, sites=sites, sensitive=sens), policies="uk-tsa", as_of=D(2024, 1, 1))
    assert {x[1] for x in found(r) if x[0] == "uk-tsa/sensitive-sites"} == {"far-in-poly"}


# --- management links and clean path -------------------------------------------------------------

def test_manages_scope_follows_management_links():
    els = [E("r5", "de-cell", "ran.radio", "nokia", "5G-SA"), E("r4", "de-cell", "ran.radio", "nokia", "4G"),
           E("ems5", "de-dc", "mgmt.ems", "huawei"), E("ems4", "de-dc", "mgmt.ems", "huawei"),
           E("emsT", "de-dc", "mgmt.ems", "zte"), E("rt", "de-cell", "transport.router", "nokia")]
    links = [{"a": "r5", "b": "ems5", "kind": "management"}, {"a": "r4", "b": "ems4", "kind": "management"},
             {"a": "rt", "b": "emsT", "kind": "management"}, {"a": "r4", "b": "ems5", "kind": "transport"}]
    r = audit_network(make_network(els, links=links), policies="de-2024", as_of=D(2030, 1, 1))
    assert {x[1] for x in found(r) if x[0] == "de-2024/management-5g"} == {"ems5", "emsT"}


def test_clean_path_rules_report_not_evaluated_without_an_engine():
    sens = [{"sensitive_id": "emb", "name": "Embassy", "kind": "diplomatic", "lat": 50.1, "lon": 8.7}]
    r = audit_network(make_network([E("a", "de-cell", "ran.radio", "huawei", "5G-SA")], sensitive=sens),
                      policies="us-clean-path", as_of=D(2024, 1, 1), clean_path=False)
    f = r.tables["findings"]
    notes = f[f["rule_id"] == "diplomatic-clean-path"]
    assert list(notes["severity"]) == ["info"]
    assert "not evaluated: needs the clean-path engine" in notes["message"].iloc[0]
    assert "not evaluated: needs the clean-path engine" in r.summary["notes"]


def test_clean_path_rules_without_sensitive_sites_have_nothing_to_check():
    r = audit_network(make_network([E("a", "de-cell", "ran.radio", "huawei", "5G-SA")]),
                      policies="us-clean-path", as_of=D(2024, 1, 1))
    assert len(r.tables["findings"]) == 0
    status = r.tables["by_rule"].set_index("rule_id")["status"]
    assert status["military-clean-path"] == "nothing to check: no sensitive sites of kind military"


def test_clean_path_rules_use_the_engine_handed_in():
    calls = []

    def engine(net, *, sensitive_ids, untrusted, as_of):
        # a site is clean when no untrusted element sits at the cell site of its country
        calls.append((tuple(sensitive_ids), untrusted, as_of))
        bad = set(net.elements.loc[net.elements["vendor"].isin(list(untrusted)), "element_id"])
        return pd.DataFrame({"sensitive_id": sensitive_ids, "operator_id": "op-de",
                             "clean": [not bad for _ in sensitive_ids],
                             "blocking": [sorted(bad) for _ in sensitive_ids]})

    sens = [{"sensitive_id": "emb", "name": "Embassy", "kind": "diplomatic", "lat": 50.1, "lon": 8.7},
            {"sensitive_id": "base", "name": "Base", "kind": "military", "lat": 49.4, "lon": 7.6}]
    net = make_network([E("a", "de-cell", "ran.radio", "zte", "5G-SA")], sensitive=sens)
    r = audit_network(net, policies="us-clean-path", as_of=D(2024, 1, 1), clean_path=engine)
    assert [c[0] for c in calls] == [("emb", "base")]  # one call serves both rules (same vendors)
    assert calls[0][1] >= {"huawei", "zte"}
    assert {("us-clean-path/diplomatic-clean-path", "emb", "violation"),
            ("us-clean-path/military-clean-path", "base", "warning")} <= found(r)
    f = r.tables["findings"].set_index("finding_id")
    assert f.loc["us-clean-path/diplomatic-clean-path/emb", "element_id"] == "a"
    assert f.loc["us-clean-path/diplomatic-clean-path/emb", "vendor"] == "zte"


# --- the result ---------------------------------------------------------------------------------

def test_findings_table_contract_and_summaries_agree():
    net = make_network([E("a", "gb-dc", "core.amf", "huawei"), E("b", "de-dc", "core.amf", "zte"),
                        E("c", "gb-cell", "ran.radio", "huawei", "5G-NSA", installed_on="2022-01-01")])
    r = audit_network(net, policies="all", as_of=D(2025, 6, 1))
    f = r.tables["findings"]
    assert tuple(f.columns) == FINDING_COLUMNS
    assert f["finding_id"].is_unique
    assert list(f["severity"].cat.codes) == sorted(f["severity"].cat.codes, reverse=True)  # worst first
    for sev, key in (("violation", "violations"), ("warning", "warnings"), ("info", "info")):
        n = int((f["severity"] == sev).sum())
        assert r.summary[key] == n
        assert r.tables["by_pack"][sev].sum() == n == r.tables["by_rule"][sev].sum() == r.tables["by_operator"][sev].sum()
    assert r.summary["worst"] == "violation" and fails(r, "warning") and fails(r, "violation")
    assert f["citation"].astype(str).str.contains("https://").all()
    json.dumps(r.to_dict())  # JSON-safe


def test_element_deadlines_take_the_earliest_rule():
    net = make_network([E("a", "gb-dc", "core.amf", "huawei"), E("b", "de-dc", "core.amf", "zte"),
                        E("c", "de-cell", "ran.radio", "zte", "5G-SA")])
    d = element_deadlines(net, policies="uk-tsa,de-2024").set_index("element_id")
    assert d.loc["a", "deadline"] == D(2023, 12, 31) and d.loc["a", "rule_id"] == "core"
    assert d.loc["b", "deadline"] == D(2026, 12, 31) and d.loc["b", "pack"] == "de-2024"
    assert "c" not in d.index  # German 5G radios must not go, only their management


# --- timeline -----------------------------------------------------------------------------------

def test_months_are_month_ends():
    assert months("2023-11", "2024-02") == [D(2023, 11, 30), D(2023, 12, 31), D(2024, 1, 31), D(2024, 2, 29)]
    with pytest.raises(cleanpath.ValidationError):
        months("2024-02", "2023-11")


def test_timeline_month_by_month():
    net = make_network([E("core1", "gb-dc", "core.mme", "huawei")])
    r = audit_timeline(net, policies="uk-tsa", start="2022-09", end="2024-01")
    m = r.tables["by_month"].set_index("month")
    assert m.loc["2022-09", "warning"] == 0                     # before the direction (2022-10-13)
    assert m.loc["2022-10", "warning"] == 1 and m.loc["2023-12", "violation"] == 0
    assert m.loc["2024-01", "violation"] == 1 and not m.loc["2024-01", "compliant"]
    assert r.summary["months"] == 17


# --- command line -------------------------------------------------------------------------------

def _cli():
    from cleanpath.cli.main import cli

    return cli


@pytest.fixture
def ws_path(tmp_path):
    path = tmp_path / "ws.duckdb"
    with cleanpath.open_workspace(path) as ws:
        ws.write_network("main", make_network([E("core1", "gb-dc", "core.mme", "huawei"),
                                               E("r1", "gb-cell", "ran.radio", "ericsson", "5G-NSA")]))
    return path


def run(ws, *args):
    return CliRunner().invoke(_cli(), ["-w", str(ws), *args], catch_exceptions=False)


def test_cli_audit_fail_on_sets_exit_code(ws_path):
    r = run(ws_path, "audit", "-p", "uk-tsa", "--as-of", "2023-06-01", "--fail-on", "violation", "--format", "json")
    assert r.exit_code == 0, r.output  # a warning only: 213 days left
    obj = json.loads(r.stdout)
    assert obj["summary"]["warnings"] == 1 and obj["tables"]["findings"][0]["days_to_deadline"] == 213
    assert run(ws_path, "audit", "-p", "uk-tsa", "--as-of", "2023-06-01", "--fail-on", "warning").exit_code == 1
    assert run(ws_path, "audit", "-p", "uk-tsa", "--as-of", "2024-01-01", "--fail-on", "violation").exit_code == 1
    r = run(ws_path, "audit", "-p", "uk-tsa", "--timeline", "2023-01", "2023-06", "--fail-on", "violation",
            "--format", "csv")
    assert r.exit_code == 0 and r.stdout.splitlines()[0].startswith("month,as_of,pack")


def test_cli_audit_bad_input_exits_2(ws_path):
    r = CliRunner().invoke(_cli(), ["-w", str(ws_path), "audit", "-p", "no-such-pack"])
    assert r.exit_code == 2 and "unknown pack 'no-such-pack'" in r.output
    r = CliRunner().invoke(_cli(), ["-w", str(ws_path), "audit", "-p", "uk-tsa", "--as-of", "2024-13-01"])
    assert r.exit_code == 2 and "not a date" in r.output


def test_timeline_reuses_the_clean_path_answer_while_the_network_is_unchanged():
    calls = []

    def engine(net, *, sensitive_ids, untrusted, as_of):
        calls.append(as_of)
        return pd.DataFrame({"sensitive_id": sensitive_ids, "clean": False})

    sens = [{"sensitive_id": "emb", "name": "Embassy", "kind": "diplomatic", "lat": 50.1, "lon": 8.7}]
    net = make_network([E("a", "de-cell", "ran.radio", "zte", "5G-SA", installed_on="2024-03-15")], sensitive=sens)
    r = audit_timeline(net, policies="us-clean-path", start="2024-01", end="2024-06", clean_path=engine)
    # the elements present change once (in March), so the engine is asked twice, not six times
    assert calls == [D(2024, 1, 31), D(2024, 3, 31)]
    assert list(r.tables["by_month"]["violation"]) == [1] * 6
