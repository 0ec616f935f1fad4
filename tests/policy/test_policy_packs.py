"""Each shipped pack against a hand-built network whose findings are worked out by hand.

Every network holds elements that must be caught and elements that must not (other vendors, other
network parts, other countries, dates on the wrong side of a cut-off), and each test states the
exact set of findings: (pack/rule, element or operator or "rule", severity).
"""

from __future__ import annotations

import datetime as dt

from cleanpath.analysis.audit import audit_network
from oracles import E, found, make_network

D = dt.date


def audit(net, pack, day):
    # clean_path rules have their own tests (test_audit.py, test_clean_path.py): unchecked here
    return found(audit_network(net, policies=pack, as_of=day, clean_path=False))


def test_us_fcc():
    net = make_network([
        E("a", "us-cell", "ran.radio", "zte", "4G", installed_on="2020-02-01", funded_by="USF"),
        E("b", "us-cell", "ran.radio", "huawei", "4G", installed_on="2019-12-01", funded_by="High Cost"),
        E("c", "us-cell", "ran.radio", "huawei", "4G", installed_on="2023-03-01"),
        E("d", "us-cell", "ran.radio", "huawei", "4G", installed_on="2023-02-05"),
        E("e", "us-cell", "ran.radio", "nokia", "4G", installed_on="2023-06-01", funded_by="USF"),
        E("f", "de-cell", "ran.radio", "huawei", "4G", installed_on="2021-01-01", funded_by="USF"),
        E("g", "us-dc", "security.firewall", "kaspersky", installed_on="2023-06-01", funded_by="E-Rate"),
    ])
    assert audit(net, "us-fcc", D(2024, 1, 1)) == {
        ("us-fcc/usf-support", "a", "violation"),
        ("us-fcc/covered-list-subsidy", "a", "warning"),
        ("us-fcc/covered-list-subsidy", "b", "warning"),
        ("us-fcc/equipment-authorisation", "c", "warning"),
        ("us-fcc/covered-list-subsidy", "g", "warning"),
    }


def test_us_ndaa889():
    net = make_network([
        E("a", "us-dc", "transport.router", "huawei"),
        E("b", "us-dc", "security.firewall", "hikvision"),
        E("c", "us-cell", "ran.radio", "zte", "4G", installed_on="2019-09-01", funded_by="federal procurement"),
        E("d", "us-cell", "ran.radio", "zte", "4G", installed_on="2020-08-12", funded_by="federal grant"),
        E("e", "us-cell", "ran.radio", "zte", "4G", installed_on="2020-09-01", funded_by="Federal Grant"),
        E("f", "gb-dc", "transport.router", "huawei"),
    ])
    assert audit(net, "us-ndaa889", D(2021, 1, 1)) == {
        ("us-ndaa889/contractor-use", "a", "violation"),
        ("us-ndaa889/contractor-use-surveillance", "b", "warning"),
        ("us-ndaa889/contractor-use", "c", "violation"),
        ("us-ndaa889/agency-procurement", "c", "violation"),
        ("us-ndaa889/contractor-use", "d", "violation"),
        ("us-ndaa889/contractor-use", "e", "violation"),
        ("us-ndaa889/federal-grants-loans", "e", "violation"),
    }
    # the day before 889(a)(1)(B) applied, only the agency's own purchase breaks the law
    assert audit(net, "us-ndaa889", D(2020, 8, 12)) == {("us-ndaa889/agency-procurement", "c", "violation")}


def test_us_clean_path():
    sites = [{"site_id": "near", "operator_id": "op-de", "kind": "cell", "lat": 52.5163, "lon": 13.3777},
             {"site_id": "far", "operator_id": "op-de", "kind": "cell", "lat": 48.1, "lon": 11.6}]
    sens = [{"sensitive_id": "emb", "name": "Embassy", "kind": "diplomatic", "lat": 52.5101, "lon": 13.3767,
             "radius_m": 1000},
            {"sensitive_id": "base", "name": "Base", "kind": "military", "lat": 49.43, "lon": 7.60}]
    net = make_network([
        E("a", "near", "ran.radio", "zte", "5G-SA"),
        E("b", "near", "ran.radio", "huawei", "4G"),
        E("c", "near", "ran.radio", "ericsson", "5G-NSA"),
        E("d", "far", "ran.radio", "zte", "5G-SA"),
    ], sites=sites, sensitive=sens)
    assert audit(net, "us-clean-path", D(2024, 1, 1)) == {
        ("us-clean-path/diplomatic-5g-radio-nearby", "a", "warning"),
        ("us-clean-path/diplomatic-clean-path", "rule", "info"),
        ("us-clean-path/military-clean-path", "rule", "info"),
    }


def test_uk_tsa():
    sites = [{"site_id": f"g{i}", "operator_id": "op-gb", "kind": "cell", "lat": 53 + i / 10, "lon": -1.5}
             for i in (1, 2, 3)]
    sites.append({"site_id": "g-near", "operator_id": "op-gb", "kind": "hub", "lat": 52.3700, "lon": -1.2000})
    sens = [{"sensitive_id": "mil", "name": "Base", "kind": "military", "lat": 52.3650, "lon": -1.2050,
             "radius_m": 2000}]
    els = [
        E("a", "gb-dc", "core.mme", "huawei"),
        E("b", "gb-cell", "ran.radio", "huawei", "5G-NSA", installed_on="2022-01-01"),
        E("c", "g1", "ran.radio", "huawei", "4G", installed_on="2019-01-01"),
        E("d", "g-near", "transport.router", "huawei"),
        E("e2", "g2", "ran.radio", "ericsson", "4G"),
        E("e25", "g2", "ran.radio", "ericsson", "5G-NSA"),
        E("e3", "g3", "ran.radio", "ericsson", "4G"),
        E("f", "de-dc", "core.mme", "huawei"),
        # transmission: core data centre and interconnect (caught), a cell-site router (access: not)
        E("t1", "gb-dc", "transport.optical", "huawei"),
        E("t2", "gb-dc", "gateway.interconnect", "huawei"),
        E("t3", "g2", "transport.router", "huawei"),
        E("t4", "de-dc", "transport.optical", "huawei"),
    ]
    net = make_network(els, sites=sites, sensitive=sens)
    # 5G RAN sites of op-gb: gb-cell (Huawei), g2: 50 % > 35 % (g1's Huawei 4G is not 5G access)
    assert audit(net, "uk-tsa", D(2024, 6, 1)) == {
        ("uk-tsa/core", "a", "violation"),
        ("uk-tsa/no-new-5g", "b", "violation"),
        ("uk-tsa/remove-5g", "b", "warning"),
        ("uk-tsa/sensitive-sites", "d", "violation"),
        ("uk-tsa/access-cap", "op-gb", "violation"),
        ("uk-tsa/core-transmission", "t1", "warning"),
        ("uk-tsa/core-transmission", "t2", "warning"),
    }
    # the 5G access cap binds from the day after 2023-07-31 (the draft direction's date, which the
    # final direction kept; 2023-10-31 is the full-fibre cap's): before, an excess is a warning
    assert ("uk-tsa/access-cap", "op-gb", "warning") in audit(net, "uk-tsa", D(2023, 7, 31))
    assert ("uk-tsa/access-cap", "op-gb", "violation") in audit(net, "uk-tsa", D(2023, 8, 1))
    # one more Ericsson 5G site: 1 of 3 5G sites (33 %) meets the cap, though 2 of 4 RAN sites are Huawei's
    net3 = make_network(els + [E("e35", "g3", "ran.radio", "ericsson", "5G-NSA")],
                        sites=sites, sensitive=sens)
    assert not any(x[0] == "uk-tsa/access-cap" for x in audit(net3, "uk-tsa", D(2024, 6, 1)))
    # core and interconnect transmission is a breach from 2026
    late = audit(net, "uk-tsa", D(2026, 1, 1))
    assert {x for x in late if x[0] == "uk-tsa/core-transmission"} == {
        ("uk-tsa/core-transmission", "t1", "violation"), ("uk-tsa/core-transmission", "t2", "violation")}


def test_de_2024():
    els = [
        E("a", "de-dc", "core.amf", "huawei"),
        E("b", "de-dc", "core.mme", "zte", "5G-NSA"),
        E("c", "de-dc", "core.mme", "huawei"),
        E("d", "de-dc", "mgmt.ems", "huawei"),
        E("e", "de-dc", "mgmt.oss", "zte"),
        E("f", "de-cell", "ran.radio", "huawei", "5G-SA"),
        E("r5", "de-cell", "ran.radio", "nokia", "5G-SA"),
        E("r4", "de-cell", "ran.radio", "nokia", "4G"),
        E("g", "gb-dc", "core.amf", "huawei"),
    ]
    links = [{"a": "r5", "b": "d", "kind": "management"}, {"a": "r4", "b": "e", "kind": "management"}]
    net = make_network(els, links=links)
    assert audit(net, "de-2024", D(2027, 1, 1)) == {
        ("de-2024/core-5g", "a", "violation"),
        ("de-2024/core-5g", "b", "violation"),
        ("de-2024/management-5g", "d", "warning"),
    }


def test_se_pts_2020():
    net = make_network([
        E("a", "se-cell", "ran.radio", "huawei", "5G-SA", installed_on="2019-01-01"),
        E("b", "se-dc", "transport.router", "zte", installed_on="2021-01-01"),
        E("c", "se-cell", "ran.radio", "huawei", "4G"),
        E("d", "se-dc", "gateway.internet", "huawei"),
        E("e", "se-dc", "core.amf", "ericsson", installed_on="2021-01-01"),
    ])
    assert audit(net, "se-pts-2020", D(2025, 1, 2)) == {
        ("se-pts-2020/phase-out-central", "a", "violation"),
        ("se-pts-2020/phase-out-central", "b", "violation"),
        ("se-pts-2020/no-new-central", "b", "violation"),
    }
    assert ("se-pts-2020/phase-out-central", "a", "warning") in audit(net, "se-pts-2020", D(2025, 1, 1))


def test_ca_2022():
    net = make_network([
        E("a", "ca-cell", "ran.radio", "huawei", "5G-NSA", installed_on="2021-01-01"),
        E("b", "ca-cell", "ran.radio", "zte", "4G", installed_on="2022-09-01"),
        E("c", "ca-dc", "core.mme", "zte", installed_on="2020-01-01"),
        E("d", "ca-dc", "core.upf", "huawei", installed_on="2022-08-31"),
        E("e", "ca-dc", "transport.router", "huawei", installed_on="2023-01-01"),
    ])
    assert audit(net, "ca-2022", D(2025, 1, 1)) == {
        ("ca-2022/remove-5g", "a", "violation"),
        ("ca-2022/no-new-4g-5g", "b", "violation"),
        ("ca-2022/remove-4g", "b", "warning"),
        ("ca-2022/remove-4g", "c", "warning"),
        ("ca-2022/remove-5g", "d", "violation"),
    }


def test_au_2018():
    net = make_network([
        E("a", "au-cell", "ran.radio", "huawei", "5G-SA"),
        E("b", "au-dc", "core.smf", "zte"),
        E("c", "au-cell", "ran.radio", "huawei", "4G"),
        E("d", "au-cell", "ran.radio", "nokia", "5G-SA"),
        E("x", "jp-cell", "ran.radio", "huawei", "5G-SA"),
    ])
    assert audit(net, "au-2018", D(2019, 1, 1)) == {("au-2018/no-5g", "a", "violation"),
                                                     ("au-2018/no-5g", "b", "violation")}
    assert audit(net, "au-2018", D(2018, 8, 22)) == set()


def test_jp_2018():
    net = make_network([
        E("a", "jp-cell", "ran.radio", "huawei", "5G-NSA"),
        E("b", "jp-dc", "transport.router", "zte", installed_on="2019-04-01", funded_by="Government Procurement"),
        E("c", "jp-dc", "transport.router", "zte", installed_on="2019-03-31", funded_by="government procurement"),
        E("d", "jp-cell", "ran.radio", "huawei", "4G"),
    ])
    assert audit(net, "jp-2018", D(2020, 1, 1)) == {
        ("jp-2018/operators-5g-commitment", "a", "info"),
        ("jp-2018/government-procurement", "b", "violation"),
    }


def test_eu_toolbox():
    sens = [{"sensitive_id": "min", "name": "Ministry", "kind": "government", "lat": 48.9, "lon": 2.35,
             "radius_m": 2000}]
    net = make_network([
        E("a", "fr-dc", "core.mme", "huawei"),
        E("b", "de-dc", "mgmt.oss", "zte"),
        E("c", "fr-cell", "ran.radio", "huawei", "4G"),
        E("d", "gb-cell", "ran.radio", "huawei", "4G"),
        E("e", "fr-dc", "core.mme", "nokia"),
    ], sensitive=sens)
    assert audit(net, "eu-toolbox", D(2024, 1, 1)) == {
        ("eu-toolbox/critical-assets", "a", "warning"),
        ("eu-toolbox/higher-risk-vendors", "a", "info"),
        ("eu-toolbox/critical-assets", "b", "warning"),
        ("eu-toolbox/higher-risk-vendors", "b", "info"),
        ("eu-toolbox/sensitive-areas", "c", "warning"),
        ("eu-toolbox/higher-risk-vendors", "c", "info"),
    }
    # before the Commission's 2023 view there is no info finding
    assert {x[0] for x in audit(net, "eu-toolbox", D(2023, 6, 14))} == {
        "eu-toolbox/critical-assets", "eu-toolbox/sensitive-areas"}


# --- Italy, France, South Korea (the allies brief) ---------------------------------------------------

def _net_of(elements, *, links=None, countries=("IT", "FR", "KR")):
    """A validated network with one operator per country in ``countries``: a cell site
    ``<cc>-cell`` and a core data centre ``<cc>-dc`` each."""
    import pandas as pd

    import cleanpath

    pos = {"IT": (41.9, 12.5), "FR": (48.9, 2.35), "KR": (37.5, 127.0)}
    ops = [{"operator_id": f"op-{c.lower()}", "name": f"Operator {c}", "country": c} for c in countries]
    sites = []
    for c in countries:
        lat, lon = pos[c]
        sites += [{"site_id": f"{c.lower()}-cell", "operator_id": f"op-{c.lower()}", "kind": "cell",
                   "lat": lat, "lon": lon, "subscribers": 1000},
                  {"site_id": f"{c.lower()}-dc", "operator_id": f"op-{c.lower()}", "kind": "core_dc",
                   "lat": lat + 0.5, "lon": lon + 0.5}]
    tables = {"operators": pd.DataFrame(ops), "sites": pd.DataFrame(sites),
              "elements": pd.DataFrame(elements).dropna(axis=1, how="all")}
    if links:
        tables["links"] = pd.DataFrame(links)
    return cleanpath.Network(tables, name="allies")


def test_it_goldenpower_before_on_after_each_date():
    net = _net_of([
        E("a", "it-dc", "core.amf", "huawei"),                 # 5G core: notified, vetoed from 2020-10-22
        E("b", "it-dc", "core.mme", "zte", "5G-NSA"),          # 5G (NSA) core, ZTE: notified only
        E("c", "it-cell", "ran.radio", "huawei", "5G-SA"),     # 5G RAN: notified; prescriptions from 2021
        E("d", "it-dc", "mgmt.ems", "huawei"),                 # manages c: remote-intervention channel
        E("e", "it-cell", "ran.radio", "huawei", "4G"),        # 4G: out of every rule
        E("f", "it-dc", "mgmt.oss", "huawei"),                 # manages only 4G e: out
        E("g", "it-cell", "ran.radio", "nokia", "5G-SA"),      # trusted vendor
        E("x", "fr-dc", "core.amf", "huawei"),                 # another country
    ], links=[{"a": "c", "b": "d", "kind": "management"}, {"a": "e", "b": "f", "kind": "management"}])
    notified = {("it-goldenpower/notify-5g", x, "info") for x in "abc"}
    assert audit(net, "it-goldenpower", D(2019, 3, 25)) == set()
    assert audit(net, "it-goldenpower", D(2019, 3, 26)) == notified
    assert audit(net, "it-goldenpower", D(2020, 10, 21)) == notified
    assert audit(net, "it-goldenpower", D(2020, 10, 22)) == notified | {("it-goldenpower/core-veto", "a", "warning")}
    assert audit(net, "it-goldenpower", D(2021, 5, 19)) == notified | {("it-goldenpower/core-veto", "a", "warning")}
    assert audit(net, "it-goldenpower", D(2030, 1, 1)) == notified | {
        ("it-goldenpower/core-veto", "a", "warning"),
        ("it-goldenpower/ran-prescriptions", "c", "info"),
        ("it-goldenpower/remote-management", "d", "warning"),
    }
    # case by case, no deadline: never a violation
    assert all(sev != "violation" for _, _, sev in audit(net, "it-goldenpower", D(2040, 1, 1)))


def test_fr_2019_before_on_after_each_date():
    net = _net_of([
        E("a", "fr-cell", "ran.radio", "huawei", "5G-NSA"),    # 5G radio: authorised, not renewed past 2028
        E("b", "fr-cell", "ran.radio", "huawei", "4G"),        # 4G is exempt from the law
        E("c", "fr-dc", "core.amf", "huawei"),                 # the law is about radio equipment
        E("d", "fr-cell", "ran.radio", "nokia", "5G-SA"),      # trusted vendor
        E("x", "it-cell", "ran.radio", "huawei", "5G-SA"),     # another country
    ])
    auth = {("fr-2019/authorisation", "a", "info")}
    assert audit(net, "fr-2019", D(2019, 7, 31)) == set()
    assert audit(net, "fr-2019", D(2019, 8, 1)) == auth
    assert audit(net, "fr-2019", D(2020, 7, 4)) == auth
    assert audit(net, "fr-2019", D(2020, 7, 5)) == auth | {("fr-2019/no-renewal", "a", "warning")}
    assert audit(net, "fr-2019", D(2028, 12, 31)) == auth | {("fr-2019/no-renewal", "a", "warning")}
    assert audit(net, "fr-2019", D(2029, 1, 1)) == auth | {("fr-2019/no-renewal", "a", "violation")}


def test_kr_baseline_finds_nothing():
    net = _net_of([
        E("a", "kr-cell", "ran.radio", "huawei", "5G-NSA"),
        E("b", "kr-dc", "core.amf", "huawei"),
        E("c", "kr-dc", "mgmt.oss", "zte"),
    ])
    for day in (D(2018, 1, 1), D(2024, 1, 1), D(2035, 1, 1)):
        assert audit(net, "kr-baseline", day) == set()


def test_default_packs_of_it_fr_kr():
    from cleanpath.registry.questions import default_packs

    assert sorted(default_packs(_net_of([E("a", "it-cell", "ran.radio", "nokia", "4G")], countries=("IT",)))) == [
        "eu-toolbox", "it-goldenpower"]
    assert sorted(default_packs(_net_of([E("a", "fr-cell", "ran.radio", "nokia", "4G")], countries=("FR",)))) == [
        "eu-toolbox", "fr-2019"]
    assert default_packs(_net_of([E("a", "kr-cell", "ran.radio", "nokia", "4G")], countries=("KR",))) == [
        "kr-baseline"]


def test_it_fr_kr_packs_rest_on_the_facts():
    """Every rule cites a fact of the shared file or the supplement; its dates come from that fact;
    a rule below high confidence says why; the packs' `facts` exist."""
    import re
    from importlib import resources

    import yaml

    from cleanpath.policy.loader import load_policy
    from conftest import SHARED_DATA

    shared = yaml.safe_load((SHARED_DATA / "facts" / "policy_timeline.yaml").read_text(encoding="utf-8"))
    extra = yaml.safe_load(resources.files("cleanpath.data").joinpath("facts_supplement.yaml")
                           .read_text(encoding="utf-8"))
    facts = {p["id"]: p for p in shared["policies"] + extra["policies"]}
    for name in ("it-goldenpower", "fr-2019", "kr-baseline"):
        p = load_policy(name)
        assert p.facts and set(p.facts) <= set(facts), name
        assert p.notes, f"{name} states its uncertainty"
        for r in p.rules:
            c = r.citation
            assert c.instrument and c.url.startswith("https://") and c.fact in p.facts, r.key
            text = yaml.safe_dump(facts[c.fact], default_flow_style=True, sort_keys=True)
            known = {dt.date.fromisoformat(d) for d in re.findall(r"\b\d{4}-\d{2}-\d{2}\b", text)}
            assert c.date in known, f"{r.key}: citation date {c.date} not in fact {c.fact}"
            for d in (r.start, r.deadline):
                assert d is None or d in known, f"{r.key}: date {d} not in fact {c.fact}"
            if r.confidence != "high" or facts[c.fact].get("confidence") != "high":
                assert r.notes, r.key
    assert not load_policy("kr-baseline").rules
