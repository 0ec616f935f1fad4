"""The dashboard's import screen in a real browser (Debian's chromium through Playwright, with the
browser, page and waiting helpers of tests/oracles.py).

The workspace starts empty, as a new user's does: an admin lands on the import screen, uploads the
shipped German OSS-style export with one bad latitude, previews it and finds the problem in the
problems table at the file's own row and column; uploads the good file, previews the counts (checked
against the CSV read with the ``csv`` module) and imports; the map shows the new snapshot with what
the API says it holds. A second import (the DFN backbone) joins the snapshot picker, and picking it
shows it. A viewer gets no import screen.
"""

from __future__ import annotations

import csv
import json
import re
import urllib.request
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

import cleanpath
from cleanpath.service.tokens import TokenStore
from conftest import TOPOLOGYZOO
from oracles import XLSX_MAP, german_workbook, serving, shot, sign_in, wait

EXAMPLES = Path(str(resources.files("cleanpath.data").joinpath("examples")))
EXPORT, LINKS, MAPPING = "oss_export_de.csv", "oss_verbindungen_de.csv", "oss_export_de.map.yaml"
BAD_SITE, BAD_LAT = "KL-002", "49,4x72"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``cleanpath serve`` on an empty workspace: the dashboard as a new user first sees it."""
    ws_path = tmp_path_factory.mktemp("dashboard-import") / "ws.duckdb"
    with cleanpath.open_workspace(ws_path) as ws:
        store = TokenStore(ws.con)
        tokens = {r: store.create(role=r, name=f"browser-{r}").token for r in ("viewer", "admin")}
    with serving(ws_path) as url:
        yield {"url": url, "tokens": tokens}


def get(server, path: str, role: str = "admin") -> dict:
    req = urllib.request.Request(server["url"] + path, headers={"Authorization": f"Bearer {server['tokens'][role]}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def export_with_bad_latitude() -> tuple[bytes, int]:
    """The export with the latitude of site BAD_SITE's first element row broken, and that row's line."""
    lines = (EXAMPLES / EXPORT).read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]], delimiter=";"))
    site, lat = header.index("Standort-ID"), header.index("Breitengrad")
    for n, line in enumerate(lines[1:], start=2):
        cells = line.split(";")  # no quoted ";" in these columns: the split keeps every other byte
        if cells[site] == BAD_SITE:
            cells[lat] = BAD_LAT
            lines[n - 1] = ";".join(cells)
            return "".join(lines).encode(), n
    raise AssertionError(BAD_SITE)


def upload(data: bytes, name: str) -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": data}


def table_rows(pg, table_id: str) -> list[dict[str, str]]:
    return pg.evaluate("""(id) => [...document.getElementById(id).tBodies[0].rows].map((tr) =>
        Object.fromEntries([...tr.cells].map((td) => [td.dataset.col, td.dataset.value ?? td.textContent])))""",
                       table_id)


def sign_in_empty(pg, server, role: str) -> None:
    """Sign in and wait until the page knows the role and the snapshot list (there may be no map)."""
    sign_in(pg, server, role,
            ready="window.cleanpath.state.role !== null && Array.isArray(window.cleanpath.state.snapshots)")


def test_admin_imports_into_an_empty_workspace_then_adds_a_snapshot(page, server, tmp_path):
    pg = page
    bad, bad_line = export_with_bad_latitude()
    with (EXAMPLES / EXPORT).open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    with (EXAMPLES / LINKS).open(newline="", encoding="utf-8") as f:
        n_links = sum(1 for _ in csv.DictReader(f, delimiter=";"))
    sign_in_empty(pg, server, "admin")
    # an empty workspace opens on the import screen
    wait(pg, "window.cleanpath.state.importer.formats !== null")
    assert pg.is_visible("#tab-import") and "no snapshots" in pg.inner_text("#map-status")
    offered = pg.eval_on_selector_all("#imp-format option", "os => os.map((o) => o.value)")
    assert offered == [f["format"] for f in get(server, "/api/import-formats")["formats"]] and "mapped" in offered
    pg.select_option("#imp-format", "mapped")
    pg.fill("#imp-snapshot", "oss")
    assert pg.is_hidden("#imp-mode-wrap")  # a new snapshot: nothing to add to or replace
    pg.set_input_files("#imp-files", [upload(bad, EXPORT), upload((EXAMPLES / LINKS).read_bytes(), LINKS)])
    pg.set_input_files("#imp-opt-mapping", [{"name": MAPPING, "mimeType": "application/yaml",
                                             "buffer": (EXAMPLES / MAPPING).read_bytes()}])

    # the bad file: the problem at the file's own row and column, and no way to import
    pg.click("#imp-preview")
    wait(pg, "window.cleanpath.state.importer.problems !== null")
    problems = table_rows(pg, "imp-problems")
    assert {"file": EXPORT, "sheet": "", "line": str(bad_line), "column": "Breitengrad", "value": BAD_LAT} in [
        {k: p[k] for k in ("file", "sheet", "line", "column", "value")} for p in problems], problems
    assert all(p["reason"] for p in problems)
    assert pg.is_disabled("#imp-run")
    shot(pg, "dashboard-import-problems.png")

    # the good file: counts as the CSV has them, then the import
    pg.set_input_files("#imp-files", [upload((EXAMPLES / EXPORT).read_bytes(), EXPORT),
                                      upload((EXAMPLES / LINKS).read_bytes(), LINKS)])
    # other files: the problems no longer describe them
    assert pg.is_hidden("#imp-problems-wrap") and "inputs changed" in pg.inner_text("#imp-summary")
    pg.click("#imp-preview")
    wait(pg, "window.cleanpath.state.importer.preview !== null")
    assert pg.is_enabled("#imp-run") and pg.is_hidden("#imp-problems-wrap")
    added = {t: int(pg.get_attribute(f"#imp-added-{t}", "data-value")) for t in ("operators", "sites", "elements", "links")}
    assert added == {"operators": 1, "sites": len({r["Standort-ID"] for r in rows}), "elements": len(rows),
                     "links": n_links}
    makers = Counter(r["Hersteller"] for r in rows)
    vendors = pg.inner_text("#imp-vendors")
    assert f"huawei {makers['HUAWEI TECHNOLOGIES CO., LTD.']}" in vendors and "ericsson" in vendors
    assert "telekom-de" in pg.inner_text("#imp-operators")
    # the first rows as they would be stored: the decimal comma read, the vendor's legal name resolved
    pg.select_option("#imp-first-table", "first_sites")
    first = table_rows(pg, "imp-first")[0]
    assert (first["site_id"], first["lat"], first["lon"]) == (rows[0]["Standort-ID"], "49.4443", "7.7689")
    assert rows[0]["Breitengrad"] == "49,4443"
    pg.select_option("#imp-first-table", "first_elements")
    assert table_rows(pg, "imp-first")[0]["vendor"] == "huawei" and pg.is_enabled("#imp-run")
    assert get(server, "/api/snapshots")["tables"]["snapshots"] == []  # a preview writes nothing
    shot(pg, "dashboard-import-preview.png")

    pg.click("#imp-run")
    wait(pg, "window.cleanpath.state.importer.imported !== null")
    # the first snapshot of the workspace is shown at once, with what the API says it holds
    wait(pg, "window.cleanpath.state.snapshot === 'oss' && window.cleanpath.state.sitesRenderedAt !== null")
    assert pg.is_disabled("#imp-run")  # importing again needs a new preview
    info = get(server, "/api/snapshots/oss")["summary"]
    assert info["sites"] == added["sites"] and info["elements"] == added["elements"]
    assert pg.evaluate("window.cleanpath.state.mapData.sites.count") == info["sites"]
    assert pg.input_value("#snapshot") == "oss"
    shot(pg, "dashboard-import-done.png")

    # a workbook with bad cells: its sheet gets a column of its own
    book = german_workbook(tmp_path, role3="Kernnetz")
    pg.fill("#imp-snapshot", "book")
    pg.set_input_files("#imp-files", [{"name": book.name, "mimeType": "application/octet-stream",
                                       "buffer": book.read_bytes()}])
    pg.set_input_files("#imp-opt-mapping", [{"name": "m.yaml", "mimeType": "application/yaml",
                                             "buffer": XLSX_MAP.encode()}])
    pg.click("#imp-preview")
    wait(pg, "window.cleanpath.state.importer.problems !== null")
    assert [{k: p[k] for k in ("file", "sheet", "line", "column", "value")} for p in table_rows(pg, "imp-problems")] == [
        {"file": "inventar.xlsx", "sheet": "Elemente", "line": "4", "column": "Funktion", "value": "Kernnetz"}]

    # a second snapshot, in another format: it joins the picker, and the map stays where it is
    gml = (TOPOLOGYZOO / "Dfn.gml").read_bytes()
    nodes = len(re.findall(r"^\s*node\s*\[", gml.decode(), flags=re.M))
    pg.select_option("#imp-format", "topologyzoo")
    assert pg.is_hidden("#imp-opt-mapping") and pg.is_visible("#imp-opt-country")
    pg.fill("#imp-snapshot", "oss")
    assert pg.is_visible("#imp-mode-wrap")  # an existing snapshot: add to it or replace it
    pg.fill("#imp-snapshot", "dfn")
    pg.fill("#imp-opt-country", "DE")
    pg.set_input_files("#imp-files", [{"name": "Dfn.gml", "mimeType": "application/octet-stream", "buffer": gml}])
    assert pg.is_disabled("#imp-run")
    pg.click("#imp-preview")
    wait(pg, "window.cleanpath.state.importer.preview?.snapshot === 'dfn'")
    assert int(pg.get_attribute("#imp-added-sites", "data-value")) == nodes == 58
    pg.click("#imp-run")
    wait(pg, "[...document.getElementById('snapshot').options].some((o) => o.value === 'dfn')")
    assert pg.input_value("#snapshot") == "oss" and pg.evaluate("window.cleanpath.state.snapshot") == "oss"
    wait(pg, "!document.getElementById('imp-open').hidden")
    assert pg.inner_text("#imp-open") == "Show dfn on the map"
    shown_at = pg.evaluate("window.cleanpath.state.sitesRenderedAt")
    pg.select_option("#snapshot", "dfn")
    wait(pg, f"window.cleanpath.state.snapshot === 'dfn' && window.cleanpath.state.sitesRenderedAt > {shown_at}")
    d = pg.evaluate("({n: window.cleanpath.state.mapData.sites.count, "
                    "off: window.cleanpath.state.mapData.sites_without_position})")
    info = get(server, "/api/snapshots/dfn")["summary"]
    assert d["n"] + d["off"] == info["sites"] == nodes
    assert pg.inner_text("#snapshot-info").startswith(f"{d['n']} sites")
    # the only console errors are the browser's own notes of the two bad previews' 422s
    assert [e for e in pg.errors if "status of 422" not in e] == [] and len(pg.errors) == 2, pg.errors


def test_viewer_gets_no_import_screen(page, server):
    sign_in_empty(page, server, "viewer")
    assert page.is_hidden("#tab-btn-import") and page.is_hidden("#tab-import")
    assert page.evaluate("window.cleanpath.state.importer.formats") is None
    assert page.errors == []


def test_preview_says_how_many_elements_would_not_serve_and_why(page, server):
    """The export with site KL-004's uplink cut (its router's transport link to the hub): by hand,
    KL-004's three elements have no transport path to a gateway, and the one element marked "außer
    Betrieb" is out of service. The preview says so before anything is written, with the first such
    element of each reason; the import then says the same of the snapshot."""
    pg = page
    with (EXAMPLES / EXPORT).open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    kl4 = [r["Element-ID"] for r in rows if r["Standort-ID"] == "KL-004"]
    off = [r["Element-ID"] for r in rows if r["Status"] != "in Betrieb"]
    assert len(kl4) == 3 and len(off) == 1
    links = (EXAMPLES / LINKS).read_text(encoding="utf-8").splitlines(keepends=True)
    cut = [x for x in links if not x.startswith("KL-004-RTR;KL-HUB-RTR;Transport;")]
    assert len(cut) == len(links) - 1
    sign_in_empty(pg, server, "admin")
    pg.click("#tab-btn-import")
    wait(pg, "window.cleanpath.state.importer.formats !== null")
    pg.select_option("#imp-format", "mapped")
    pg.fill("#imp-snapshot", "cut")
    pg.set_input_files("#imp-files", [upload((EXAMPLES / EXPORT).read_bytes(), EXPORT),
                                      upload("".join(cut).encode(), LINKS)])
    pg.set_input_files("#imp-opt-mapping", [{"name": MAPPING, "mimeType": "application/yaml",
                                             "buffer": (EXAMPLES / MAPPING).read_bytes()}])
    pg.click("#imp-preview")
    wait(pg, "window.cleanpath.state.importer.preview?.snapshot === 'cut'")
    line = pg.inner_text("#imp-serving")
    assert line.startswith(f"{len(kl4) + len(off)} of {len(rows)} elements would not serve: "), line
    assert f"no transport path to gateway ({len(kl4)}, e.g. {kl4[0]})" in line, line
    assert f"out of service (1, e.g. {off[0]})" in line and "Explain tab" in line, line
    # said once: the server's sentences are not listed again among the notes
    assert "cannot serve" not in pg.inner_text("#imp-warnings")
    assert "cut" not in [s["name"] for s in get(server, "/api/snapshots")["tables"]["snapshots"]]
    shot(pg, "dashboard-import-not-serving.png")
    pg.click("#imp-run")
    wait(pg, "window.cleanpath.state.importer.imported?.snapshot === 'cut'")
    after = pg.inner_text("#imp-serving")
    assert after.startswith(f"{len(kl4) + len(off)} of {len(rows)} elements cannot serve: "), after
    assert after.split(": ", 1)[1].split(". ")[0] == line.split(": ", 1)[1].split(". ")[0]
    assert get(server, "/api/snapshots/cut")["summary"]["non_serving_by_reason"] == {
        "out of service": 1, "no transport path to gateway": len(kl4)}
