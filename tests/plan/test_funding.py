"""Funding allocation: hand-computed cases, the FCC's published aggregates, and properties."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from cleanpath.cli.main import cli
from cleanpath.errors import ValidationError
from cleanpath.plan.funding import allocate, load_programme, read_applications, read_applications_text, run_funding

SHIPPED = resources.files("cleanpath.data").joinpath("programmes", "fcc-scrp-applications.csv")


def apps(text: str):
    return read_applications_text(text, "apps.csv")


def test_hand_computed_prorata():
    a = apps("applicant_id,customers,approved_amount,group\n"
             "a,1000,100,1\nb,2000,200,1\nc,3000,300,1\nd,9000000,400,4\n")
    r = run_funding(a, appropriation=300)
    got = dict(zip(r.tables["allocations"]["applicant_id"], r.tables["allocations"]["allocated_amount"]))
    assert got == pytest.approx({"a": 50, "b": 100, "c": 150, "d": 0})
    assert r.summary["factor_by_group"] == {"1": 0.5, "4": 0.0}
    r = run_funding(a, appropriation=800)  # group 1 full (600), group 4 gets 200 of 400
    assert r.summary["factor_by_group"] == {"1": 1.0, "4": 0.5}


def test_groups_derived_from_customers_and_category():
    a = apps("applicant_id,customers,approved_amount,category\n"
             "small,1999999,10,provider\nedu,5000000,10,education\nlib,3000000,10,library\n"
             "mid,2000001,10,provider\nhuge,10000001,10,provider\n")
    r = run_funding(a, appropriation=1e9)
    t = r.tables["allocations"].set_index("applicant_id")
    assert t["group"].to_dict() == {"small": 1, "edu": 2, "lib": 3, "mid": 4, "huge": 4}
    assert not t.loc["huge", "eligible"] and "10,000,000 customers" in t.loc["huge", "reason"]
    assert t.loc["huge", "allocated_amount"] == 0


def test_equipment_obtained_after_cutoff_is_ineligible():
    a = apps("applicant_id,customers,approved_amount,obtained_on\n"
             "on,10,5,2020-06-30\nafter,10,5,2020-07-01\n")
    t = run_funding(a, appropriation=100).tables["allocations"].set_index("applicant_id")
    assert t["eligible"].to_dict() == {"on": True, "after": False}


def test_fcc_published_factor_2022_and_full_funding_after_top_up():
    a = read_applications(str(SHIPPED))
    prog = load_programme("fcc-scrp")
    assert prog.allocatable(dt.date(2022, 7, 15)) == pytest.approx(1.895e9)
    r = run_funding(a, as_of=dt.date(2022, 7, 15))
    f = r.summary["factor_by_group"]
    assert f["1"] == pytest.approx(0.395, abs=5e-4)
    assert f["2"] == f["3"] == f["4"] == 0.0
    assert r.summary["eligible_applications"] == 126
    r = run_funding(a)  # both appropriations: 1.895 bn + 3.08 bn
    elig = r.tables["allocations"][r.tables["allocations"]["eligible"]]
    assert (elig["factor"] == 1.0).all()
    assert r.tables["tranches"]["factor_group_1"].round(4).tolist() == [0.395, 1.0]


def test_explicit_appropriation_overrides():
    a = read_applications(str(SHIPPED))
    r = run_funding(a, appropriation=1.895e9)
    assert r.summary["factor_by_group"]["1"] == pytest.approx(0.395, abs=5e-4)


@settings(max_examples=60, deadline=None)
@given(amounts=st.lists(st.floats(0, 1e6), min_size=1, max_size=30),
       groups=st.lists(st.integers(1, 4), min_size=30, max_size=30),
       money=st.floats(0, 3e7))
def test_allocation_properties(amounts, groups, money):
    approved = np.array(amounts)
    group = np.array(groups[: len(amounts)])
    eligible = np.ones(len(amounts), dtype=bool)
    alloc, factors = allocate(approved, group, eligible, money)
    assert alloc.sum() <= money + 1e-6 * max(1, money)
    assert (alloc <= approved + 1e-9).all() and (alloc >= 0).all()
    ordered = [factors[g] for g in sorted(factors) if approved[group == g].sum() > 0]
    for earlier, later in zip(ordered, ordered[1:]):  # a later group is paid only once earlier ones are full
        assert later == 0 or earlier == pytest.approx(1.0)
    more, _ = allocate(approved, group, eligible, money * 1.5 + 1)
    assert (more >= alloc - 1e-9).all()  # more money never pays anyone less


def test_bad_applications_are_located():
    with pytest.raises(ValidationError) as e:
        apps("applicant_id,customers,approved_amount,group\n"
             "a,10,-5,1\nb,ten,5,1\nc,10,5,7\na,10,5,1\n")
    got = {(p.line, p.column, p.value) for p in e.value.problems}
    assert got == {(2, "approved_amount", "-5"), (3, "customers", "ten"), (4, "group", "7"),
                   (5, "applicant_id", "a")}
    with pytest.raises(ValidationError, match="required column 'approved_amount'"):
        apps("applicant_id,customers\na,1\n")


def test_cli_funding_json():
    r = CliRunner().invoke(cli, ["funding", "--as-of", "2022-07-15", "--format", "json"])
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["question"] == "funding"
    assert set(obj["tables"]["allocations"][0]) >= {"applicant_id", "group", "approved_amount",
                                                     "allocated_amount", "factor"}
    assert obj["summary"]["factor_by_group"]["1"] == pytest.approx(0.395, abs=5e-4)
    r = CliRunner().invoke(cli, ["funding", "--appropriation", "lots"])
    assert r.exit_code == 2


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), "inf", "nan", "1e400", 10**400, -5e9, "-5bn", "", "lots"])
def test_appropriation_must_be_a_finite_non_negative_amount(bad):
    """inf / nan used to pay everyone in full and -5bn was accepted: the question itself refuses them."""
    a = apps("applicant_id,customers,category,approved_amount,equipment_obtained_on\n"
             "a,5000,,1000,2020-01-01\n")
    with pytest.raises(ValidationError) as e:
        run_funding(a, appropriation=bad)
    p = e.value.problems[0]
    assert p.column == "appropriation" and p.reason


def test_appropriation_given_as_text_is_read_as_an_amount():
    a = apps("applicant_id,customers,category,approved_amount,equipment_obtained_on\n"
             "a,5000,,1000,2020-01-01\nb,5000,,1000,2020-01-01\n")
    r = run_funding(a, appropriation="1k")
    assert r.summary["allocatable"] == 1000.0 and r.summary["allocated"] == pytest.approx(1000.0)
    assert run_funding(a, appropriation=0).summary["allocated"] == 0.0


def test_parse_amount_spellings_and_refusals():
    from cleanpath.units import parse_amount

    assert parse_amount("1.895bn") == 1.895e9
    assert parse_amount("3080m") == 3.08e9
    assert parse_amount("US$1.9 bn") == 1.9e9
    assert parse_amount("500k") == 5e5
    assert parse_amount("1,900,000") == 1.9e6
    assert parse_amount(42) == 42.0 and parse_amount(np.float64(2.5)) == 2.5
    assert str(parse_amount("-0")) == "0.0"
    for bad, why in [("-5bn", "negative"), ("nan", "finite"), ("inf", "finite"), ("-inf", "finite"),
                     ("1e400", "too large"), (10**400, "too large"), (float("nan"), "NaN"), ("", "empty"),
                     ("  ", "empty"), (None, "not an amount"), (True, "not an amount"), ("5 bn x", "not an amount"),
                     ("1e308bn", "too large")]:
        with pytest.raises(ValidationError) as e:
            parse_amount(bad, where="budget")
        assert why in e.value.problems[0].reason and e.value.problems[0].column == "budget", bad


@settings(max_examples=200, deadline=None)
@given(x=st.floats(min_value=0, max_value=1e15, allow_nan=False),
       suffix=st.sampled_from([("", 1.0), ("k", 1e3), ("m", 1e6), ("bn", 1e9), (" bn", 1e9), ("B", 1e9)]))
def test_parse_amount_reads_what_it_is_given(x, suffix):
    from cleanpath.units import parse_amount

    text = f"{x!r}{suffix[0]}"
    assert parse_amount(text) == pytest.approx(x * suffix[1], rel=1e-12)
    assert parse_amount(f"US${text}") == parse_amount(text)
