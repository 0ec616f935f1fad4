"""`cleanpath estimate`: a network from OpenCelliD cells with vendors drawn from reported shares.

The cell file is written here in the real OpenCelliD layout from the sites of a generated German
network (three LTE sectors per site, plus NR cells where the site has 5G), so the true answer is
known: how many sites, which have 5G, and what the reported shares are.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from scipy.sparse.csgraph import connected_components

import cleanpath
from cleanpath.build.estimate import draw_share, estimate_network
from cleanpath.build.generate import generate_network
from cleanpath.errors import ValidationError

MCC_MNC = {"de-telekom": (262, 1), "de-vodafone": (262, 2), "de-o2": (262, 3)}
HEADER = "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal"
CHINESE = {"huawei", "zte"}


@pytest.fixture(scope="module")
def cells_file(tmp_path_factory):
    """An OpenCelliD export of 1,600 German sites (5G at about three in four)."""
    net = generate_network(country="DE", scale=0.02, seed=8)
    cells = net.sites[net.sites["kind"] == "cell"].astype(object).reset_index(drop=True)
    el = net.elements.astype(object)
    has5 = set(el.loc[el["generation"].isin(["5G-NSA", "5G-SA"]), "site_id"])
    lines = [HEADER]
    for i, s in enumerate(cells.itertuples()):
        mcc, mnc = MCC_MNC[s.operator_id]
        enb = 100_000 + i
        for sector in range(3):
            lines.append(f"LTE,{mcc},{mnc},4100,{enb * 256 + sector},{sector},{s.lon:.6f},{s.lat:.6f},"
                         f"1000,20,1,1500000000,1600000000,0")
            if s.site_id in has5:
                lines.append(f"NR,{mcc},{mnc},4100,{enb * 4096 + sector},{sector},{s.lon:.6f},{s.lat:.6f},"
                             f"500,20,1,1600000000,1700000000,0")
    path = tmp_path_factory.mktemp("ocid") / "cells_262.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(cells), len(has5 & set(cells["site_id"]))


@pytest.fixture(scope="module")
def est(cells_file):
    return estimate_network(opencellid=cells_file[0], samples=60, seed=3)


def fig(e, op: str, name: str) -> pd.Series:
    f = e.figures
    return f[(f["operator_id"] == op) & (f["figure"] == name)].iloc[0]


def test_sites_and_generations_come_from_the_cells(est, cells_file):
    _path, n_sites, n5 = cells_file
    net = est.network
    cells = net.sites[net.sites["kind"] == "cell"]
    assert len(cells) == n_sites
    el = net.elements
    nsa = el[(el["generation"] == "5G-NSA") & (el["role"] == "ran.baseband")]
    assert nsa["site_id"].nunique() == n5
    assert set(net.operators["operator_id"]) == set(MCC_MNC)
    # Subscribers come from the people around the sites: in the hundred millions at most, and
    # every operator has some.
    per_op = cells.groupby("operator_id")["subscribers"].sum()
    assert (per_op > 0).all() and per_op.sum() < 1.3 * 83_000_000 * 1.2


def test_national_figures_centre_on_the_reported_shares(est):
    for name, target in (("chinese_subscribers_4g", 0.57), ("chinese_subscribers_5g", 0.59)):
        f = fig(est, "all", name)
        assert f["p05"] < target < f["p95"], (name, f.to_dict())
        assert abs(f["median"] - target) <= 0.03, (name, f["median"])
        # The interval reflects the figures' stated confidence (high: sd 3 points), not nothing.
        assert 0.02 <= f["p95"] - f["p05"] <= 0.2
    # Telekom's own reported figure (about two-thirds) is kept.
    assert fig(est, "de-telekom", "chinese_subscribers_4g")["median"] == pytest.approx(0.66, abs=0.04)


def test_draw_figures_match_the_drawn_networks(est):
    # Oracle: recompute draw 1's 4G share from its whole network with pandas.
    net = est.draw_network(1)
    el = net.elements.astype(object)
    bb4 = el[(el["role"] == "ran.baseband") & (el["generation"] == "4G")].set_index("site_id")["vendor"]
    cells = net.sites[net.sites["kind"] == "cell"].astype(object).set_index("site_id")
    w = cells["subscribers"].astype(float)
    cn = bb4.reindex(cells.index).isin(CHINESE)
    expected = float(w[cn].sum() / w.sum())
    row = est.draws[(est.draws["draw"] == 1) & (est.draws["operator_id"] == "all")].iloc[0]
    assert row["chinese_subscribers_4g"] == pytest.approx(expected)
    # Draws differ from one another.
    assert est.draws.loc[est.draws["operator_id"] == "all", "chinese_subscribers_4g"].nunique() > 10


def test_without_spread_every_draw_hits_the_figure(cells_file):
    shares = {"spread": {"H": 0, "M": 0, "L": 0, "A": 0},
              "countries": {"DE": {"4G": {"chinese": 0.3, "source": "t"}, "5G": {"chinese": 0.2, "source": "t"}}}}
    e = estimate_network(opencellid=cells_file[0], vendor_shares=shares, samples=8, seed=0)
    d = e.draws[e.draws["operator_id"] == "all"]
    assert np.allclose(d["chinese_subscribers_4g"], 0.3, atol=0.01)
    assert np.allclose(d["chinese_subscribers_5g"], 0.2, atol=0.01)
    # ... while where the lots lie still changes between draws.
    v0 = e.draw_network(0).elements.set_index("element_id")["vendor"]
    v1 = e.draw_network(1).elements.set_index("element_id")["vendor"]
    common = v0.index.intersection(v1.index)
    assert (v0[common] != v1[common]).any()


def test_estimated_network_is_whole_and_valid(est):
    net = est.network
    cleanpath.validate_tables({k: v.astype(object) for k, v in net.tables().items()})
    ids = pd.Index(net.elements["element_id"].to_numpy(object))
    t = net.links[net.links["kind"] == "transport"]
    a, b = ids.get_indexer(t["a"].to_numpy(object)), ids.get_indexer(t["b"].to_numpy(object))
    _n, lab = connected_components(sp.csr_matrix((np.ones(len(a)), (a, b)), shape=(len(ids),) * 2), directed=False)
    gw = net.elements["role"].to_numpy(object) == "gateway.internet"
    assert np.isin(lab, np.unique(lab[gw])).all()
    # Every 5G-NSA radio keeps its anchor's vendor, at its own site.
    el = net.elements.astype(object).set_index("element_id")
    anc = net.links[net.links["kind"] == "anchor"].astype(object)
    assert len(anc) > 0
    assert (el.loc[anc["a"], "vendor"].to_numpy() == el.loc[anc["b"], "vendor"].to_numpy()).all()
    assert (el.loc[anc["a"], "site_id"].to_numpy() == el.loc[anc["b"], "site_id"].to_numpy()).all()
    # The imported element ids and the radios' cell counts are kept.
    assert el.index.str.contains("/4G-radio").any()
    assert (el.loc[el.index.str.endswith("/4G-radio"), "model"] == "3 cells").all()


def test_same_seed_same_draws(cells_file):
    a = estimate_network(opencellid=cells_file[0], samples=5, seed=9)
    b = estimate_network(opencellid=cells_file[0], samples=5, seed=9)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    pd.testing.assert_frame_equal(a.network.elements, b.network.elements)


def test_interval_of_any_figure(est):
    out = est.interval(lambda n: {"huawei_basebands": float((n.elements["vendor"] == "huawei").sum())}, draws=4)
    row = out.set_index("figure").loc["huawei_basebands"]
    assert row["p05"] <= row["median"] <= row["p95"] and row["draws"] == 4
    with pytest.raises(ValidationError):
        est.draw_network(est.samples)


def test_draw_share_spread():
    rng = np.random.default_rng(0)
    x = draw_share(rng, 0.57, 0.03, size=20000)
    assert x.mean() == pytest.approx(0.57, abs=0.002) and x.std() == pytest.approx(0.03, abs=0.002)
    assert draw_share(rng, 0.0, 0.1) == 0.0 and draw_share(rng, 1.0, 0.1) == 1.0


def test_bad_inputs(tmp_path, cells_file):
    with pytest.raises(ValidationError):
        estimate_network(opencellid=cells_file[0], samples=0)
    bad = tmp_path / "shares.yaml"
    bad.write_text("countries:\n  DE:\n    4G: {chinese: two, source: x}\n", encoding="utf-8")
    with pytest.raises(ValidationError) as e:
        estimate_network(opencellid=cells_file[0], vendor_shares=bad, samples=2)
    assert any(p.line == 3 and p.file == str(bad) for p in e.value.problems)


def test_estimate_command(tmp_path, cells_file):
    from cleanpath.cli.main import cli

    if "estimate" not in cli.commands:  # until the lead registers cleanpath.cli.generate
        from cleanpath.cli.generate import register

        register(cli)
    ws = tmp_path / "ws.duckdb"
    r = CliRunner().invoke(cli, ["-w", str(ws), "estimate", "--opencellid", str(cells_file[0]), "--samples",
                                 "20", "--snapshot", "est", "--format", "json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["question"] == "estimate" and obj["params"]["samples"] == 20
    rows = {(x["operator_id"], x["figure"]): x for x in obj["tables"]["figures"]}
    assert rows[("all", "chinese_subscribers_4g")]["p05"] <= rows[("all", "chinese_subscribers_4g")]["median"]
    with cleanpath.open_workspace(ws, read_only=True) as w:
        assert w.network("est").sites["kind"].eq("cell").sum() == cells_file[1]
