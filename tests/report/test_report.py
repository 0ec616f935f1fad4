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
    # the three threat modes each show their own figures, labelled for people
    for section, label in (("outage-fail", "Unmanaged elements"), ("outage-kill", "Killable elements"),
                           ("outage-intercept", "Intercept traffic share")):
        assert f"<span>{label}</span>" in _section(html, section), label
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
    # the summary, the map and a section per question
    assert "cleanpath report: de" in text and text.count("<section id=") == len(SECTIONS) + 2


def test_report_on_a_missing_snapshot_exits_2(demo, tmp_path):
    out, _ = demo
    r = CliRunner().invoke(cli, ["-w", str(out / "workspace.duckdb"), "report", "-s", "nope",
                                 "--out", str(tmp_path / "x.html")])
    assert r.exit_code == 2 and "no snapshot 'nope'" in r.stderr


# --- the report for people ---------------------------------------------------------------------------

def _section(html: str, anchor: str) -> str:
    start = html.index(f"<section id='{anchor}'>")
    return html[start:html.index("</section>", start)]


def test_page_one_is_a_summary_with_a_card_per_section_then_the_map(demo):
    out, _ = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    first_question = min(html.index(f"<section id='{s}'>") for s in SECTIONS)
    assert html.index("<section id='summary'>") < html.index("<section id='map'>") < first_question
    summary = _section(html, "summary")
    # one card per section, each linking to it, each with a figure and a sentence ending in a full stop
    links = re.findall(r"<div class='card \w+'><h3><a href='#([^']+)'>", summary)
    assert links == SECTIONS
    sentences = re.findall(r"</div><p>([^<]+)</p></div>", summary)
    assert len(sentences) == len(SECTIONS) and all(t.endswith(".") and len(t) > 30 for t in sentences)
    assert len(re.findall(r"<div class='fig'>[^<]+<small>", summary)) == len(SECTIONS)
    # the wording says what was found, in words (not raw keys)
    assert "As of 2026-11-21" in summary and "_" not in " ".join(sentences).replace("de-", "")
    # before/after counts violations at the plan's end, not on the audit's day: the card names that date
    m = re.search(r"audited as of (\d{4})-12-31, violations go from ([\d,]+) without it to 0 with it\.", summary)
    assert m and int(m.group(1)) > 2026, summary


def test_labels_units_and_years_are_for_people(demo):
    out, _ = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert heads and not [h for h in heads if "_" in h], "raw column names in table heads"
    assert "Cost" in heads and "Year" in heads and "Nearest untrusted (km)" in heads
    # years are never printed with a thousands separator
    assert not re.search(r"2,0[2-9][0-9]\b", _section(html, "plan"))
    assert ">2027<" in _section(html, "plan") and ">NaT<" not in html and ">nan<" not in html
    # money in dollars
    assert re.search(r"\$[0-9.]+ m<", _section(html, "plan"))


def test_tables_fit_the_page(demo):
    from cleanpath.report.html import MAX_COLUMNS, MAX_ROWS, MAX_TABLES

    out, _ = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    tables = re.findall(r"<table>(.*?)</table>", html, flags=re.S)
    assert tables
    for t in tables:
        assert len(re.findall(r"<th[ >]", t)) <= MAX_COLUMNS
        assert t.count("<tr>") <= MAX_ROWS + 1
    for s in SECTIONS:
        assert _section(html, s).count("<table>") <= MAX_TABLES
    # long tables say how many rows are left out
    assert re.search(r"12 of [0-9,]+ rows shown; [0-9,]+ more in the export", _section(html, "audit"))


def test_charts_have_axis_titles_and_the_map_scale_and_names(demo):
    out, _ = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    charts = re.findall(r"<svg class='chart'.*?</svg>", html, flags=re.S)
    assert len(charts) >= 8
    for c in charts:
        assert re.search(r"font-weight='600'[^>]*>[A-Z][^<]+</text>", c), "a chart without an axis title"
    assert "font-weight='600' fill='#445'>Year</text>" in _section(html, "plan")
    m = _section(html, "map")
    assert re.search(r">[0-9]+ km</text>", m), "no scale bar"
    assert "Ramstein Air Base" in m and ">Berlin</text>" in m
    assert m.count("<li>") == 13  # the key names every sensitive site


def test_formatting_rules():
    from cleanpath.report.format import fmt, label_of, money, percent

    assert fmt(2027, "year") == "2027" and fmt(2027.0, "year") == "2027"
    assert label_of("year") == "Year" and fmt(2027) == "2,027"  # counts keep their separators
    assert money(11_494_600) == "$11.5 m" and money(4.975e9, long=True) == "US$5.0 billion"
    assert percent(0.5422) == "54.2 %" and percent(0) == "0 %" and percent(0.000123) == "0.012 %"
    assert label_of("nearest_untrusted_m") == "Nearest untrusted (km)" and fmt(12157.97, "m") == "12.2"
    assert label_of("operator_id") == "Operator" and label_of("elements_a") == "Elements (A)"
    assert label_of("remediation_cost", {"remediation_cost": ("cheapest fix", "USD")}) == "Cheapest fix"
    assert fmt(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more" and fmt(None) == "–"
    import pandas as pd

    assert fmt(pd.NaT) == fmt(pd.NA) == fmt(float("nan")) == "–" and fmt(pd.Timestamp("2029-12-31")) == "2029-12-31"


def test_a_question_without_its_own_wording_gets_a_sentence_from_its_headline():
    from cleanpath.report.summary import card_for
    from cleanpath.result import Result

    r = Result("brief", "x", params={}, summary={"countries": 7, "aid_needed_usd": 2.5e9, "other": 1},
               tables={})
    card = card_for(r, "brief", "brief", ("aid_needed_usd", "countries"))
    assert card.figure == "$2.5 bn" and card.sentence == "Aid needed: $2.5 bn; countries: 7."


def _pdftotext(pdf, first: int, last: int) -> str:
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: run `bash scripts/ensure-chromium.sh` (installs poppler-utils)")
    return subprocess.run(["pdftotext", "-f", str(first), "-l", str(last), "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def test_report_command_prints_a_pdf_with_the_summary_on_page_one(demo, tmp_path):
    import subprocess

    out, _ = demo
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    r = CliRunner().invoke(cli, ["-w", str(out / "workspace.duckdb"), "report", "-s", "de", "--as-of",
                                 "2026-11-21", "--out", str(html), "--pdf", str(pdf)])
    assert r.exit_code == 0, r.output
    assert r.stdout.split() == [str(html), str(pdf)]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert 3 <= pages <= 30, pages
    assert "A4" in info or re.search(r"Page size:\s+59[0-9](\.\d+)? x 84[0-9]", info)
    one = _pdftotext(pdf, 1, 1)
    assert "Summary" in one and "As of 2026-11-21" in one and "Replacement plan" in one
    assert "Why one site serves" in one  # the last card fits on page one too
    assert "Map" in _pdftotext(pdf, 2, 2)
    words = _pdftotext(pdf, 1, pages)
    assert "Compliance with the law" in words and "2,027" not in words and "2027" in words


def test_pdf_without_chromium_is_a_clear_error(demo, tmp_path, monkeypatch):
    import cleanpath.report.pdf as pdfmod
    from cleanpath.errors import ValidationError

    out, _ = demo
    monkeypatch.setattr(pdfmod, "find_chromium", lambda: None)
    with pytest.raises(ValidationError, match="no chromium"):
        pdfmod.write_pdf(out / "report.html", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_first_screen_page_of_the_html_is_the_summary_in_a_browser(demo):
    """Debian's chromium (through Playwright, as the dashboard tests) lays the report out for print
    at A4 width: the whole summary sits on the first page, the map starts below it."""
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian's chromium is missing: run `bash scripts/ensure-chromium.sh` (make test does)")
    out, _ = demo
    a4_w, a4_h = 794, 1123  # A4 at 96 dpi, CSS pixels
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": a4_w, "height": a4_h})
            page.emulate_media(media="print")
            page.goto((out / "report.html").resolve().as_uri())
            box = page.locator("#summary").bounding_box()
            cards = page.locator("#summary .card")
            assert cards.count() == len(SECTIONS)
            assert box["y"] < 200 and box["y"] + box["height"] <= a4_h
            assert page.locator("#map").bounding_box()["y"] >= box["y"] + box["height"]
            assert page.locator("#summary .card h3").first.inner_text() == "The network"
        finally:
            browser.close()


def test_years_print_plain_and_ticks_cover_the_data():
    from hypothesis import given
    from hypothesis import strategies as st

    from cleanpath.report.charts import nice_ticks
    from cleanpath.report.format import YEAR, fmt, unit_of

    @given(st.integers(min_value=1000, max_value=9999))
    def years(y):
        for col in ("year", "start_year", "holds_from_year"):
            assert fmt(y, unit_of(col)) == str(y) and fmt(float(y), unit_of(col)) == str(y)
        assert fmt(y, YEAR) == str(y)

    @given(st.floats(min_value=1e-6, max_value=1e13, allow_nan=False))
    def ticks(vmax):
        t = nice_ticks(vmax)
        steps = {round(b - a, 9) for a, b in zip(t, t[1:])}
        # starts at 0, ends at or above the largest value, at most twice the ticks asked for, even steps
        assert t[0] == 0 and t[-1] >= vmax * (1 - 1e-9) and 2 <= len(t) <= 9
        assert max(steps) - min(steps) <= 1e-6 * max(steps)

    years()
    ticks()
