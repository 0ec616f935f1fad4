"""The one vendor-set grammar (cleanpath.policy.vendorset): parsing, resolving, errors with
suggestions, and the questions that read it.

Oracles are independent of the resolver: expected sets are computed from the shipped
``vendors.yaml`` read with plain YAML, or written out by hand from the policy packs.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import cleanpath
from cleanpath.model.vendors import default_catalogue
from cleanpath.policy.vendorset import (VendorSet, describe_vendor_set, explain_untrusted, parse_vendor_set,
                                        resolve_untrusted, resolve_vendor_set)

CAT = default_catalogue()
DAY = dt.date(2025, 6, 1)


def _yaml_vendors() -> list[dict]:
    """The shipped catalogue read with plain YAML (the oracle's own view of it)."""
    text = resources.files("cleanpath.data").joinpath("vendors.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["vendors"]


VENDORS = _yaml_vendors()
IDS = sorted(v["vendor_id"] for v in VENDORS)


def _spellings(v: dict) -> list[str]:
    """The spellings of one vendor that the catalogue can look up (not "?", which folds to nothing)."""
    names = [v["vendor_id"], v["name"], *v.get("aliases", [])]
    return [n for n in names if any(ch.isalnum() for ch in n)]


# --- a small hand-built network ------------------------------------------------------------------

def small_net(extra_vendor: str = "Acme, Inc. Radio Works") -> cleanpath.Network:
    """Two operators near one base. op1 cell: Huawei radio + ZTE baseband behind an Ericsson router;
    op2 cell: Nokia radio and baseband behind a router of a vendor the catalogue does not know,
    whose name has a comma. Core and gateway per operator."""
    sites = [("c1", "op1", 50.000, 8.000, 100), ("c2", "op2", 50.001, 8.001, 50),
             ("d1", "op1", 50.300, 8.300, 0), ("d2", "op2", 50.310, 8.310, 0)]
    els = [("r1", "c1", "ran.radio", "huawei", "2018-01-01"), ("b1", "c1", "ran.baseband", "zte", "2019-01-01"),
           ("t1", "c1", "transport.router", "ericsson", None), ("u1", "d1", "core.upf", "ericsson", None),
           ("g1", "d1", "gateway.internet", "ericsson", None),
           ("r2", "c2", "ran.radio", "nokia", None), ("b2", "c2", "ran.baseband", "nokia", None),
           ("t2", "c2", "transport.router", extra_vendor, None), ("u2", "d2", "core.upf", "nokia", None),
           ("g2", "d2", "gateway.internet", "huawei", "2020-01-01")]
    links = [("r1", "b1"), ("b1", "t1"), ("t1", "u1"), ("u1", "g1"),
             ("r2", "b2"), ("b2", "t2"), ("t2", "u2"), ("u2", "g2")]
    tables = {
        "operators": pd.DataFrame({"operator_id": ["op1", "op2"], "name": ["One", "Two"], "country": "DE"}),
        "sites": pd.DataFrame([{"site_id": s, "operator_id": o, "kind": "cell", "lat": la, "lon": lo,
                                "subscribers": n} for s, o, la, lo, n in sites]),
        "elements": pd.DataFrame([{"element_id": e, "site_id": s, "role": r, "vendor": v, "installed_on": d}
                                  for e, s, r, v, d in els]),
        "links": pd.DataFrame([{"a": a, "b": b, "kind": "transport"} for a, b in links]),
        "sensitive_sites": pd.DataFrame([{"sensitive_id": "base", "name": "Base", "kind": "military",
                                          "lat": 50.0005, "lon": 8.0005, "radius_m": 2000.0}]),
    }
    return cleanpath.Network(tables, name="vs")


@pytest.fixture(scope="module")
def net():
    return small_net()


# --- the reproductions of issue 11 -----------------------------------------------------------------

def test_incentive_resolves_a_capitalised_name(net):
    from cleanpath.plan.incentive import run_incentive

    by_name = run_incentive(net, as_of=DAY, untrusted="Huawei")
    by_id = run_incentive(net, as_of=DAY, untrusted=frozenset({"huawei"}))
    assert by_name.params["untrusted"] == ["huawei"]
    assert by_name.summary["replacement_cost"] > 0
    assert by_name.summary == by_id.summary
    # r1 and g2 are Huawei: two elements to replace
    assert int(by_name.tables["operators"]["untrusted_elements"].sum()) == 2


def test_a_space_after_the_comma_keeps_the_second_vendor(net):
    from cleanpath.plan.incentive import run_incentive

    assert resolve_untrusted(net, "huawei, zte") == {"huawei", "zte"}
    res = run_incentive(net, as_of=DAY, untrusted="huawei, zte")
    assert res.params["untrusted"] == ["huawei", "zte"]
    assert int(res.tables["operators"]["untrusted_elements"].sum()) == 3  # r1, b1, g2


def test_exposure_resolves_a_pack(net):
    from cleanpath.analysis.exposure import run_exposure

    by_pack = run_exposure(net, untrusted="us-clean-path")
    by_ids = run_exposure(net, untrusted=frozenset({"huawei", "zte"}))
    ex = by_pack.tables["exposure"].set_index("sensitive_id")
    # within 2 km of the base: c1 (r1 Huawei, b1 ZTE, t1) and c2 (r2, b2, t2)
    assert ex.loc["base", "untrusted_elements_within"] == 2
    assert by_pack.summary["with_untrusted_within"] == 1
    assert by_pack.params["untrusted"] == ["huawei", "zte"]
    pd.testing.assert_frame_equal(by_pack.tables["exposure"], by_ids.tables["exposure"])


def test_the_readme_legal_name_works_unquoted(net):
    from cleanpath.analysis.outage import run_outage

    legal = run_outage(net, vendors="Huawei Technologies Co., Ltd.")
    plain = run_outage(net, vendors="huawei")
    assert legal.params["vendors"] == ["huawei"]
    assert legal.summary["lost_elements"] == plain.summary["lost_elements"] > 0
    assert resolve_vendor_set("Huawei Technologies Co., Ltd., ZTE Corp", catalogue=CAT) == {"huawei", "zte"}
    assert resolve_vendor_set("Cisco Systems, Inc.; Juniper Networks, Inc.", catalogue=CAT) == {"cisco", "juniper"}


def test_clean_path_takes_every_form(net):
    from cleanpath.analysis.clean_path import run_clean_path

    forms = ["huawei; zte", ["HUAWEI", "ZTE Corp"], parse_vendor_set("huawei,zte"), frozenset({"huawei", "zte"}),
             "us-clean-path"]
    tables = [run_clean_path(net, trust=f, shared=False).tables["clean_path"] for f in forms]
    for t in tables[1:]:
        pd.testing.assert_frame_equal(t, tables[0])
    assert run_clean_path(net, trust=parse_vendor_set("huawei,zte"), shared=False).params["trust"] == "huawei, zte"


# --- grammar ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, tokens", [
    ("huawei", ("huawei",)),
    ("  huawei ,zte ; nokia  ", ("huawei", "zte", "nokia")),
    ('"Cisco Systems, Inc."', ('"Cisco Systems, Inc."',)),
    ("Huawei Technologies Co., Ltd.", ('"Huawei Technologies Co., Ltd."',)),
    ("Foo S, p, A", ('"Foo S, p, A"',)),  # every legal-only fragment glues on
    ("huawei; Ltd.", ("huawei", '"Ltd."')),  # ';' always separates
    ('"say ""hi"""', ('"say ""hi"""',)),
    ("Country:cn+ru", ("country:CN+RU",)),
    ("ONLY: ericsson + Nokia", ("only:ericsson+Nokia",)),
    ('only:"A+B Corp"+zte', ('only:"A+B Corp"+zte',)),
    ('only:"Huawei Technologies Co., Ltd."+zte', ('only:"Huawei Technologies Co., Ltd."+zte',)),
    ("DEFAULT, huawei, huawei", ("default", "huawei")),
    ("", ()),
    ("   ", ()),
])
def test_parse_tokens(text, tokens):
    vs = parse_vendor_set(text)
    assert vs.tokens == tokens
    # the canonical text reads back to the same setting (no tokens prints as "default")
    assert parse_vendor_set(str(vs)) == (vs if tokens else parse_vendor_set("default"))


def test_parse_forms_agree():
    text = parse_vendor_set("huawei, ZTE Corp; us-clean-path")
    listed = parse_vendor_set(["huawei", "ZTE Corp", "us-clean-path"])
    assert text == listed and parse_vendor_set(text) is text
    # a list split at every comma (as a shell or an old face does) still glues the legal name
    assert parse_vendor_set(["Huawei Technologies Co.", "Ltd."]).names() == ("Huawei Technologies Co., Ltd.",)
    assert parse_vendor_set(None).is_default and str(parse_vendor_set([])) == "default"


@pytest.mark.parametrize("text, reason", [
    ("huawei,,zte", "empty name"),
    ("huawei,", "empty name"),
    ("; huawei", "empty name"),
    ('"huawei', "unbalanced double quote"),
    ('""', "empty quoted name"),
    ("only:", "only: needs vendor names"),
    ("only:  ", "only: needs vendor names"),
    ("only:huawei++zte", "empty name in only:"),
    ("country:", "country: needs country codes"),
])
def test_parse_errors(text, reason):
    with pytest.raises(cleanpath.ValidationError) as e:
        parse_vendor_set(text, setting="--untrusted")
    p = e.value.problems[0]
    assert reason in p.reason and p.column == "--untrusted"


# --- resolving: hand-computed sets -----------------------------------------------------------------

def _hq(cc: str) -> set[str]:
    return {v["vendor_id"] for v in VENDORS if v.get("hq_country") == cc}


def test_country_and_default_against_the_yaml():
    assert resolve_vendor_set("country:CN", catalogue=CAT) == _hq("CN")
    assert resolve_vendor_set("country:cn+RU", catalogue=CAT) == _hq("CN") | _hq("RU")
    bad = _hq("CN") | _hq("RU")
    bad |= {v["vendor_id"] for v in VENDORS if v.get("parent") in bad}
    assert resolve_vendor_set(None, catalogue=CAT) == bad == resolve_vendor_set("default", catalogue=CAT)
    assert {"huawei", "zte", "kaspersky"} <= bad and not bad & {"ericsson", "nokia", "samsung"}


def test_only_covers_the_catalogue_and_the_network(net):
    got = resolve_untrusted(net, "only:ericsson+Nokia Solutions and Networks")
    assert got == (set(IDS) | {"Acme, Inc. Radio Works"}) - {"ericsson", "nokia"}
    assert resolve_vendor_set("only:ericsson", catalogue=CAT) == set(IDS) - {"ericsson"}


@pytest.mark.parametrize("as_of, expected", [
    # us-fcc has no clean_path rules, so every rule's vendors count: Huawei/ZTE always; the Covered
    # List from its entries' dates (2021-03-12, 2022-03-25, 2022-09-20)
    (dt.date(2020, 1, 1), {"huawei", "zte"}),
    (dt.date(2021, 6, 1), {"huawei", "zte", "hytera", "hikvision", "dahua"}),
    (dt.date(2023, 1, 1), {"huawei", "zte", "hytera", "hikvision", "dahua", "kaspersky", "china_mobile",
                           "china_telecom", "pacific_networks", "china_unicom"}),
])
def test_pack_vendors_as_of_a_date(as_of, expected):
    assert resolve_vendor_set("us-fcc", catalogue=CAT, as_of=as_of) == expected
    assert resolve_vendor_set("us-fcc", catalogue=CAT, as_of=as_of.isoformat()) == expected


def test_clean_path_rules_win_in_a_pack():
    # us-clean-path's clean_path rules name Huawei and ZTE; its other rules are not the trust set
    assert resolve_vendor_set("US-Clean-Path", catalogue=CAT) == {"huawei", "zte"}


def test_tokens_unite_and_verbatim_network_names_count(net):
    assert resolve_untrusted(net, '"Acme, Inc. Radio Works"; huawei') == {"Acme, Inc. Radio Works", "huawei"}
    # unquoted, " Inc. Radio Works" is not legal-only, so the name splits and "Acme" is unknown
    with pytest.raises(cleanpath.ValidationError):
        resolve_untrusted(net, "Acme, Inc. Radio Works")
    # a network that names its vendor like a catalogue id keeps it verbatim
    assert resolve_untrusted(net, "huawei, country:RU") == {"huawei", "kaspersky"}


def test_preloaded_policy_files():
    from cleanpath.policy.loader import load_policy

    text = """
pack: mine
title: My rules
rules:
  - id: keep-out
    kind: clean_path
    title: No Ericsson on the path
    vendors: {ids: [ericsson]}
    sensitive_kinds: [military]
    severity: violation
    citation: {instrument: "Test", date: 2020-01-01, url: "https://example.org/x"}
"""
    try:
        mine = load_policy("mine.yaml", text=text)
    except cleanpath.ValidationError as e:  # pragma: no cover - shows the loader's reasons
        pytest.fail(str(e))
    got = resolve_vendor_set("mine.yaml, zte", catalogue=CAT, packs={"mine.yaml": mine})
    assert got == {"ericsson", "zte"}
    vs = parse_vendor_set("mine.yaml, zte").with_packs({"mine.yaml": mine})
    assert resolve_vendor_set(vs, catalogue=CAT) == {"ericsson", "zte"}
    assert vs == parse_vendor_set("mine.yaml, zte")  # the loaded packs are not part of the setting
    with pytest.raises(cleanpath.ValidationError) as e:
        resolve_vendor_set("mine.yaml", catalogue=CAT)
    assert "policy file" in e.value.problems[0].reason


def test_load_pack_files_reads_only_path_tokens(tmp_path):
    from cleanpath.policy.packfiles import load_pack_files

    assert load_pack_files("huawei, us-clean-path, country:CN") == {}
    with pytest.raises(cleanpath.ValidationError) as e:
        load_pack_files(f"huawei, {tmp_path / 'missing.yaml'}")
    assert e.value.problems


# --- errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value, hint", [
    ("huwei", "huwei", "'huawei'"),
    ("Erricson", "Erricson", "'ericsson'"),
    ("us-clean-pth", "us-clean-pth", "'us-clean-path'"),
    ("contry:CN", "contry:CN", "'country:CN'"),
    ("only:ericson", "ericson", "'ericsson'"),
    ("country:UK", "country:UK", "country:GB"),
    ("country:XX", "country:XX", "ISO 3166-1"),
    ("country:NZ", "country:NZ", "no catalogue vendor"),
    ("common", "common", "no rules"),
])
def test_unknown_names_are_errors_with_suggestions(text, value, hint):
    with pytest.raises(cleanpath.ValidationError) as e:
        resolve_vendor_set(text, catalogue=CAT, setting="--untrusted")
    p = e.value.problems[0]
    assert p.value == value and p.column == "--untrusted" and hint in p.reason


def test_every_problem_is_reported_at_once():
    with pytest.raises(cleanpath.ValidationError) as e:
        resolve_vendor_set("huawei, no-such-thing, country:XX", catalogue=CAT)
    assert [p.value for p in e.value.problems] == ["no-such-thing", "country:XX"]


DATED = """
pack: dated
title: A dated list only
vendor_lists:
  later:
    title: Listed from 2030
    citation: {instrument: "Test", date: 2030-01-01, url: "https://example.org/x"}
    entries:
      - {vendor: zte, added: 2030-01-01}
rules:
  - id: later-out
    kind: clean_path
    title: Nothing listed later on the path
    vendors: {list: later}
    sensitive_kinds: [military]
    severity: violation
    citation: {instrument: "Test", date: 2030-01-01, url: "https://example.org/x"}
"""


def test_never_a_silent_empty_set():
    from cleanpath.policy.loader import load_policy

    dated = load_policy("dated.yaml", text=DATED)
    assert resolve_vendor_set("dated.yaml", catalogue=CAT, as_of=dt.date(2031, 1, 1),
                              packs={"dated.yaml": dated}) == {"zte"}
    with pytest.raises(cleanpath.ValidationError) as e:
        resolve_vendor_set("dated.yaml", catalogue=CAT, as_of=dt.date(2029, 1, 1), packs={"dated.yaml": dated})
    assert "names no vendor at all as of 2029-01-01" in e.value.problems[0].reason
    # with another token that names a vendor, the set is not empty and the answer stands
    assert resolve_vendor_set("dated.yaml; huawei", catalogue=CAT, as_of=dt.date(2029, 1, 1),
                              packs={"dated.yaml": dated}) == {"huawei"}


# --- labels ----------------------------------------------------------------------------------------

def test_labels(net):
    assert describe_vendor_set("us-clean-path", catalogue=CAT) == "us-clean-path -> huawei, zte"
    assert describe_vendor_set("huawei, Nokia", catalogue=CAT) == "huawei; Nokia -> nokia"
    long = explain_untrusted(net, "only:ericsson").label
    assert long.startswith("only:ericsson -> ") and "more)" in long
    assert explain_untrusted(net, frozenset({"zte"})).label == "vendor ids -> zte"


# --- property: any subset, any spelling, any separator ---------------------------------------------

@st.composite
def spelled_subsets(draw):
    chosen = draw(st.lists(st.sampled_from(VENDORS), min_size=1, max_size=8, unique_by=lambda v: v["vendor_id"]))
    parts, names = [], []
    for v in chosen:
        name = draw(st.sampled_from(_spellings(v)))
        name = draw(st.sampled_from([name, name.upper(), name.lower()]))
        names.append(name)
        quoted = draw(st.booleans())
        pad = draw(st.sampled_from(["", " ", "  ", "\t"]))
        parts.append(pad + ('"' + name.replace('"', '""') + '"' if quoted else name) + pad)
    seps = [draw(st.sampled_from([",", ";", " ,", "; "])) for _ in parts[1:]]
    text = parts[0] + "".join(s + p for s, p in zip(seps, parts[1:]))
    return {v["vendor_id"] for v in chosen}, text, names


@settings(max_examples=300, deadline=None)
@given(spelled_subsets())
def test_any_spelling_of_any_subset_resolves_back(case):
    ids, text, names = case
    vs = parse_vendor_set(text)
    assert resolve_vendor_set(text, catalogue=CAT) == ids
    assert resolve_vendor_set(vs, catalogue=CAT) == ids
    assert resolve_vendor_set(names, catalogue=CAT) == ids
    assert resolve_vendor_set(parse_vendor_set(str(vs)), catalogue=CAT) == ids
    assert parse_vendor_set(str(vs)) == vs


def test_spellings_are_the_catalogue_lookup():
    # the property above samples every spelling: each must look up to its own vendor
    for v in VENDORS:
        for n in _spellings(v):
            assert CAT.resolve(n) == v["vendor_id"], n
    assert isinstance(parse_vendor_set("x"), VendorSet)


def test_a_resolved_set_handed_on_as_a_list_survives_commas(net):
    # only:ericsson names the network's own "Acme, Inc. Radio Works"; a face that resolves once and
    # passes the ids on as a sorted list must get the same set back, not a split name
    ids = resolve_untrusted(net, "only:ericsson")
    assert resolve_untrusted(net, sorted(ids)) == ids == resolve_untrusted(net, set(ids))
    from cleanpath.analysis.outage import run_outage

    assert run_outage(net, vendors=sorted(ids)).params["vendors"] == sorted(ids)


@pytest.mark.parametrize("spec, nothing", [
    (None, True), ("", True), ("  ", True), ([], True), (["", " "], True), (parse_vendor_set(""), True),
    (frozenset(), False), ("default", False), (['"oops'], False), (["huawei"], False),
])
def test_names_nothing(spec, nothing):
    from cleanpath.policy.vendorset import names_nothing

    assert names_nothing(spec) is nothing


def test_outage_needs_a_named_vendor_set(net):
    from cleanpath.analysis.outage import run_outage

    with pytest.raises(cleanpath.ValidationError) as e:
        run_outage(net, vendors=" ")
    assert e.value.problems[0].column == "--vendor"
    with pytest.raises(cleanpath.ValidationError) as e:
        run_outage(net, vendors="huawei, Hauwei")
    p = e.value.problems[0]
    assert (p.column, p.value) == ("--vendor", "Hauwei") and "'huawei'" in p.reason


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(list('ab ,;"+:.') + ["Ltd", "Inc", "only:", "country:", "default"]),
                max_size=20).map("".join))
def test_any_text_parses_or_fails_cleanly_and_its_canonical_text_reads_back(text):
    try:
        vs = parse_vendor_set(text)
    except cleanpath.ValidationError as e:
        assert e.problems and all(p.column == "--untrusted" for p in e.problems)
        return
    again = parse_vendor_set(str(vs))
    assert again == (vs if vs.items else parse_vendor_set("default"))
