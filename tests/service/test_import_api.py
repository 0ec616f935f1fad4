"""Imports over REST: the mapped format with its mapping part, dry runs of every format, problems
located by file, sheet, row and column, all or nothing, and the admin role.

The inputs are the shipped German OSS-style example (two ``;``-separated CSV files with decimal
commas and their mapping) and real files from ../shared/data (the DFN backbone, the US
installations). Expected counts are read from the files with the ``csv`` module and regular
expressions, never from cleanpath; "nothing landed" is checked against the workspace's snapshot
list and each snapshot's counts before and after.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cleanpath.service import ServiceConfig, create_app
from cleanpath.service.tokens import TokenStore
from cleanpath.store.workspace import open_workspace
from conftest import INSTALLATIONS, TOPOLOGYZOO
from oracles import XLSX_MAP, german_workbook

EXAMPLES = Path(str(resources.files("cleanpath.data").joinpath("examples")))
EXPORT, LINKS, MAPPING = "oss_export_de.csv", "oss_verbindungen_de.csv", "oss_export_de.map.yaml"
#: Formats read from uploaded files, whose every option is a form field of the import route.
UPLOAD_FORMATS = ("tables", "mapped", "topologyzoo", "opencellid", "cyclonedx", "sensitive")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    path = tmp_path_factory.mktemp("import") / "ws.duckdb"
    with open_workspace(path) as ws:
        store = TokenStore(ws.con)
        tokens = {role: store.create(role=role, name=f"import-{role}").token for role in ("viewer", "analyst", "admin")}
    app = create_app(config=ServiceConfig(workspace=path, warm=False, auth_failures="100000/minute"))
    with TestClient(app) as client:
        yield {"client": client, "h": {r: {"Authorization": f"Bearer {t}"} for r, t in tokens.items()}}
    app.state.service.close()


def export_rows() -> list[dict[str, str]]:
    with (EXAMPLES / EXPORT).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter=";"))


def link_rows() -> list[dict[str, str]]:
    with (EXAMPLES / LINKS).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter=";"))


def oss_parts(export: bytes | None = None, mapping: bytes | None = None) -> list[tuple]:
    return [("files", (EXPORT, export if export is not None else (EXAMPLES / EXPORT).read_bytes(), "text/csv")),
            ("files", (LINKS, (EXAMPLES / LINKS).read_bytes(), "text/csv")),
            ("mapping", (MAPPING, mapping if mapping is not None else (EXAMPLES / MAPPING).read_bytes(),
                         "application/yaml"))]


def snapshots(env) -> dict[str, dict]:
    r = env["client"].get("/api/snapshots", headers=env["h"]["admin"])
    assert r.status_code == 200, r.text
    return {s["name"]: s for s in r.json()["tables"]["snapshots"]}


def post(env, name: str, data: dict, files, role: str = "admin"):
    return env["client"].post(f"/api/snapshots/{name}/import", headers=env["h"][role], data=data, files=files)


def problems_of(r) -> list[dict]:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "validation" and body["problems"]
    return body["problems"]


def test_mapped_dry_run_reports_what_would_land_and_writes_nothing(env):
    rows, links = export_rows(), link_rows()
    before = snapshots(env)
    r = post(env, "oss-dry", {"format": "mapped", "dry_run": "true"}, oss_parts())
    assert r.status_code == 200, r.text
    out = r.json()
    s = out["summary"]
    assert s["dry_run"] is True and s["written"] is False
    # the oracle: the export read with the csv module (one row per element, sites repeated)
    assert s["added"] == {"operators": len({x["Betreiber"] for x in rows}), "sites": len({x["Standort-ID"] for x in rows}),
                          "elements": len(rows), "links": len(links)}
    counts = {t["table"]: t["rows"] for t in out["tables"]["tables"]}
    assert counts["elements"] == len(rows) == 24 and counts["links"] == len(links) == 45
    assert s["operators"] == ["telekom-de"]  # the mapping's translation of "Telekom Deutschland GmbH"
    makers = Counter(x["Hersteller"] for x in rows)
    assert sum(s["vendors"].values()) == len(rows)
    assert s["vendors"]["huawei"] == makers["HUAWEI TECHNOLOGIES CO., LTD."]
    assert s["vendors"]["ericsson"] == makers["Telefonaktiebolaget LM Ericsson"]
    assert s["unknown_vendors"] == {}
    first = out["tables"]["first_sites"][0]
    assert (first["site_id"], first["lat"], first["lon"]) == ("KL-001", 49.4443, 7.7689)  # decimal comma read
    # the unmapped column is named by its upload name, never the server's temporary path
    assert any(w.startswith(f"{EXPORT}: ") and "Bemerkung" in w for w in s["warnings"])
    assert not any("/tmp" in w or "cleanpath-upload" in w for w in s["warnings"])
    assert out["params"]["mapping"] == MAPPING and out["params"]["paths"] == [EXPORT, LINKS]
    assert snapshots(env) == before and "oss-dry" not in before
    assert env["client"].get("/api/snapshots/oss-dry", headers=env["h"]["admin"]).status_code == 404


def test_mapped_import_lands_what_the_dry_run_said(env):
    dry = post(env, "oss", {"format": "mapped", "dry_run": "1"}, oss_parts()).json()
    r = post(env, "oss", {"format": "mapped"}, oss_parts())
    assert r.status_code == 200, r.text
    s = r.json()["summary"]
    assert s["written"] is True and s["dry_run"] is False
    assert dry["summary"]["existed"] is False and s["existed"] is False
    assert s["totals"] == dry["summary"]["totals"]
    # the snapshot's source names the uploads, not where the server spooled them
    assert snapshots(env)["oss"]["source"] == f"mapped upload: {EXPORT}, {LINKS}"
    info = env["client"].get("/api/snapshots/oss", headers=env["h"]["admin"]).json()
    assert info["summary"]["sites"] == dry["summary"]["added"]["sites"]
    assert {v["vendor"]: v["elements"] for v in info["tables"]["by_vendor"]} == dry["summary"]["vendors"]
    # the same files again into the same snapshot: a merge skips every row, as the dry run foresees
    again = post(env, "oss", {"format": "mapped", "dry_run": "true"}, oss_parts()).json()["summary"]
    assert again["skipped"] == dry["summary"]["added"] and set(again["added"].values()) == {0}
    assert again["totals"] == s["totals"] and again["existed"] is True and again["mode"] == "merge"


def _break(text: str, row_id: str, column: str, value: str) -> tuple[str, int]:
    """The export with one cell of the element ``row_id`` replaced, and that row's line number."""
    lines = text.splitlines(keepends=True)
    header = next(csv.reader([lines[0]], delimiter=";"))
    j = header.index(column)
    for n, line in enumerate(lines[1:], start=2):
        cells = next(csv.reader([line], delimiter=";"))
        if cells[header.index("Element-ID")] == row_id:
            cells[j] = value
            buf = io.StringIO()
            csv.writer(buf, delimiter=";", lineterminator=line[len(line.rstrip("\r\n")):]).writerow(cells)
            lines[n - 1] = buf.getvalue()
            return "".join(lines), n
    raise AssertionError(row_id)


def test_uploads_keep_their_names_as_the_mapping_writes_them(env):
    """A German file name with spaces and umlauts is what the mapping names; path parts are dropped."""
    name = "Export März 2024.csv"
    mapping = (EXAMPLES / MAPPING).read_text(encoding="utf-8").replace(f"file: {EXPORT}", f"file: {name}")
    parts = oss_parts(mapping=mapping.encode())
    parts[0] = ("files", ("C:\\Users\\ops\\" + name, (EXAMPLES / EXPORT).read_bytes(), "text/csv"))
    parts[1] = ("files", ("../../" + LINKS, (EXAMPLES / LINKS).read_bytes(), "text/csv"))
    r = post(env, "names", {"format": "mapped", "dry_run": "true"}, parts)
    assert r.status_code == 200, r.text
    assert r.json()["params"]["paths"] == [name, LINKS]
    assert r.json()["summary"]["added"]["elements"] == len(export_rows())
    assert any(w.startswith(f"{name}: ") for w in r.json()["summary"]["warnings"])


def test_bad_values_are_located_by_file_row_and_their_column_and_nothing_lands(env):
    text = (EXAMPLES / EXPORT).read_text(encoding="utf-8")
    text, lat_line = _break(text, "KL-002-RRU-L", "Breitengrad", "49,4x72")
    text, role_line = _break(text, "KL-003-RRU-L", "Funktion", "Antenne")
    assert lat_line != role_line
    before = snapshots(env)
    for name, data in (("oss-bad", {"format": "mapped", "dry_run": "true"}), ("oss-bad", {"format": "mapped"}),
                       ("oss", {"format": "mapped", "replace": "true"})):
        found = {(p["file"], p["sheet"], p["line"], p["column"], p["value"])
                 for p in problems_of(post(env, name, data, oss_parts(text.encode())))}
        assert (EXPORT, None, lat_line, "Breitengrad", "49,4x72") in found, found
        assert (EXPORT, None, role_line, "Funktion", "Antenne") in found, found
    assert snapshots(env) == before  # not even the replace of an existing snapshot touched it


def test_mapping_mistakes_are_located_in_the_mapping_by_its_upload_name(env):
    text = (EXAMPLES / MAPPING).read_text(encoding="utf-8")
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "Element-ID" in x)
    bad = text.replace("element_id: Element-ID", "element_idd: Element-ID")
    p = problems_of(post(env, "oss-map", {"format": "mapped", "dry_run": "true"}, oss_parts(mapping=bad.encode())))
    assert (p[0]["file"], p[0]["line"], p[0]["value"]) == (MAPPING, line, "element_idd")
    assert "element_id" in p[0]["reason"]


def test_xlsx_problems_name_the_sheet(env, tmp_path):
    book = german_workbook(tmp_path, role3="Kernnetz", lat2="neunundvierzig")
    files = [("files", ("inventar.xlsx", book.read_bytes(), "application/octet-stream")),
             ("mapping", ("m.yaml", XLSX_MAP.encode(), "application/yaml"))]
    found = {(p["file"], p["sheet"], p["line"], p["column"], p["value"])
             for p in problems_of(post(env, "book", {"format": "mapped", "dry_run": "true"}, files))}
    # the workbook's own rows: the header is on row 3 of Standorte, on row 1 of Elemente
    assert ("inventar.xlsx:Standorte", "Standorte", 5, "Breite", "neunundvierzig") in found
    assert ("inventar.xlsx:Elemente", "Elemente", 4, "Funktion", "Kernnetz") in found
    good = german_workbook(tmp_path)
    files[0] = ("files", ("inventar.xlsx", good.read_bytes(), "application/octet-stream"))
    s = post(env, "book", {"format": "mapped", "dry_run": "true"}, files).json()["summary"]
    assert s["added"] == {"operators": 1, "sites": 3, "elements": 3}
    assert s["vendors"] == {"huawei": 1, "zte": 1, "ericsson": 1}
    assert "book" not in snapshots(env)


def test_mapping_part_goes_with_the_mapped_format_only(env):
    gml = ("files", ("Dfn.gml", (TOPOLOGYZOO / "Dfn.gml").read_bytes(), "application/octet-stream"))
    p = problems_of(post(env, "m1", {"format": "mapped", "dry_run": "true"}, oss_parts()[:2]))
    assert [x["column"] for x in p] == ["mapping"]
    p = problems_of(post(env, "m1", {"format": "topologyzoo"}, [gml, oss_parts()[2]]))
    assert [x["column"] for x in p] == ["mapping"]
    p = problems_of(post(env, "m1", {"format": "topologyzoo", "dry_run": "perhaps"}, [gml]))
    assert [(x["column"], x["value"]) for x in p] == [("dry_run", "perhaps")]
    assert "m1" not in snapshots(env)


def test_dry_run_of_other_formats(env):
    gml = (TOPOLOGYZOO / "Dfn.gml").read_bytes()
    nodes = len(re.findall(r"^\s*node\s*\[", gml.decode(), flags=re.M))
    zoo = [("files", ("Dfn.gml", gml, "application/octet-stream"))]
    r = post(env, "dfn", {"format": "topologyzoo", "dry_run": "true", "vendor": "huawei", "country": "DE"}, zoo)
    assert r.status_code == 200, r.text
    s = r.json()["summary"]
    assert s["written"] is False and s["added"]["sites"] == nodes == 58
    assert set(s["vendors"]) == {"huawei"} and s["operators"]
    assert "dfn" not in snapshots(env)
    assert post(env, "dfn", {"format": "topologyzoo", "vendor": "huawei", "country": "DE"}, zoo).status_code == 200
    before = snapshots(env)["dfn"]
    # sensitive sites checked against the existing snapshot: a merge adds them to its 58 sites
    with INSTALLATIONS.open(newline="") as f:
        n = sum(1 for _ in csv.DictReader(f))
    inst = [("files", ("installations.csv", INSTALLATIONS.read_bytes(), "text/csv"))]
    s = post(env, "dfn", {"format": "sensitive", "dry_run": "true"}, inst).json()["summary"]
    assert s["added"] == {"sensitive_sites": n} and s["totals"]["sites"] == 58 and s["totals"]["sensitive_sites"] == n
    assert s["mode"] == "merge" and s["vendors"] == {} and s["operators"] == []
    assert snapshots(env)["dfn"] == before
    # a broken file in a dry run: the same 422 as the import, with the upload's name
    p = problems_of(post(env, "dfn", {"format": "topologyzoo", "dry_run": "true", "replace": "true"},
                         [("files", ("Dfn.gml", gml[: len(gml) // 2], "application/octet-stream"))]))
    assert all(x["file"] in (None, "Dfn.gml") for x in p) and any(x["file"] == "Dfn.gml" for x in p)
    assert snapshots(env)["dfn"] == before


def test_import_formats_are_the_importers_with_their_options(env):
    import inspect

    from cleanpath.io.registry import IMPORTERS, importer

    r = env["client"].get("/api/import-formats", headers=env["h"]["admin"])
    assert r.status_code == 200, r.text
    formats = {f["format"]: f for f in r.json()["formats"]}
    assert list(formats) == list(IMPORTERS)
    for fmt, f in formats.items():
        kw = [n for n, p in inspect.signature(importer(fmt)).parameters.items() if p.kind is p.KEYWORD_ONLY]
        if fmt in UPLOAD_FORMATS:  # every option the importer takes, in its order
            assert [o["name"] for o in f["options"]] == kw, fmt
        assert {o["name"] for o in f["options"]} <= set(kw) and f["help"], fmt
    assert formats["mapped"]["options"] == [{"name": "mapping", "kind": "file", "accept": ".yaml,.yml",
                                             "required": True, "help": formats["mapped"]["options"][0]["help"]}]
    kind = next(o for o in formats["sensitive"]["options"] if o["name"] == "kind")
    assert kind["kind"] == "choice" and "military" in kind["choices"]
    for role in ("viewer", "analyst"):
        assert env["client"].get("/api/import-formats", headers=env["h"][role]).status_code == 403


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_only_admins_import_or_check(env, role):
    for data in ({"format": "mapped", "dry_run": "true"}, {"format": "mapped"}):
        r = post(env, "oss-x", data, oss_parts(), role=role)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    assert "oss-x" not in snapshots(env)


# --- why elements would not serve, foreseen by the dry run ------------------------------------------

#: The transport link that connects site KL-004 (its router to the hub's router), cut in the tests below.
CUT = ("KL-004-RTR", "KL-HUB-RTR")


def links_without(pair: tuple[str, str]) -> bytes:
    """The links export without the transport link ``pair`` (exactly one line dropped)."""
    lines = (EXAMPLES / LINKS).read_text(encoding="utf-8").splitlines(keepends=True)
    keep = [x for x in lines if next(csv.reader([x], delimiter=";"))[:3] != [*pair, "Transport"]]
    assert len(keep) == len(lines) - 1
    return "".join(keep).encode()


def serving_part(summary: dict, tables: dict) -> tuple:
    """What an import (or its dry run) says about elements that cannot serve."""
    return (summary["non_serving_elements"], summary["non_serving_by_reason"], summary["diagnosis"],
            tables["not_serving"])


def test_dry_run_says_which_elements_would_not_serve_as_the_import_then_does(env):
    """The export with site KL-004's uplink cut: by hand, KL-004's three elements (radio, baseband,
    router, linked to each other only) have no transport path to the gateway, and the one element
    marked "außer Betrieb" is out of service; the dry run says so before anything is written, and the
    import says exactly the same."""
    rows = export_rows()
    kl4 = [x["Element-ID"] for x in rows if x["Standort-ID"] == "KL-004"]
    off = [x["Element-ID"] for x in rows if x["Status"] != "in Betrieb"]
    assert len(kl4) == 3 and len(off) == 1 and CUT[0] in kl4
    parts = oss_parts()
    parts[1] = ("files", (LINKS, links_without(CUT), "text/csv"))
    r = post(env, "cut", {"format": "mapped", "dry_run": "true"}, parts)
    assert r.status_code == 200, r.text
    dry = r.json()
    s = dry["summary"]
    assert s["written"] is False and "cut" not in snapshots(env)
    assert s["non_serving_elements"] == 4
    assert s["non_serving_by_reason"] == {"out of service": 1, "no transport path to gateway": 3}
    by_reason = {x["reason"]: (x["elements"], x["example"]) for x in dry["tables"]["not_serving"]}
    assert by_reason["no transport path to gateway"] == (3, kl4[0])  # the first of them in the export
    assert by_reason["out of service"] == (1, off[0])
    assert sum(n for n, _ in by_reason.values()) == 4
    # the sentences, as the CLI's import prints them, among the warnings the Import tab lists
    assert s["diagnosis"][0].startswith("4 of 24 elements do not serve")
    assert any(x.startswith("3 elements cannot serve: no transport path to any gateway") and kl4[0] in x
               for x in s["diagnosis"])
    assert set(s["diagnosis"]) <= set(s["warnings"])

    real = post(env, "cut", {"format": "mapped"}, parts)
    assert real.status_code == 200, real.text
    assert real.json()["summary"]["written"] is True
    assert serving_part(real.json()["summary"], real.json()["tables"]) == serving_part(s, dry["tables"])
    info = env["client"].get("/api/snapshots/cut", headers=env["h"]["admin"]).json()["summary"]
    assert info["non_serving_by_reason"] == s["non_serving_by_reason"]


def test_dry_run_of_a_merge_diagnoses_the_merged_network(env):
    """Into snapshot ``cut2`` (KL-004 cut off: 4 elements cannot serve), a merge of one interchange
    ``links.csv`` with the missing link: the incoming rows alone hold no element, the snapshot alone
    has 4 that cannot serve; the merged network has only the element out of service left."""
    parts = oss_parts()
    parts[1] = ("files", (LINKS, links_without(CUT), "text/csv"))
    before = post(env, "cut2", {"format": "mapped"}, parts).json()["summary"]
    assert before["non_serving_elements"] == 4
    link = [("files", ("links.csv", f"a,b,kind\n{CUT[0]},{CUT[1]},transport\n".encode(), "text/csv"))]
    r = post(env, "cut2", {"format": "tables", "dry_run": "true"}, link)
    assert r.status_code == 200, r.text
    dry = r.json()
    s = dry["summary"]
    assert s["mode"] == "merge" and s["added"] == {"links": 1} and s["written"] is False
    assert s["non_serving_elements"] == 1 and s["non_serving_by_reason"] == {"out of service": 1}
    assert snapshots(env)["cut2"]["elements"] == 24
    info = env["client"].get("/api/snapshots/cut2", headers=env["h"]["admin"]).json()["summary"]
    assert info["non_serving_elements"] == 4  # nothing written: the snapshot still has its 4
    real = post(env, "cut2", {"format": "tables"}, link).json()
    assert serving_part(real["summary"], real["tables"]) == serving_part(s, dry["tables"])
    # replacing the snapshot by that one link would not do: it references elements not there
    assert problems_of(post(env, "cut2", {"format": "tables", "dry_run": "true", "replace": "true"}, link))

