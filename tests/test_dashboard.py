"""The dashboard in a real browser: Debian's chromium, headless, driven by Playwright.

``cleanpath serve`` runs as a subprocess on a free loopback port (bounded start and stop). The
page is used as a person would: sign in with a token in the dialog, look at the map, switch a
vendor off, filter findings, run a plan. Figures on the page are checked against the Python API
run on the same network. Screenshots go to test-artifacts/ (gitignored).

Page state is read through ``window.cleanpath`` with ``page.evaluate``: Playwright's
``wait_for_function`` evaluates strings, which the page's Content-Security-Policy rightly forbids.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from cleanpath.demo import build_example
from cleanpath.service.tokens import TokenStore
from cleanpath.store.workspace import open_workspace

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TIMEOUT = 60.0



@pytest.fixture(autouse=True)
def _chromium_present():
    # Fail, not skip: `make test` installs chromium, so its absence is a broken set-up to report.
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `bash scripts/ensure-chromium.sh` (make test does)")

_LAUNCH = "import sys; from cleanpath.cli.main import cli; cli(sys.argv[1:], prog_name='cleanpath')"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def net():
    return build_example(scale=0.01)


@pytest.fixture(scope="module")
def server(net, tmp_path_factory):
    ws_path = tmp_path_factory.mktemp("dashboard") / "ws.duckdb"
    with open_workspace(ws_path) as ws:
        ws.write_network("de", net)
        store = TokenStore(ws.con)
        tokens = {r: store.create(role=r, name=f"browser-{r}").token for r in ("viewer", "analyst")}
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", _LAUNCH, "serve", "-w", str(ws_path), "--port", str(port),
                             "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            pytest.fail(f"cleanpath serve did not start: {proc.communicate()[0][-2000:]}")
        time.sleep(0.1)
    yield {"url": url, "tokens": tokens}
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 850})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.errors = errors
    yield pg
    ctx.close()


def wait(pg, expr: str, timeout: float = TIMEOUT):
    """Poll a JS expression until it is truthy; returns its value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pg.evaluate(expr)
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {expr}; page errors: {pg.errors}")


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / name))


def sign_in(pg, server, role: str) -> None:
    pg.goto(server["url"] + "/")
    pg.wait_for_selector("#login[open]", timeout=TIMEOUT * 1000)
    pg.fill("#login-token", server["tokens"][role])
    pg.click("#login-form button[type=submit]")
    wait(pg, "window.cleanpath.state.sitesRenderedAt !== null")


def pixels(pg, points: list[list[float]]) -> list[list[int]]:
    """RGBA of the page's screenshot at CSS-pixel positions (decoded in the page: no imaging library)."""
    b64 = base64.b64encode(pg.screenshot()).decode()
    return pg.evaluate("""async ([b64, pts]) => {
        const img = new Image(); img.src = 'data:image/png;base64,' + b64; await img.decode();
        const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
        const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
        return pts.map(([x, y]) => Array.from(ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data));
    }""", [b64, points])


def isolated_sites(pg, status: int, k: int = 5, gap: float = 12.0) -> list[list[float]]:
    """Screen positions of up to k sites of a status with no other site within ``gap`` pixels."""
    pts = pg.evaluate("""() => { const s = window.cleanpath.state.mapData.sites, m = window.cleanpath.map;
        const r = m.getContainer().getBoundingClientRect();
        return s.lon.map((x, i) => {
            const p = m.project([x, s.lat[i]]); return [p.x + r.left, p.y + r.top, s.status[i]]; }); }""")
    xy = np.array([p[:2] for p in pts])
    # inside the map, clear of the controls, the status line and the legend
    box = pg.evaluate("(() => { const r = document.getElementById('map').getBoundingClientRect();"
                      " return [r.left + 60, r.top + 60, r.right - 260, r.bottom - 60]; })()")
    out = []
    for i, (x, y, st) in enumerate(pts):
        if st != status or not (box[0] < x < box[2] and box[1] < y < box[3]):
            continue
        d = np.hypot(*(xy - xy[i]).T)
        if np.sort(d)[1] > gap:
            out.append([x, y])
        if len(out) == k:
            break
    return out


def test_dashboard_signs_in_and_maps_the_sites(page, server, net):
    sign_in(page, server, "analyst")
    placed = int((net.sites["lat"].notna() & net.sites["lon"].notna()).sum())
    state = page.evaluate("({n: window.cleanpath.state.mapData.sites.count, role: window.cleanpath.state.role})")
    assert state == {"n": placed, "role": "analyst"}
    drawn = page.evaluate("window.cleanpath.renderedSiteCount()")
    assert 0.5 * placed < drawn <= placed  # points in view (a few may sit outside it)
    assert page.evaluate("window.cleanpath.map.queryRenderedFeatures({layers: ['sensitive-points']}).length") > 0
    # the WebGL layer really painted them, in the right colour at the right place
    red, blue = isolated_sites(page, 1), isolated_sites(page, 0)
    assert len(red) >= 3 and len(blue) >= 3
    for r, g, b, _a in pixels(page, red):
        assert r > b + 60 and r > g + 60, (r, g, b)
    for r, g, b, _a in pixels(page, blue):
        assert b > r + 40, (r, g, b)
    assert f"{placed:,} sites" in page.inner_text("#map-status")
    wait(page, "window.cleanpath.state.ready")
    wait(page, "window.cleanpath.map.getSource('land') && window.cleanpath.map.isSourceLoaded('land')")
    page.wait_for_timeout(300)
    shot(page, "dashboard-map.png")
    # the token is kept for the tab: a reload needs no second sign-in
    assert page.evaluate("sessionStorage.getItem('cleanpath.token')") == server["tokens"]["analyst"]
    page.reload()
    wait(page, "window.cleanpath.state.sitesRenderedAt !== null")
    assert not page.is_visible("#login")
    assert page.errors == []


def test_switching_a_vendor_off_changes_the_counts(page, server, net):
    from cleanpath.analysis.outage import run_outage

    sign_in(page, server, "analyst")
    wait(page, "window.cleanpath.state.ready")
    page.click("button[data-tab=switchoff]")
    seen = {}
    for vendor in ("huawei", "ericsson"):
        page.select_option("#outage-vendor", vendor)
        page.click("#outage-form button[type=submit]")
        wait(page, f"window.cleanpath.state.outage && window.cleanpath.state.outage.vendor === '{vendor}'")
        want = run_outage(net, vendors=vendor).summary
        shown = page.inner_text("#outage-lost-sites").replace(",", "")
        assert int(shown) == want["lost_sites"]
        assert int(page.inner_text("#outage-lost-subscribers").replace(",", "")) == want["lost_subscribers"]
        drawn = page.evaluate("window.cleanpath.renderedLostCount()")
        assert 0 < drawn <= want["lost_sites"]
        seen[vendor] = want["lost_sites"]
        shot(page, f"dashboard-switchoff-{vendor}.png")
    assert seen["huawei"] != seen["ericsson"]
    page.click("#outage-clear")
    wait(page, "window.cleanpath.renderedLostCount() === 0")
    assert page.inner_text("#outage-cards") == ""
    assert page.errors == []


def test_findings_table_filters(page, server, net):
    from cleanpath.analysis.audit import audit_network

    sign_in(page, server, "analyst")
    wait(page, "window.cleanpath.state.audit && document.querySelectorAll('#findings tbody tr').length > 0")
    packs = page.evaluate("[...document.getElementById('audit-policy').selectedOptions].map(o => o.value)")
    assert "de-2024" in packs and "us-clean-path" in packs
    findings = audit_network(net, policies=",".join(packs), as_of=dt.date.today()).tables["findings"]
    assert f"of {len(findings):,}" in page.inner_text("#f-page")
    page.select_option("#f-severity", "warning")
    want = int((findings["severity"] == "warning").sum())
    wait(page, f"document.getElementById('f-page').textContent.includes('of {want:,}')")
    sev = page.evaluate("[...document.querySelectorAll('#findings tbody tr td:first-child')].map(td => td.textContent)")
    assert sev and set(sev) == {"warning"}
    assert page.errors == []


def test_plan_chart_draws_the_years(page, server, net):
    sign_in(page, server, "analyst")
    wait(page, "window.cleanpath.state.ready")
    page.click("button[data-tab=plan]")
    page.fill("#plan-budget", "40m")
    page.click("#plan-form button[type=submit]")
    wait(page, "document.querySelector('#plan-chart svg')")
    from cleanpath.plan.planner import run_plan

    packs = page.evaluate("[...document.getElementById('plan-policy').selectedOptions].map(o => o.value)")
    start = int(page.input_value("#plan-start"))
    years = run_plan(net, policies=",".join(packs), start_year=start, horizon=6, budget=40e6).tables["years"]
    spending = int((years["net_cost"] > 0).sum())
    bars = page.evaluate("[...document.querySelectorAll('#plan-chart rect.bar-net')]"
                         ".filter(r => Number(r.getAttribute('height')) > 0).length")
    assert bars == spending > 0
    assert page.evaluate("document.querySelectorAll('#plan-chart circle').length") >= 6
    shot(page, "dashboard-plan.png")
    assert page.errors == []


def test_a_bad_token_is_refused_in_the_dialog(page, server):
    page.goto(server["url"] + "/")
    page.wait_for_selector("#login[open]", timeout=TIMEOUT * 1000)
    page.fill("#login-token", server["tokens"]["viewer"][:-3] + "xyz")
    page.click("#login-form button[type=submit]")
    wait(page, "!document.getElementById('login-error').hidden")
    assert "invalid or revoked token" in page.inner_text("#login-error")
    assert page.is_visible("#login") and page.evaluate("sessionStorage.getItem('cleanpath.token')") is None


def test_viewer_sees_results_but_cannot_run_questions(page, server):
    # an analyst runs one switch-off through the API (tests may run in any order, or apart)
    req = urllib.request.Request(server["url"] + "/api/questions/outage?tables=none", method="POST",
                                 data=json.dumps({"snapshot": "de", "vendor": "huawei", "mode": "disable"}).encode(),
                                 headers={"Authorization": f"Bearer {server['tokens']['analyst']}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
        assert r.status == 200
    sign_in(page, server, "viewer")
    wait(page, "window.cleanpath.state.ready")
    assert page.is_disabled("#audit-form button[type=submit]") and page.is_disabled("#plan-form button[type=submit]")
    page.click("button[data-tab=switchoff]")
    page.select_option("#outage-vendor", "huawei")  # run by the analyst
    page.click("#outage-form button[type=submit]")
    wait(page, "window.cleanpath.state.outage && window.cleanpath.state.outage.vendor === 'huawei'")
    page.select_option("#outage-vendor", "nokia")  # never run
    page.click("#outage-form button[type=submit]")
    wait(page, "document.getElementById('outage-status').textContent.includes('has not been run yet')")
    assert page.errors == []


if os.environ.get("CLEANPATH_KEEP_ARTIFACTS") == "0":  # pragma: no cover - opt-out for tidy CI runs
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
