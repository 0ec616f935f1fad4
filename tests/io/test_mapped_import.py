"""Mapped import of CSV and Excel exports (``cleanpath import tables FILES --map MAP``).

Oracles are independent of the importer: Python's csv module reads the shipped German export,
workbooks are written here by hand (zip of SpreadsheetML, no spreadsheet library), and line and
row numbers are counted in the text that was written.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import cleanpath
from cleanpath.cli.main import cli
from cleanpath.errors import ValidationError
from cleanpath.io.mapped import import_mapped, load_mapping, sniff_delimiter
from cleanpath.io.guard import InputFile
from cleanpath.store.ingest import ingest
from oracles import XLSX_MAP, german_workbook, write_xlsx

EXAMPLES = Path(cleanpath.__file__).parent / "data" / "examples"
EXPORT = EXAMPLES / "oss_export_de.csv"
LINKS = EXAMPLES / "oss_verbindungen_de.csv"
MAP = EXAMPLES / "oss_export_de.map.yaml"


def run(ws: Path, *args: str):
    return CliRunner().invoke(cli, ["-w", str(ws), *args], catch_exceptions=False)


def _german_float(s: str) -> float:
    return float(s.replace(".", "").replace(",", "."))


# --- the shipped German example -----------------------------------------------------------------

def test_german_example_lands_as_the_export_says(tmp_path):
    with EXPORT.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    with LINKS.open(encoding="utf-8", newline="") as fh:
        links = list(csv.DictReader(fh, delimiter=";"))
    with cleanpath.open_workspace(tmp_path / "ws.duckdb") as ws:
        rep = ingest(ws, "mapped", [EXPORT, LINKS], snapshot="main", mapping=MAP)
        net = ws.network("main")
    sites = {r["Standort-ID"]: r for r in rows}
    assert rep.added == {"operators": 1, "sites": len(sites), "elements": len(rows), "links": len(links)}
    el = net.elements.set_index("element_id")
    for r in rows:
        e = el.loc[r["Element-ID"]]
        want_vendor = {"HUAWEI TECHNOLOGIES CO., LTD.": "huawei", "Telefonaktiebolaget LM Ericsson": "ericsson",
                       "Cisco Systems, Inc.": "cisco", "Nokia Solutions and Networks Oy": "nokia"}
        assert e["vendor"] == want_vendor[r["Hersteller"]]
        assert bool(e["in_service"]) == (r["Status"] == "in Betrieb")
        d, m, y = r["Inbetriebnahme"].split(".")
        assert str(e["installed_on"]) == f"{y}-{m}-{d}"
        if r["Wiederbeschaffungswert (USD)"]:
            assert e["unit_cost"] == pytest.approx(_german_float(r["Wiederbeschaffungswert (USD)"]))
    st = net.sites.set_index("site_id")
    for sid, r in sites.items():
        assert st.loc[sid, "lat"] == pytest.approx(_german_float(r["Breitengrad"]))
        assert st.loc[sid, "lon"] == pytest.approx(_german_float(r["Längengrad"]))
    assert st.loc["KL-001", "subscribers"] == 12500  # "12.500": a thousands group, not 12.5
    assert (net.links["encrypted"].to_numpy(dtype=bool)
            == [ln["Verschlüsselt"] == "ja" for ln in links]).all()
    assert any("Bemerkung" in w for w in rep.warnings)  # the unmapped column is named


def test_cli_dry_run_shows_counts_and_rows_and_writes_nothing(tmp_path):
    ws = tmp_path / "ws.duckdb"
    out = run(ws, "import", "tables", str(EXPORT), str(LINKS), "--map", str(MAP), "--dry-run",
              "--format", "json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["summary"]["dry_run"] is True and doc["summary"]["would_land"] is True
    assert doc["summary"]["added"]["elements"] == 24
    assert doc["tables"]["first_elements"][0]["element_id"] == "KL-001-RRU-L"
    assert not ws.exists()  # not even an empty workspace was created
    # the real import then lands the same counts
    out = run(ws, "import", "tables", str(EXPORT), str(LINKS), "--map", str(MAP), "--format", "json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["summary"]["added"] == doc["summary"]["added"]


def test_cli_dry_run_foresees_which_elements_would_not_serve(tmp_path):
    """Cut site KL-004's only uplink from the example: its three elements (read off the CSV: radio,
    baseband, router) have no transport path to a gateway. The dry run says so before anything lands,
    in the words the real import then uses."""
    for f in (EXPORT, MAP):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    lines = LINKS.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [x for x in lines if not x.startswith("KL-004-RTR;KL-HUB-RTR")]
    assert len(kept) == len(lines) - 1
    (tmp_path / LINKS.name).write_text("".join(kept), encoding="utf-8")
    with EXPORT.open(newline="", encoding="utf-8") as f:
        kl4 = sorted(r["Element-ID"] for r in csv.DictReader(f, delimiter=";") if r["Standort-ID"] == "KL-004")
    assert len(kl4) == 3
    args = ("import", "tables", str(tmp_path / EXPORT.name), str(tmp_path / LINKS.name),
            "--map", str(tmp_path / MAP.name), "--format", "json")
    ws = tmp_path / "ws.duckdb"
    dry = run(ws, *args, "--dry-run")
    assert dry.exit_code == 0, dry.output
    said = json.loads(dry.stdout)["summary"]["not_serving"]
    cut = [s for s in said if "no transport path" in s]
    assert len(cut) == 1 and cut[0].startswith("3 elements cannot serve") and any(e in cut[0] for e in kl4), said
    assert not ws.exists()
    real = run(ws, *args)
    assert real.exit_code == 0, real.output
    assert set(said) <= set(json.loads(real.stdout)["summary"]["warnings"])


def test_bad_values_are_located_by_file_line_and_their_column_and_nothing_lands(tmp_path):
    lines = EXPORT.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace(";Basisband;", ";Basisbandx;")       # line 3
    lte = next(i for i, ln in enumerate(lines) if i > 3 and ";LTE;" in ln)
    lines[lte] = lines[lte].replace(";LTE;", ";LTE-A;")
    lines[10] = lines[10].replace("11.03.2019", "31.02.2019").replace("12.03.2019", "31.02.2019") \
        .replace("13.03.2019", "31.02.2019").replace("14.03.2019", "31.02.2019")
    bad = tmp_path / "oss_export_de.csv"
    bad.write_text("".join(lines), encoding="utf-8")
    ws = tmp_path / "ws.duckdb"
    out = run(ws, "import", "tables", str(bad), str(LINKS), "--map", str(MAP), "--dry-run", "--format", "json")
    assert out.exit_code == 2
    probs = json.loads(out.stdout)["tables"]["problems"]
    where = {(p["row"], p["column"]) for p in probs}
    assert (3, "Funktion") in where and (lte + 1, "Technologie") in where and (11, "Inbetriebnahme") in where
    role = next(p for p in probs if p["column"] == "Funktion")
    assert role["value"] == "Basisbandx" and "elements.role" in role["reason"]
    assert "values.role" in role["reason"]  # says where to translate it
    assert all(p["file"] == str(bad) for p in probs)
    # the real import refuses the same and leaves an existing snapshot as it was
    assert run(ws, "import", "tables", str(EXPORT), str(LINKS), "--map", str(MAP)).exit_code == 0
    out = run(ws, "import", "tables", str(bad), str(LINKS), "--map", str(MAP), "--replace")
    assert out.exit_code == 2
    with cleanpath.open_workspace(ws, read_only=True) as w:
        assert set(w.network("main").elements["role"]) >= {"ran.baseband"}
        assert len(w.network("main").elements) == 24


# --- CSV dialects --------------------------------------------------------------------------------

SITES_MAP = """
tables:
  operators:
    constants: {operator_id: op, name: Op, country: DE}
  sites:
    columns: {site_id: ID, lat: Breite, lon: Laenge, subscribers: Kunden}
    constants: {operator_id: op, kind: cell}
"""


@pytest.mark.parametrize("delim", [";", "\t", "|", ","])
def test_delimiter_is_sniffed_and_quoted_newlines_keep_line_numbers(tmp_path, delim):
    dec = "," if delim != "," else "."
    rows = [["ID", "Breite", "Laenge", "Kunden"],
            ["a", f"50{dec}1", f"8{dec}5", "1"],
            ['"b\nsecond line"', f"50{dec}2", f"8{dec}6", "2"],
            ["c", f"50{dec}3", "east", "3"]]
    text = "\n".join(delim.join(f'"{c}"' if (dec in c and delim == dec) else c for c in r) for r in rows) + "\n"
    f = tmp_path / "s.csv"
    f.write_text(text, encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text(SITES_MAP)
    assert sniff_delimiter(InputFile(str(f), f.read_bytes())) == delim
    with cleanpath.open_workspace(tmp_path / "ws.duckdb") as ws:
        with pytest.raises(ValidationError) as e:
            ingest(ws, "mapped", [f], mapping=m, dry_run=True)
    (p,) = e.value.problems
    # "c" is on physical line 5: the quoted field of "b" spans lines 3 and 4
    assert (p.file, p.line, p.column, p.value) == (str(f), 5, "Laenge", "east")
    got = import_mapped([f], mapping=m)
    assert got.tables["sites"]["lat"].tolist()[:2] == ["50.1", "50.2"]


def test_decimal_comma_and_thousands_groups(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("ID;Breite;Laenge;Kunden\na;50,25;8;1.234.567\nb;-0,5;,5;12\n", encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text(SITES_MAP)
    t = import_mapped([f], mapping=m).tables["sites"]
    assert t["lat"].tolist() == ["50.25", "-0.5"] and t["lon"].tolist() == ["8", ".5"]
    assert t["subscribers"].tolist() == ["1234567", "12"]
    # decimal "." said explicitly: a decimal comma is then a located problem, not a silent 5025
    m.write_text("csv: {decimal: '.'}\n" + SITES_MAP)
    with cleanpath.open_workspace(tmp_path / "ws.duckdb") as ws:
        with pytest.raises(ValidationError) as e:
            ingest(ws, "mapped", [f], mapping=m, dry_run=True)
    assert {(p.line, p.column) for p in e.value.problems} >= {(2, "Breite"), (3, "Breite")}


def test_windows_encoding(tmp_path):
    f = tmp_path / "s.csv"
    f.write_bytes("ID;Breite;Laenge;Kunden\nMünchen;48,1;11,6;1\n".encode("cp1252"))
    m = tmp_path / "m.yaml"
    m.write_text(SITES_MAP)
    with pytest.raises(ValidationError, match="UTF-8"):
        import_mapped([f], mapping=m)
    m.write_text("csv: {encoding: cp1252}\n" + SITES_MAP)
    assert import_mapped([f], mapping=m).tables["sites"]["site_id"].tolist() == ["München"]


# --- Excel ---------------------------------------------------------------------------------------

def test_xlsx_import_with_title_rows_and_typed_cells(tmp_path):
    book = german_workbook(tmp_path)
    m = tmp_path / "m.yaml"
    m.write_text(XLSX_MAP)
    with cleanpath.open_workspace(tmp_path / "ws.duckdb") as ws:
        rep = ingest(ws, "mapped", [book], mapping=m)
        net = ws.network("main")
    assert rep.added == {"operators": 1, "sites": 3, "elements": 3}
    # numeric ids come back without a ".0", so elements still find their sites
    assert sorted(net.sites["site_id"]) == ["1001", "1002", "RZ-1"]
    el = net.elements.set_index("element_id")
    assert el.loc["e1", "vendor"] == "huawei" and el.loc["e2", "vendor"] == "zte"
    assert el["in_service"].tolist() == [True, False, True]
    assert [str(d) for d in el["installed_on"][:2]] == ["2019-03-11", "2020-01-31"]


def test_xlsx_bad_values_name_file_sheet_row_and_column(tmp_path):
    book = german_workbook(tmp_path, role3="Kernnetz", lat2="neunundvierzig")
    m = tmp_path / "m.yaml"
    m.write_text(XLSX_MAP)
    ws = tmp_path / "ws.duckdb"
    out = run(ws, "import", "tables", str(book), "--map", str(m), "--dry-run", "--format", "json")
    assert out.exit_code == 2, out.output
    probs = {(p["file"], p["sheet"], p["row"], p["column"], p["value"])
             for p in json.loads(out.stdout)["tables"]["problems"]}
    assert (str(book), "Standorte", 5, "Breite", "neunundvierzig") in probs  # header on row 3
    assert (str(book), "Elemente", 4, "Funktion", "Kernnetz") in probs
    out = run(ws, "import", "tables", str(book), "--map", str(m))
    assert out.exit_code == 2
    assert "inventar.xlsx:Elemente:4" in out.output
    with cleanpath.open_workspace(ws) as w:
        assert w.snapshot_names() == []  # nothing landed


def test_workbook_bomb_is_refused_before_inflating(tmp_path):
    book = tmp_path / "inventar.xlsx"
    write_xlsx(book, {"Standorte": [["a"]]}, extra={"xl/media/zeros.bin": b"\0" * (4 << 20)})
    m = tmp_path / "m.yaml"
    m.write_text(XLSX_MAP)
    with pytest.raises(ValidationError, match="decompression bomb"):
        import_mapped([book], mapping=m)


# --- mistakes in the mapping are located like policy packs --------------------------------------

@pytest.mark.parametrize("text, line, column, reason", [
    ("tables:\n  sites:\n    colums: {site_id: A}\n", 3, 5, "did you mean 'columns'"),
    ("tables:\n  site:\n    columns: {site_id: A}\n", 2, 3, "did you mean 'sites'"),
    ("tables:\n  sites:\n    columns:\n      site_idd: A\n", 4, 7, "did you mean 'site_id'"),
    ("tables:\n  sites:\n    columns: {site_id: A, operator_id: B, kind: C}\n    values:\n      lat: {x: 1}\n",
     5, 7, "not mapped under columns"),
    ("tables:\n  sites:\n    columns: {site_id: A}\n", 2, 3, "operator_id, kind neither mapped nor constant"),
    ("tables:\n  sites:\n    columns: {site_id: A\n", 4, 1, "not valid YAML"),
    ("csv: {delimiter: ':'}\ntables:\n  sites:\n    columns: {site_id: A, operator_id: B, kind: C}\n", 1, 18,
     "delimiter must be"),
    ("tables:\n  sites:\n    columns: {site_id: A, operator_id: B, kind: C}\n    constants: {kind: cell}\n",
     4, 23, "both mapped"),
])
def test_mapping_mistakes_are_located(tmp_path, text, line, column, reason):
    m = tmp_path / "map.yaml"
    m.write_text(text)
    with pytest.raises(ValidationError) as e:
        load_mapping(m)
    hit = [p for p in e.value.problems if reason in p.reason]
    assert hit, e.value
    assert (hit[0].file, hit[0].line, hit[0].column) == (str(m), line, column)


def test_source_mistakes_point_into_the_mapping(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("ID;Breite;Laenge;Kunden\na;50;8;1\n")
    m = tmp_path / "m.yaml"
    m.write_text(SITES_MAP.replace("Laenge", "Lange").replace("  sites:\n", "  sites:\n    file: s.csv\n"))
    with pytest.raises(ValidationError) as e:
        import_mapped([f], mapping=m)
    (p,) = e.value.problems
    assert p.file == str(m) and p.line == 7 and "no column 'Lange'" in p.reason and "'Laenge'" in p.reason
    m.write_text(SITES_MAP.replace("  sites:\n", "  sites:\n    file: other.csv\n"))
    with pytest.raises(ValidationError, match="not among the files given") as e:
        import_mapped([f], mapping=m)
    assert e.value.problems[0].line == 6
    m.write_text(XLSX_MAP.replace("sheet: 2", "sheet: Elements"))
    with pytest.raises(ValidationError, match="no sheet 'Elements'.*did you mean 'Elemente'") as e:
        import_mapped([german_workbook(tmp_path)], mapping=m)
    assert e.value.problems[0].file == str(m)


def test_cli_map_only_with_tables(tmp_path):
    out = run(tmp_path / "ws.duckdb", "import", "sensitive", str(EXPORT), "--map", str(MAP))
    assert out.exit_code == 2 and "--map goes with FORMAT tables" in out.output


# --- number and date spellings against independent formatting -------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

import pandas as pd  # noqa: E402

from cleanpath.io.mapped import _decimal_comma, _iso_dates  # noqa: E402


def _german(x: float, grouped: bool) -> str:
    """``x`` as German Excel writes it: ``1.234.567,25`` (grouped) or ``1234567,25``."""
    s = f"{abs(x):,.2f}" if grouped else f"{abs(x):.2f}"
    s = s.replace(",", "_").replace(".", ",").replace("_", ".")
    return ("-" if x < 0 else "") + s


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), min_size=1, max_size=30),
       st.booleans())
def test_decimal_comma_reads_what_german_formatting_wrote(xs, grouped):
    text = pd.Series([_german(x, grouped) for x in xs], dtype="string[pyarrow]")
    got = [float(v) for v in _decimal_comma(text)]
    assert got == pytest.approx([round(x, 2) for x in xs], abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dates(min_value=pd.Timestamp("1900-01-01").date(),
                         max_value=pd.Timestamp("2100-12-31").date()), min_size=1, max_size=20),
       st.booleans())
def test_german_dates_become_iso(days, pad):
    text = [f"{d.day:02d}.{d.month:02d}.{d.year}" if pad else f"{d.day}.{d.month}.{d.year}" for d in days]
    got = _iso_dates(pd.Series(text, dtype="string[pyarrow]")).tolist()
    assert got == [d.isoformat() for d in days]


def test_constants_only_table_is_one_row_located_in_the_mapping(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("ID;Breite;Laenge;Kunden\na;50;8;1\n")
    m = tmp_path / "m.yaml"
    m.write_text(SITES_MAP.replace("country: DE", "country: Deutschland"))
    with cleanpath.open_workspace(tmp_path / "ws.duckdb") as ws:
        with pytest.raises(ValidationError) as e:
            ingest(ws, "mapped", [f], mapping=m, dry_run=True)
    (p,) = e.value.problems
    assert (p.file, p.line, p.column, p.value) == (str(m), 3, "country", "Deutschland")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([";", "\t", "|", ","]),
       st.lists(st.text(alphabet=st.sampled_from(list('ab ,;|\t"\nÄ.1')), min_size=1, max_size=12)
                .filter(lambda t: t.strip() and t == t.strip()), min_size=1, max_size=15),
       st.booleans())
def test_any_text_round_trips_through_any_delimiter(tmp_path_factory, delim, names, sniff):
    # written by Python's csv module (quoting what needs it), read back through the byte swap
    d = tmp_path_factory.mktemp("rt")
    f = d / "ops.csv"
    with f.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=delim, lineterminator="\n")
        w.writerow(["Kennung", "Name;Firma", "Land"])
        w.writerows([[f"op{i}", n, "DE"] for i, n in enumerate(names)])
    m = d / "m.yaml"
    m.write_text(f"csv: {{delimiter: {'auto' if sniff else json.dumps(delim)}}}\ntables:\n  operators:\n"
                 "    columns: {operator_id: Kennung, name: 'Name;Firma', country: Land}\n")
    got = import_mapped([f], mapping=m).tables["operators"]
    assert got["name"].tolist() == names


def test_csv_title_lines_and_excel_sep_hint_keep_line_numbers(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("sep=;\nID;Breite;Laenge;Kunden\na;50,1;8,5;1\nb;50,2;east;2\n", encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text(SITES_MAP)
    with cleanpath.open_workspace(tmp_path / "ws.duckdb") as ws:
        with pytest.raises(ValidationError) as e:
            ingest(ws, "mapped", [f], mapping=m, dry_run=True)
    (p,) = e.value.problems
    assert (p.line, p.column, p.value) == (4, "Laenge", "east")
    # two title lines above the header, said in the mapping; a ragged row is counted from line 1
    f.write_text("Inventar-Export\nerstellt 01.12.2026\nID;Breite;Laenge;Kunden\na;50,1;8,5;1\nb;50,2\n",
                 encoding="utf-8")
    m.write_text(SITES_MAP.replace("  sites:\n", "  sites:\n    header_row: 3\n"))
    with pytest.raises(ValidationError) as e:
        import_mapped([f], mapping=m)
    (p,) = e.value.problems
    assert p.line == 5 and "2 fields" in p.reason
    f.write_text("Inventar-Export\nerstellt 01.12.2026\nID;Breite;Laenge;Kunden\na;50,1;8,5;1\n",
                 encoding="utf-8")
    assert import_mapped([f], mapping=m).tables["sites"]["lat"].tolist() == ["50.1"]


def test_sheet_starting_below_and_right_of_a1_keeps_its_rows_and_letters(tmp_path):
    book = tmp_path / "inventar.xlsx"
    write_xlsx(book, {"Standorte": [[], [],
                                    [None, "Standort", "Betreiber", "Breite", "Länge", "Typ", None],
                                    [None, 1001, "Telekom", 49.4, 7.7, "Funk", None],
                                    [None, 1002, "Telekom", "x", 7.6, "Funk", "stray note"]]})
    m = tmp_path / "m.yaml"
    m.write_text(XLSX_MAP.split("  elements:")[0])
    with pytest.raises(ValidationError) as e:
        import_mapped([book], mapping=m)
    (p,) = e.value.problems  # the stray value in a column without a name, at its own row and letter
    assert (p.file, p.line, p.column, p.value) == (f"{book}:Standorte", 5, "G", "stray note")
    write_xlsx(book, {"Standorte": [[], [],
                                    [None, "Standort", "Betreiber", "Breite", "Länge", "Typ"],
                                    [None, 1001, "Telekom", 49.4, 7.7, "Funk"],
                                    [None, 1002, "Telekom", "x", 7.6, "Funk"]]})
    with cleanpath.open_workspace(tmp_path / "ws.duckdb") as ws:
        with pytest.raises(ValidationError) as e:
            ingest(ws, "mapped", [book], mapping=m, dry_run=True)
    (p,) = e.value.problems
    assert (p.line, p.column, p.value) == (5, "Breite", "x")
