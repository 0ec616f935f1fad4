"""The policy language: loading, validation errors with file and line, includes, and the shipped
packs checked against the shared facts file they cite."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml

from cleanpath.errors import ValidationError
from cleanpath.model.vendors import default_catalogue
from cleanpath.policy import load_policies, load_policy, shipped_packs
from cleanpath.policy.language import ScopeAll, ScopeField, ScopeNear, VendorAny, VendorIds, VendorList

from conftest import SHARED_DATA

CITE = "{instrument: Test Act, date: 2020-01-01, url: https://example.org/act}"
PACKS = ["us-fcc", "us-ndaa889", "us-clean-path", "uk-tsa", "de-2024", "se-pts-2020", "ca-2022",
         "au-2018", "jp-2018", "eu-toolbox", "it-goldenpower", "fr-2019"]
#: shipped packs without rules on purpose (a country with no restriction, compared against)
BASELINES = ["kr-baseline"]


def problems_of(text: str, name: str = "p.yaml"):
    with pytest.raises(ValidationError) as e:
        load_policy(name, text=text)
    return e.value.problems


def only(problems, fragment: str):
    hits = [p for p in problems if fragment in p.reason]
    assert hits, f"no problem mentions {fragment!r}: {[str(p) for p in problems]}"
    return hits[0]


# --- a valid policy -----------------------------------------------------------------------------

def test_a_full_policy_loads_with_every_construct():
    p = load_policy("mine.yaml", text=f"""
pack: mine
title: Everything at once
jurisdiction: [DE, AT]
include: [common]
vendor_lists:
  watch:
    entries:
      - {{vendor: huawei, added: 2021-01-01}}
      - {{vendor: ZTE, added: 2022-01-01, removed: 2023-01-01}}
vendor_sets:
  listed: {{list: watch}}
  chinese_or_listed: {{any: [{{hq_country: [CN]}}, {{set: listed}}]}}
scopes:
  near_bases: {{near: {{kind: [military], radius_m: 2000}}}}
  risky: {{all: [core_5g, {{not: {{operator: [op-x]}}}}]}}
rules:
  - {{id: a, kind: forbid, title: t, vendors: chinese_or_listed, scope: risky, citation: {CITE}}}
  - {{id: b, kind: remove_by, title: t, vendors: huawei_zte, scope: near_bases, deadline: 2026-01-31,
     warn_days: 90, severity: warning, confidence: medium, notes: why, citation: {CITE}}}
  - {{id: c, kind: cap, title: t, vendors: huawei, scope: ran, measure: subscribers, max_percent: 35,
     per: network, citation: {CITE}}}
  - {{id: d, kind: no_new, title: t, vendors: zte, installed_on_or_after: 2022-09-01, citation: {CITE}}}
  - {{id: e, kind: funding, title: t, vendors: huawei, programmes: [USF], citation: {CITE}}}
  - {{id: f, kind: clean_path, title: t, vendors: huawei_zte, sensitive_kinds: [diplomatic], citation: {CITE}}}
""")
    assert p.name == "mine" and p.jurisdiction == ("DE", "AT") and [i.name for i in p.includes] == ["common"]
    by_id = {r.id: r for r in p.rules}
    assert set(by_id) == set("abcdef")
    a = by_id["a"]
    assert isinstance(a.vendors, VendorAny) and isinstance(a.vendors.items[1], VendorList)
    assert a.vendors.items[1].entries[1].vendor == "zte"  # "ZTE" resolved through the catalogue
    assert isinstance(a.scope, ScopeAll) and a.applies_to == ScopeField("country", ("DE", "AT"))
    assert a.start == dt.date(2020, 1, 1) and a.citation.url == "https://example.org/act"
    assert by_id["b"].scope == ScopeNear(("military",), 2000.0) and by_id["b"].warn_days == 90
    assert by_id["c"].per == "network" and by_id["c"].max_percent == 35.0
    assert by_id["d"].vendors == VendorIds(("zte",)) and by_id["d"].line == 23
    assert by_id["f"].sensitive_kinds == ("diplomatic",)


def test_shipped_packs_load_and_all_means_every_pack():
    assert set(PACKS) <= set(shipped_packs())
    loaded = load_policies("all")
    assert sorted(p.name for p in loaded) == sorted(PACKS + BASELINES)  # the library pack 'common' is left out
    assert [p.name for p in load_policies("uk-tsa, de-2024,uk-tsa")] == ["uk-tsa", "de-2024"]
    with pytest.raises(ValidationError, match="unknown pack 'uk'"):
        load_policies("uk")


def test_two_different_policies_with_one_name_are_refused(tmp_path):
    (tmp_path / "uk.yaml").write_text("pack: uk-tsa\ntitle: my own copy\n")
    with pytest.raises(ValidationError, match="two policies are named 'uk-tsa'"):
        load_policies(f"uk-tsa,{tmp_path / 'uk.yaml'}")


# --- errors, each with file and line ------------------------------------------------------------

def test_unknown_key_names_line_and_suggests():
    text = f"""pack: p
title: t
rules:
  - id: r
    kind: forbid
    title: x
    vendors: huawei
    severty: warning
    citation: {CITE}
"""
    p = only(problems_of(text), "unknown key 'severty'")
    assert (p.file, p.line, p.column) == ("p.yaml", 8, 5)
    assert "did you mean 'severity'" in p.reason
    assert "p.yaml:8, col 5" in str(p)


def test_wrong_types_are_reported():
    text = f"""pack: p
title: t
jurisdiction: Germany
rules:
  - id: r
    kind: cap
    title: [a, list]
    vendors: huawei
    measure: elements
    max_percent: thirty
    citation: {CITE}
"""
    probs = problems_of(text)
    assert only(probs, "ISO 3166-1 alpha-2").line == 3
    assert only(probs, "title must be text, not a list").line == 7
    assert only(probs, "max_percent must be a number, not text").line == 10
    assert only(problems_of("pack: p\ntitle: t\nrules: {a: 1}\n"), "rules must be a list").line == 3


@pytest.mark.parametrize("value, reason", [
    ("2023-02-30", "day is out of range for month"),
    ("2023", "must be a date (YYYY-MM-DD), not a whole number"),
    ("2023-06", "use YYYY-MM-DD"),
    ("31/12/2023", "use YYYY-MM-DD"),
])
def test_bad_dates_are_reported(value, reason):
    text = f"""pack: p
title: t
rules:
  - id: r
    kind: remove_by
    title: x
    vendors: huawei
    deadline: {value}
    citation: {CITE}
"""
    p = only(problems_of(text), reason)
    assert p.line == 8 and p.value == value


def test_unknown_vendor_and_vendor_set():
    text = f"""pack: p
title: t
vendor_sets:
  s: {{ids: [huawei, Huwaei]}}
rules:
  - {{id: r, kind: forbid, title: x, vendors: acme_set, citation: {CITE}}}
"""
    probs = problems_of(text)
    v = only(probs, "unknown vendor 'Huwaei'")
    assert v.line == 4 and "did you mean" in v.reason
    assert only(probs, "unknown vendor or vendor set 'acme_set'").line == 6


def test_unknown_vocabulary_values():
    text = f"""pack: p
title: t
rules:
  - {{id: r, kind: forbid, title: x, vendors: huawei, scope: {{generation: [6G], domain: [radio]}},
     citation: {CITE}}}
  - {{id: s, kind: clean_path, title: x, vendors: huawei, sensitive_kinds: [embassy], citation: {CITE}}}
  - {{id: t, kind: forbid, title: x, vendors: huawei, severity: critical, citation: {CITE}}}
  - {{id: u, kind: ban, title: x, vendors: huawei, citation: {CITE}}}
"""
    probs = problems_of(text)
    assert "unknown generation '6G'" in only(probs, "6G").reason
    assert only(probs, "unknown domain 'radio'").line == 4
    assert only(probs, "unknown sensitive-site kind 'embassy'").line == 6
    assert only(probs, "severity must be one of info, warning, violation").line == 7
    assert only(probs, "kind must be one of forbid").line == 8


def test_missing_and_misplaced_keys():
    text = """pack: p
title: t
rules:
  - {id: r, kind: remove_by, title: x, vendors: huawei, max_percent: 10,
     citation: {instrument: X, date: 2020-01-01}}
  - {id: r2, kind: forbid, title: x, vendors: huawei}
"""
    probs = problems_of(text)
    assert only(probs, "needs the key 'deadline'").line == 4
    assert only(probs, "'max_percent' does not apply to rule kind 'remove_by'").line == 4
    assert only(probs, "missing the required key 'url'").line == 5
    assert only(probs, "a rule is missing the required key 'citation'").line == 6


def test_duplicate_rule_ids_and_keys():
    text = f"""pack: p
title: t
title: again
rules:
  - {{id: r, kind: forbid, title: x, vendors: huawei, citation: {CITE}}}
  - {{id: r, kind: forbid, title: y, vendors: zte, citation: {CITE}}}
"""
    probs = problems_of(text)
    assert only(probs, "duplicate key 'title'").line == 3
    assert "first at line 5" in only(probs, "duplicate rule id 'r'").reason


def test_circular_named_definitions():
    text = f"""pack: p
title: t
scopes:
  a: {{all: [b, {{domain: [ran]}}]}}
  b: {{any: [a]}}
rules:
  - {{id: r, kind: forbid, title: x, vendors: huawei, scope: a, citation: {CITE}}}
"""
    assert "circular" in only(problems_of(text), "refers to itself").reason


def test_include_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("pack: a\ntitle: A\ninclude: [b.yaml]\n")
    (tmp_path / "b.yaml").write_text("pack: b\ntitle: B\ninclude: [common, ./a.yaml]\n")
    with pytest.raises(ValidationError) as e:
        load_policy(tmp_path / "a.yaml")
    p = only(e.value.problems, "include cycle")
    assert p.file.endswith("b.yaml") and p.line == 3
    assert re.search(r"a\.yaml -> .*b\.yaml -> .*a\.yaml", p.reason)


def test_include_brings_rules_and_definitions(tmp_path):
    (tmp_path / "base.yaml").write_text(f"""pack: base
title: Base
vendor_sets:
  bad: {{ids: [zte]}}
rules:
  - {{id: r, kind: forbid, title: x, vendors: bad, citation: {CITE}}}
""")
    (tmp_path / "top.yaml").write_text(f"""pack: top
title: Top
include: [base.yaml, common]
rules:
  - {{id: r, kind: forbid, title: y, vendors: bad, scope: core_5g, citation: {CITE}}}
""")
    p = load_policy(tmp_path / "top.yaml")
    assert [r.key for r in p.all_rules()] == ["base/r", "top/r"]
    assert p.rules[0].vendors == VendorIds(("zte",))
    missing = tmp_path / "m.yaml"
    missing.write_text("pack: m\ntitle: M\ninclude: [nothere.yaml, no-such-pack]\n")
    with pytest.raises(ValidationError) as e:
        load_policy(missing)
    reasons = " | ".join(p.reason for p in e.value.problems)
    assert "policy file not found" in reasons and "unknown pack 'no-such-pack'" in reasons


def test_yaml_syntax_error_and_empty_file(tmp_path):
    p = only(problems_of("pack: p\ntitle: [unclosed\nrules: []\n"), "not valid YAML")
    assert p.line is not None and p.line >= 2
    f = tmp_path / "empty.yaml"
    f.write_text("   \n")
    with pytest.raises(ValidationError, match="empty"):
        load_policy(f)


def test_many_problems_are_collected_in_one_error():
    rules = "\n".join(f"  - {{id: r{i}, kind: forbid, title: x, vendors: nobody{i}, citation: {CITE}}}"
                      for i in range(150))
    with pytest.raises(ValidationError) as e:
        load_policy("p.yaml", text=f"pack: p\ntitle: t\nrules:\n{rules}\n")
    assert len(e.value.problems) == 100 and e.value.truncated
    assert [p.line for p in e.value.problems[:3]] == [4, 5, 6]


def test_policy_may_use_vendors_from_a_network_catalogue():
    import pandas as pd

    text = f"pack: p\ntitle: t\nrules:\n  - {{id: r, kind: forbid, title: x, vendors: {{ids: [Acme]}}, citation: {CITE}}}\n"
    assert only(problems_of(text), "unknown vendor 'Acme'")
    extra = pd.DataFrame([{"vendor_id": "acme", "name": "Acme Radio", "aliases": "Acme", "hq_country": "XX",
                           "parent": None}])
    p = load_policy("p.yaml", text=text, catalogue=default_catalogue().extended(extra))
    assert p.rules[0].vendors == VendorIds(("acme",))


def test_alias_bombs_are_refused():
    # seven levels of ten aliases each would make 10 million scope nodes
    lines = ["pack: p", "title: t", "scopes:", "  s0: &s0 {all: [" + ", ".join(["{domain: [ran]}"] * 10) + "]}"]
    lines += [f"  s{i}: &s{i} {{all: [{', '.join(['*s' + str(i - 1)] * 10)}]}}" for i in range(1, 8)]
    assert only(problems_of("\n".join(lines) + "\n"), "YAML nodes").line is None
    # a MultiPolygon of 3,001 copies of a 100-ring polygon (1.2 M positions) in a few lines
    ring = "[[0, 0], [1, 0], [1, 1], [0, 0]]"
    text = f"""pack: p
title: t
vendor_sets:
  v: {{ids: [huawei]}}
scopes:
  big: {{inside: {{type: MultiPolygon, coordinates: [&p0 [{', '.join([ring] * 100)}], {', '.join(['*p0'] * 3000)}]}}}}
"""
    assert only(problems_of(text), "polygon positions").line == 6


# --- the shipped packs against the facts they cite ----------------------------------------------

@pytest.fixture(scope="module")
def facts() -> dict[str, dict]:
    path = SHARED_DATA / "facts" / "policy_timeline.yaml"
    if not path.exists():
        pytest.fail(f"facts file not found at {path}")
    out = {p["id"]: p for p in yaml.safe_load(path.read_text(encoding="utf-8"))["policies"]}
    # facts the shared (read-only) file does not hold yet, shipped in cleanpath/data; never a repeat
    from importlib import resources

    extra = resources.files("cleanpath.data").joinpath("facts_supplement.yaml")
    more = {p["id"]: p for p in yaml.safe_load(extra.read_text(encoding="utf-8"))["policies"]}
    assert not set(more) & set(out), "a supplementary fact repeats one of the shared file"
    return {**out, **more}


def _dates_in(entry: dict) -> set[dt.date]:
    text = yaml.safe_dump(entry, default_flow_style=True, sort_keys=True)
    return {dt.date.fromisoformat(d) for d in re.findall(r"\b\d{4}-\d{2}-\d{2}\b", text)}


@pytest.mark.parametrize("pack", PACKS)
def test_every_rule_cites_a_fact_and_its_dates_come_from_it(pack, facts):
    p = load_policy(pack)
    assert p.rules, f"{pack} has no rules"
    assert set(p.facts) <= set(facts), f"{pack} names facts that do not exist"
    for r in p.rules:
        c = r.citation
        assert c.instrument and c.url.startswith("https://") and c.fact in facts, r.key
        assert c.fact in p.facts, r.key
        known = _dates_in(facts[c.fact])
        assert c.date in known, f"{r.key}: citation date {c.date} is not in fact {c.fact}"
        # a rule's own dates are facts' dates, or the day after one ("after end of September")
        allowed = known | {d + dt.timedelta(days=1) for d in known}
        for d in (r.start, r.deadline, r.installed_on_or_after):
            assert d is None or d in allowed, f"{r.key}: date {d} is not in fact {c.fact}"
        if r.confidence != "high" or facts[c.fact].get("confidence") != "high":
            assert r.notes or facts[c.fact].get("confidence") == "high", r.key


def test_pack_vendor_sets_match_the_facts(facts):
    cat = default_catalogue()
    for pack in PACKS:
        p = load_policy(pack)
        for r in p.rules:
            named = facts[r.citation.fact].get("vendors") or []
            ids = {cat.resolve(v) for v in named if isinstance(v, str)} - {None}
            wanted = set(_ids_of(r.vendors))
            if ids and wanted:
                assert wanted <= ids | {"hytera", "hikvision", "dahua", "kaspersky", "china_mobile",
                                        "china_telecom", "china_unicom", "pacific_networks"}, r.key


def _ids_of(expr) -> list[str]:
    if isinstance(expr, VendorIds):
        return list(expr.ids)
    if isinstance(expr, VendorList):
        return [e.vendor for e in expr.entries]
    return [v for it in getattr(expr, "items", ()) for v in _ids_of(it)]


def test_fcc_covered_list_entries_match_the_facts(facts):
    cat = default_catalogue()
    covered = load_policy("us-fcc").rules[1].vendors
    assert isinstance(covered, VendorList)
    pack = {e.vendor: e.added for e in covered.entries}
    matched = 0
    for entry in facts["us-fcc-covered-list"]["entries"]:
        vid = cat.resolve(entry["entity"])
        if vid is None:
            continue  # services and products without a catalogue vendor (documented in the pack)
        assert pack[vid] == entry["added"], entry["entity"]
        matched += 1
    assert matched >= 7


def test_every_pack_says_what_it_does_not_encode():
    for pack in PACKS:
        p = load_policy(pack)
        assert p.notes and p.description and p.title, pack
        assert p.jurisdiction or pack == "us-clean-path", pack


# --- command line -------------------------------------------------------------------------------

def test_cli_policy_list_show_check_schema(tmp_path):
    import json

    from click.testing import CliRunner

    from oracles import graph_cli as _cli

    def run(*args):
        return CliRunner().invoke(_cli(), ["-w", str(tmp_path / "ws.duckdb"), *args], catch_exceptions=False)

    r = run("policy", "list", "--format", "json")
    assert r.exit_code == 0
    packs = {row["pack"]: row for row in json.loads(r.stdout)["tables"]["packs"]}
    assert set(PACKS) <= set(packs) and packs["uk-tsa"]["jurisdiction"] == "GB" and packs["common"]["library"]
    r = run("policy", "show", "ca-2022", "--format", "csv")
    assert r.exit_code == 0 and r.stdout.count("\nca-2022,") == 3
    good = tmp_path / "good.yaml"
    good.write_text(f"pack: good\ntitle: G\ninclude: [common]\nrules:\n"
                    f"  - {{id: r, kind: forbid, title: x, vendors: huawei_zte, scope: core, citation: {CITE}}}\n")
    r = run("policy", "check", str(good), "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["summary"]["ok"] is True
    bad = tmp_path / "bad.yaml"
    bad.write_text("pack: bad\ntitle: B\nrules:\n  - {id: r, kind: forbid, titel: x}\n")
    r = run("policy", "check", str(bad))
    assert r.exit_code == 2
    assert f"{bad}:4" in r.output and "unknown key 'titel'" in r.output and "did you mean 'title'" in r.output
    r = run("policy", "check", str(bad), "--format", "json")
    obj = json.loads(r.stdout)
    assert obj["error"] == "validation" and obj["problems"][0]["line"] == 4
    r = run("policy", "schema", "--format", "csv")
    assert r.exit_code == 0 and "max_percent" in r.stdout and "near" in r.stdout


def test_reference_example_loads_and_every_key_is_documented():
    from cleanpath.policy.language import (EXAMPLE, PACK_KEYS, RULE_KEYS, RULE_KINDS, SCOPE_KEYS,
                                           VENDOR_SET_KEYS, policy_markdown)

    p = load_policy("example.yaml", text=EXAMPLE)
    assert p.rules[0].deadline == dt.date(2026, 12, 31) and len(p.all_rules()) == 7  # 6 from uk-tsa
    doc = policy_markdown()
    for key in [*PACK_KEYS, *RULE_KEYS, *SCOPE_KEYS, *VENDOR_SET_KEYS, *RULE_KINDS]:
        assert f"`{key}`" in doc, key
