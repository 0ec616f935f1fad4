"""The demo and the HTML report: every question shows up, and the file stands alone."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from cleanpath.cli.main import cli
from cleanpath.demo import run_demo
from cleanpath.suite import suite_questions

QUESTIONS = suite_questions()
#: Sections of the report: one per question, the outage once per threat mode.
SECTIONS = [s for q in QUESTIONS for s in ([f"outage-{m}" for m in ("fail", "kill", "intercept")]
                                            if q == "outage" else [q])]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, run_demo(out, scale=0.01)


def test_demo_asks_every_question(demo):
    _, result = demo
    asked = result.tables["questions"]["question"].tolist()
    assert [q.split(" ")[0] for q in asked] == [s.split("-")[0] if s.startswith("outage") else s for s in SECTIONS]
    assert {"outage (fail)", "outage (kill)", "outage (intercept)"} <= set(asked)
    assert result.summary["sensitive_sites"] > 0 and result.summary["elements"] > 1000
    assert all(result.tables["questions"]["headline"].str.len() > 0)


def test_report_has_a_section_per_question_and_no_external_assets(demo):
    out, result = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    for s in SECTIONS:
        assert f"<section id='{s}'>" in html, s
    # the three threat modes each show their own figures
    for key in ("unmanaged_elements", "killable_elements", "intercept_traffic_share"):
        assert f"<dt>{key}</dt>" in html, key
    assert "<section id='map'>" in html and "<circle" in html
    # self-contained: no scripts, stylesheets or images fetched from anywhere
    assert not re.search(r"<(script|link|img)\b[^>]*\b(src|href)=", html)
    assert "<svg" in html


def test_report_command_on_a_stored_snapshot(demo, tmp_path):
    out, _ = demo
    target = tmp_path / "r.html"
    r = CliRunner().invoke(cli, ["-w", str(out / "workspace.duckdb"), "report", "-s", "de", "--as-of",
                                 "2026-11-21", "--out", str(target)])
    assert r.exit_code == 0, r.output
    text = target.read_text(encoding="utf-8")
    assert "cleanpath report: de" in text and text.count("<section id=") == len(SECTIONS) + 1


def test_report_on_a_missing_snapshot_exits_2(demo, tmp_path):
    out, _ = demo
    r = CliRunner().invoke(cli, ["-w", str(out / "workspace.duckdb"), "report", "-s", "nope",
                                 "--out", str(tmp_path / "x.html")])
    assert r.exit_code == 2 and "no snapshot 'nope'" in r.stderr
