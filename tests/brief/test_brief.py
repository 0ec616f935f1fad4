"""The allies brief (cleanpath.brief): checked against the underlying questions run by hand on the
same draw, a brute-force recomputation of the RAN and core serving each installation, percentile
intervals recomputed from the raw draws, executor independence and bad input."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from cleanpath.brief import known_countries, run_brief
from cleanpath.brief.engine import METRICS, _draw_seed, serving_shares, with_installations
from cleanpath.errors import ValidationError

SCALE = 0.003
SEED = 1
AS_OF = dt.date(2026, 1, 1)
COUNTRIES = ("DE", "GB", "KR")


@pytest.fixture(scope="module")
def brief():
    return run_brief(countries=COUNTRIES, draws=3, scale=SCALE, seed=SEED, as_of=AS_OF)


@pytest.fixture(scope="module")
def de0():
    """Germany, draw 0 of the brief, rebuilt by hand with the installations added."""
    from cleanpath.build.generate import generate_network

    net = generate_network(country="DE", scale=SCALE, seed=_draw_seed(SEED, "DE", 0))
    net, _ = with_installations(net, "DE")
    return net


def _haversine_m(lat1, lon1, lat2, lon2):
    r = 6371008.8
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(h))


def test_tables_and_shapes(brief):
    c = brief.tables["countries"]
    assert list(c["country"]) == list(COUNTRIES)
    assert (c["draws"] == 3).all()
    d = brief.tables["draws"]
    assert len(d) == 9 and set(d["source"]) == {"generated"}
    # seeds depend on the country and the draw only
    assert list(d["seed"]) == [_draw_seed(SEED, cc, k) for cc in COUNTRIES for k in range(3)]
    for col in c.columns[3:]:
        assert col.endswith(("_share", "_usd", "_count")), col
    # GB has no shipped installations: national figures, no base figures, and a note
    gb = c.set_index("country").loc["GB"]
    assert gb["installations_median_count"] == 0
    assert math.isnan(gb["base_ran_untrusted_median_share"])
    assert gb["national_ran_untrusted_median_share"] > 0
    assert any("GB" in n and "no US installations" in n for n in brief.summary["notes"])
    inst = brief.tables["installations"]
    assert set(inst["country"]) == {"DE", "KR"}
    assert (inst.groupby("country").size() == pd.Series({"DE": 13, "KR": 3})).all()


def test_intervals_are_percentiles_of_the_draws(brief):
    c = brief.tables["countries"].set_index("country")
    d = brief.tables["draws"]
    for cc in COUNTRIES:
        sub = d[d["country"] == cc]
        for m in METRICS:
            stem, _, unit = m.rpartition("_")
            x = sub[m].to_numpy(dtype=float)
            lo, mid, hi = (c.loc[cc, f"{stem}_{s}_{unit}"] for s in ("p05", "median", "p95"))
            if not np.isfinite(x).any():
                assert math.isnan(mid)
                continue
            assert lo <= mid <= hi, (cc, m)
            x = x[np.isfinite(x)]
            # independent: sorted values and linear interpolation by hand
            xs = np.sort(x)

            def pct(p):
                pos = p / 100 * (len(xs) - 1)
                i = int(np.floor(pos))
                j = min(i + 1, len(xs) - 1)
                return xs[i] + (xs[j] - xs[i]) * (pos - i)

            assert mid == pytest.approx(pct(50)) and lo == pytest.approx(pct(5)) and hi == pytest.approx(pct(95))
            assert xs[0] <= lo and hi <= xs[-1]
    inst = brief.tables["installations"].dropna(subset=["ran_untrusted_median_share"])
    assert (inst["ran_untrusted_p05_share"] <= inst["ran_untrusted_median_share"]).all()
    assert (inst["ran_untrusted_median_share"] <= inst["ran_untrusted_p95_share"]).all()


def test_one_draw_against_the_underlying_questions(brief, de0):
    from cleanpath.analysis.clean_path import run_clean_path
    from cleanpath.analysis.outage import run_outage
    from cleanpath.plan.incentive import run_incentive
    from cleanpath.plan.planner import replacement_units
    from cleanpath.policy.vendorset import resolve_untrusted

    row = brief.tables["draws"].query("country == 'DE' and draw == 0").iloc[0]
    bad = resolve_untrusted(de0, None, as_of=AS_OF)
    assert row["elements"] == len(de0.elements)
    assert row["installations_count"] == len(de0.sensitive_sites) == 13
    cp = run_clean_path(de0, untrusted=bad)
    clean_any = cp.tables["clean_path"].groupby("sensitive_id")["clean"].any()
    assert row["installations_clean_count"] == int(clean_any.sum())
    assert row["base_fix_cost_usd"] == pytest.approx(cp.summary["shared_fix_cost"])
    out = run_outage(de0, vendors=bad, mode="intercept")
    assert row["national_intercept_share"] == pytest.approx(out.summary["intercept_traffic_share"])
    sens = out.tables["sensitive"]
    served = sens["serving_radios"] > 0
    assert row["installations_served_count"] == int(served.sum())
    if served.any():
        assert row["base_intercept_share"] == pytest.approx(sens.loc[served, "traffic_share_readable"].mean())
    inc = run_incentive(de0, as_of=AS_OF, untrusted=bad)
    assert row["compliance_cost_usd"] == pytest.approx(inc.summary["compliance_cost"])
    assert row["aid_per_year_usd"] == pytest.approx(inc.summary["compliance_cost"] / 5)
    assert row["break_even_subsidy_share"] == pytest.approx(inc.summary["break_even_subsidy_share"])
    units = replacement_units(de0, untrusted=set(bad))
    assert row["full_removal_cost_usd"] == pytest.approx(units["cost"].sum())
    # the packs' outright removals cost less than removing every untrusted element
    assert 0 < row["national_compliance_cost_usd"] <= row["full_removal_cost_usd"]
    # the per-operator clean-path shares of the brief, for this draw, agree with the question
    per = brief.tables["clean_paths"].query("country == 'DE'")
    assert set(per["operator_id"]) == set(cp.tables["clean_path"]["operator_id"])


def test_serving_shares_by_brute_force(de0):
    """RAN and core serving each installation, recomputed with sets over the link table."""
    from cleanpath.analysis.service import ServiceIndex
    from cleanpath.policy.vendorset import resolve_untrusted

    net = de0
    bad = resolve_untrusted(net, None)
    got = serving_shares(net, bad).set_index("sensitive_id")
    idx = ServiceIndex.of(net)
    serving = set(np.asarray(idx.graph.element_ids)[idx.baseline()])
    el = net.elements.set_index("element_id")
    site_of = el["site_id"].astype(object).to_dict()
    role = el["role"].astype(object).to_dict()
    vendor = el["vendor"].astype(object).to_dict()
    sites = net.sites.set_index("site_id")
    by_site: dict = {}
    for e, s in site_of.items():
        by_site.setdefault(s, []).append(e)
    deps: dict = {}
    for a, b, k in net.links[["a", "b", "kind"]].itertuples(index=False):
        if k in ("control", "anchor"):
            deps.setdefault(a, set()).add(b)
    checked = 0
    for ss in net.sensitive_sites.itertuples(index=False):
        radios = [e for e in serving if role[e] == "ran.radio"
                  and _haversine_m(ss.lat, ss.lon, sites.loc[site_of[e], "lat"], sites.loc[site_of[e], "lon"])
                  <= ss.radius_m + 1.0]
        cell_sites = {site_of[e] for e in radios}
        ran = {e for s in cell_sites for e in by_site[s] if e in serving and role[e].startswith("ran.")}
        seen, todo = set(ran), list(ran)
        while todo:
            for d in deps.get(todo.pop(), ()):
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        dcs = {site_of[e] for e in seen if role[e].startswith("core.") and e in serving}
        core = {e for s in dcs for e in by_site[s] if e in serving and role[e].startswith("core.")}
        g = got.loc[ss.sensitive_id]
        assert g["serving_radios"] == len(radios)
        assert g["ran_elements"] == len(ran)
        assert g["ran_untrusted"] == sum(vendor[e] in bad for e in ran)
        assert g["core_elements"] == len(core)
        assert g["core_untrusted"] == sum(vendor[e] in bad for e in core)
        checked += bool(ran)
    assert checked > 0, "no installation is covered at this scale and seed: the check would be empty"


def test_a_given_snapshot_is_the_network(brief):
    """A snapshot equal to draw 0 gives draw 0's figures, as one draw of its own."""
    from cleanpath.build.generate import generate_network

    net = generate_network(country="DE", scale=SCALE, seed=_draw_seed(SEED, "DE", 0))
    r = run_brief(countries=["DE"], networks={"de": net}, draws=5, scale=SCALE, seed=SEED, as_of=AS_OF)
    d = r.tables["draws"]
    assert len(d) == 1 and d["source"].iloc[0] == "snapshot"
    mine = d.iloc[0][list(METRICS)].astype(float)
    ref = brief.tables["draws"].query("country == 'DE' and draw == 0").iloc[0][list(METRICS)].astype(float)
    pd.testing.assert_series_equal(mine, ref, check_names=False)
    c = r.tables["countries"].iloc[0]
    assert c["source"] == "snapshot" and c["draws"] == 1
    assert c["base_fix_cost_p05_usd"] == c["base_fix_cost_median_usd"] == c["base_fix_cost_p95_usd"]


def test_local_equals_processes():
    kw = dict(countries=["KR", "DE"], draws=2, scale=SCALE, seed=7, as_of=AS_OF)
    local = run_brief(**kw)
    procs = run_brief(executor="processes", **kw)
    assert procs.params["executor"]["executor"] == "processes"
    for name in ("countries", "installations", "clean_paths", "draws"):
        pd.testing.assert_frame_equal(local.tables[name], procs.tables[name])
    assert local.summary == procs.summary


@pytest.mark.parametrize("countries, word", [
    (["XX"], "XX"), (["DE", "zz"], "ZZ"), ("DE,Q1", "Q1"), ([], "no countries"),
])
def test_bad_countries(countries, word):
    with pytest.raises(ValidationError) as e:
        run_brief(countries=countries, draws=1, scale=SCALE)
    text = str(e.value)
    assert word in text
    if word != "no countries":
        assert ", ".join(known_countries()) in text  # lists the known ones


@pytest.mark.parametrize("kw, column", [
    (dict(draws=0), "draws"), (dict(draws=2.5), "draws"), (dict(scale=0), "scale"),
    (dict(scale=float("nan")), "scale"), (dict(aid_years=0), "aid_years"),
    (dict(networks={"KR": "not a network"}), "networks"), (dict(networks={"JP": None}), "networks"),
])
def test_bad_values(kw, column):
    args = dict(countries=["KR"], draws=1, scale=SCALE)
    args.update(kw)
    with pytest.raises(ValidationError) as e:
        run_brief(**args)
    assert any(p.column == column for p in e.value.problems)


def test_unknown_vendor_is_an_error():
    with pytest.raises(ValidationError):
        run_brief(countries=["KR"], draws=1, scale=SCALE, untrusted="nosuchvendor")


def test_progress_is_reported():
    seen = []
    run_brief(countries=["KR"], draws=2, scale=SCALE, on_progress=lambda a, b: seen.append((a, b)), as_of=AS_OF)
    assert seen and seen[-1] == (2, 2)
