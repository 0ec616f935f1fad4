"""Bad input for the interchange reader (`cleanpath import tables`).

Every case is a small, valid inventory with one thing broken by hand, so the expected problem
(file, line, column, value, reason) is known exactly. Each case is imported into a workspace that
already holds a snapshot; afterwards that snapshot must be untouched and no new one may exist.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import struct
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import cleanpath
from cleanpath.cli.main import cli
from cleanpath.errors import MAX_PROBLEMS, ValidationError
from cleanpath.io import guard
from cleanpath.io.tables import read_tables

OPERATORS = "operator_id,name,country,mcc,mnc\nop-dt,Telekom Deutschland,DE,262,1\n"
SITES = (
    "site_id,operator_id,kind,lat,lon,region\n"
    "FRA-0001,op-dt,cell,50.1109,8.6821,Hessen\n"
    "FRA-HUB1,op-dt,hub,50.1072,8.6638,Hessen\n"
    "FRA-DC1,op-dt,core_dc,50.0979,8.6342,Hessen\n"
)
ELEMENTS = (
    "element_id,site_id,role,vendor,model,generation,installed_on,in_service,unit_cost\n"
    "FRA-0001-RRU1,FRA-0001,ran.radio,Huawei,AAU5613,4G,2019-03-14,true,18000\n"
    "FRA-0001-BBU1,FRA-0001,ran.baseband,Huawei,BBU5900,4G,2019-03-14,true,25000\n"
    "FRA-HUB1-R1,FRA-HUB1,transport.router,Cisco,ASR 9901,none,2018-11-02,true,60000\n"
    "FRA-DC1-UPF1,FRA-DC1,core.upf,Ericsson,Packet Core Gateway,none,2021-06-30,true,250000\n"
)
LINKS = (
    "a,b,kind,capacity_gbps\n"
    "FRA-0001-RRU1,FRA-0001-BBU1,transport,25\n"
    "FRA-0001-BBU1,FRA-HUB1-R1,transport,10\n"
    "FRA-HUB1-R1,FRA-DC1-UPF1,transport,100\n"
)
GOOD = {"operators.csv": OPERATORS, "sites.csv": SITES, "elements.csv": ELEMENTS, "links.csv": LINKS}


def write_case(root: Path, **files: str | bytes | None) -> Path:
    """The good inventory in ``root`` with some files replaced (``None`` removes one)."""
    root.mkdir(parents=True, exist_ok=True)
    contents = dict(GOOD)
    contents.update({k.replace("__", "."): v for k, v in files.items()})
    for name, text in contents.items():
        if text is not None:
            (root / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return root


def failure(paths) -> ValidationError:
    """The ValidationError reading and validating ``paths`` raises (failing the test if none)."""
    with pytest.raises(ValidationError) as ei:
        raw, sources = read_tables(paths if isinstance(paths, list) else [paths])
        cleanpath.validate_tables(raw, sources=sources)
    return ei.value


def only(err: ValidationError):
    assert len(err.problems) == 1, err
    return err.problems[0]


# -- the workspace that must survive every failed import ---------------------------------------

@pytest.fixture(scope="module")
def template_ws(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ws")
    good = write_case(root / "good")
    path = root / "template.duckdb"
    with cleanpath.open_workspace(path) as ws:
        cleanpath.ingest(ws, "tables", [good], snapshot="main")
    return path


@pytest.fixture
def ws_path(template_ws, tmp_path) -> Path:
    path = tmp_path / "ws.duckdb"
    shutil.copy(template_ws, path)
    return path


def state(path: Path) -> tuple[list, dict[str, pd.DataFrame]]:
    with cleanpath.open_workspace(path, read_only=True) as ws:
        infos = [(s.name, s.updated_at, s.counts) for s in ws.snapshots()]
        tables = {t: df.copy() for t, df in ws.network("main").tables().items()}
    return infos, tables


def import_fails(ws_path: Path, paths) -> ValidationError:
    """Import ``paths`` into a new snapshot and over ``main``; both must fail and change nothing."""
    before_infos, before_tables = state(ws_path)
    errors = []
    for snapshot, replace in (("incoming", False), ("main", True)):
        with cleanpath.open_workspace(ws_path) as ws, pytest.raises(ValidationError) as ei:
            cleanpath.ingest(ws, "tables", paths if isinstance(paths, list) else [paths],
                             snapshot=snapshot, replace=replace)
        errors.append(ei.value)
    after_infos, after_tables = state(ws_path)
    assert after_infos == before_infos  # same snapshots, same versions: nothing written
    for t, df in before_tables.items():
        pd.testing.assert_frame_equal(after_tables[t], df)
    assert [p.to_dict() for p in errors[0].problems] == [p.to_dict() for p in errors[1].problems]
    return errors[0]


def test_the_good_inventory_imports(ws_path):
    _, tables = state(ws_path)
    assert len(tables["elements"]) == 4 and len(tables["links"]) == 3
    assert sorted(tables["elements"]["vendor"]) == ["cisco", "ericsson", "huawei", "huawei"]


# -- values --------------------------------------------------------------------------------------

def test_wrong_dtype(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", elements__csv=ELEMENTS.replace(",25000\n", ",25k\n"))
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value, p.reason) == (
        str(bad / "elements.csv"), 3, "unit_cost", "25k", "not a number")


def test_wrong_dtype_in_every_column_kind(tmp_path):
    bad = write_case(tmp_path / "in",
                     operators__csv=OPERATORS.replace(",262,", ",262.5,"),
                     elements__csv=ELEMENTS.replace("2019-03-14,true,18000", "14/03/2019,yes please,18000"))
    got = {(p.file.split("/")[-1], p.line, p.column, p.value, p.reason) for p in failure(bad).problems}
    assert got == {
        ("operators.csv", 2, "mcc", "262.5", "not a whole number"),
        ("elements.csv", 2, "installed_on", "14/03/2019", "not a date (use YYYY-MM-DD)"),
        ("elements.csv", 2, "in_service", "yes please", "not a boolean (use true or false)"),
    }


def test_missing_required_column(tmp_path, ws_path):
    sites = "\n".join(",".join(f for i, f in enumerate(line.split(",")) if i != 2)
                      for line in SITES.splitlines()) + "\n"
    assert "kind" not in sites
    bad = write_case(tmp_path / "in", sites__csv=sites)
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value) == (str(bad / "sites.csv"), 1, "kind", None)
    assert p.reason == "required column 'kind' is missing from table 'sites'"


def test_unknown_enum_value(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", elements__csv=ELEMENTS.replace("core.upf", "core.upff"))
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value) == (str(bad / "elements.csv"), 5, "role", "core.upff")
    assert p.reason == "unknown value; did you mean 'core.upf'?"


def test_element_on_a_missing_site(tmp_path, ws_path):
    elements = ELEMENTS.replace("FRA-HUB1-R1,FRA-HUB1,", "FRA-HUB1-R1,FRA-HUB9,")
    bad = write_case(tmp_path / "in", elements__csv=elements)
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value) == (str(bad / "elements.csv"), 4, "site_id", "FRA-HUB9")
    assert p.reason == "refers to a missing site (sites.site_id)"


def test_link_to_a_missing_element(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", links__csv=LINKS + "FRA-DC1-UPF1,FRA-DC1-UPF2,transport,100\n")
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value) == (str(bad / "links.csv"), 5, "b", "FRA-DC1-UPF2")
    assert p.reason == "refers to a missing element (elements.element_id)"


def test_duplicate_id(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", sites__csv=SITES + "FRA-0001,op-dt,cell,50.2,8.7,Hessen\n")
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value) == (str(bad / "sites.csv"), 5, "site_id", "FRA-0001")
    assert p.reason == "duplicate site_id (first seen at line 2)"


def test_latitude_95(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", sites__csv=SITES.replace("50.1072", "95"))
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value) == (str(bad / "sites.csv"), 3, "lat", "95")
    assert p.reason == "above the maximum 90 deg"


def test_bad_value_in_parquet_points_at_the_row(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", sites__csv=None)
    df = pd.read_csv(io.StringIO(SITES), dtype=str)
    df.loc[2, "lat"] = "north"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), bad / "sites.parquet")
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value, p.reason) == (
        str(bad / "sites.parquet"), 3, "lat", "north", "not a number")


def test_nested_parquet_column_is_refused(tmp_path):
    bad = write_case(tmp_path / "in", sites__csv=None)
    tbl = pa.table({"site_id": ["A"], "operator_id": ["op-dt"], "kind": ["cell"],
                    "lat": pa.array([[50.0, 8.0]], type=pa.list_(pa.float64()))})
    pq.write_table(tbl, bad / "sites.parquet")
    p = only(failure(bad))
    assert (p.file, p.line, p.column, p.value) == (str(bad / "sites.parquet"), None, "lat", None)
    assert p.reason.startswith("Parquet type list<")


# -- broken files ----------------------------------------------------------------------------------

def test_truncated_mid_row(tmp_path, ws_path):
    cut = ELEMENTS[: ELEMENTS.index("transport.router") + 9]  # "...,FRA-HUB1,transport"
    bad = write_case(tmp_path / "in", elements__csv=cut)
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value) == (
        str(bad / "elements.csv"), 4, "vendor", "FRA-HUB1-R1,FRA-HUB1,transport")
    assert p.reason == "row has 3 fields, the header has 9 (truncated file?)"


def test_truncated_inside_a_quoted_field(tmp_path, ws_path):
    text = ELEMENTS + 'FRA-0001-RRU2,FRA-0001,ran.radio,"Huawei Technologies Co., Ltd.",AAU5613,5G-NSA\n'
    cut = text[: text.index("Co., Ltd.")]
    bad = write_case(tmp_path / "in", elements__csv=cut)
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value) == (
        str(bad / "elements.csv"), 6, "vendor", "Huawei Technologies ")
    assert p.reason == "unterminated quoted field: the file looks truncated"


def test_literal_quote_inside_a_field_is_not_a_truncation(tmp_path):
    # A quote in the middle of an unquoted field is a character (Arrow reads it so); it must not
    # be mistaken for an unterminated field, nor shift the line numbers after it.
    elements = (ELEMENTS.replace("ASR 9901", 'ASR 9901 19" rack')
                + "X,FRA-HUB1,transport.router,Cisco,x,none,,maybe,\n")
    bad = write_case(tmp_path / "in", elements__csv=elements)
    p = only(failure(bad))
    assert (p.line, p.column, p.value) == (6, "in_service", "maybe")


def test_non_utf8_bytes(tmp_path, ws_path):
    # A Latin-1 export: "Île-de-France" with 0xCE for Î.
    sites = SITES.encode() + "PAR-0001,op-dt,cell,48.85,2.35,Île-de-France\n".encode("latin-1")
    bad = write_case(tmp_path / "in", sites__csv=sites)
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value) == (str(bad / "sites.csv"), 5, "region", "\ufffdle-de-France")
    assert p.reason == "not valid UTF-8 (byte 0xce); save the file as UTF-8"


def test_binary_file(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", links__csv=LINKS.encode() + b"\x00\x01\x02PK")
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.reason) == (str(bad / "links.csv"), 5, "binary data (NUL byte); expected CSV")
    assert p.column == "a"


def test_empty_file(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", links__csv="")
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value, p.reason) == (
        str(bad / "links.csv"), 1, None, None, "file is empty; expected CSV")


def test_ten_megabyte_single_line(tmp_path, ws_path):
    line = "FRA-0002,op-dt,cell,50.1,8.6," + "Hessen " * (10 * 2**20 // 7)
    bad = write_case(tmp_path / "in", sites__csv=SITES + line + "\n")
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column) == (str(bad / "sites.csv"), 5, "region")
    assert p.value.startswith("Hessen Hessen") and len(p.value) == 80
    assert p.reason == f"line is {len(line.encode()):,} bytes long, over the 1,048,576-byte limit for CSV"


def test_ten_megabyte_file_without_newline(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", links__csv="a" * (10 * 2**20))
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column) == (str(bad / "links.csv"), 1, None)
    assert p.value == "a" * 77 + "..."
    assert p.reason == "line is 10,485,760 bytes long, over the 1,048,576-byte limit for CSV"


def test_quoted_field_longer_than_an_arrow_block(tmp_path):
    # One record of 5 MB spread over short lines is legal CSV; Arrow's 4 MB blocks must not choke.
    note = "\n".join(["x" * 60] * 80_000)
    bad = write_case(tmp_path / "in", operators__csv=OPERATORS + f'op-x,"{note}",DE,262,2\n')
    raw, _ = read_tables([bad])
    assert len(raw["operators"]) == 2 and len(raw["operators"]["name"][1]) == len(note)


# -- archives and compression --------------------------------------------------------------------

def zip_of(path: Path, members: dict[str, bytes], level: int = 9) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def repetitive_elements(size: int) -> bytes:
    row = b"FRA-0001-RRU1,FRA-0001,ran.radio,Huawei,AAU5613,4G,2019-03-14,true,18000\n"
    return ELEMENTS.encode().split(b"\n", 1)[0] + b"\n" + row * (size // len(row))


def test_zip_bomb_refused_before_inflating(tmp_path, ws_path):
    payload = repetitive_elements(40 * 2**20)  # 40 MB that deflates about 300:1
    bomb = zip_of(tmp_path / "inventory.zip", {k: v.encode() for k, v in GOOD.items() if k != "elements.csv"}
                  | {"elements.csv": payload})
    assert bomb.stat().st_size < 400_000  # what the user hands over
    p = only(import_fails(ws_path, bomb))
    assert (p.file, p.line, p.column, p.value) == (str(bomb), None, None, None)
    assert "possible decompression bomb" in p.reason and "above 200:1" in p.reason


def test_zip_member_over_the_size_limit(tmp_path, ws_path, monkeypatch):
    monkeypatch.setattr(guard, "MAX_INPUT_BYTES", 2 * 2**20)
    members = {k: v.encode() for k, v in GOOD.items()} | {"sites.csv": SITES.encode() * 60_000}
    archive = zip_of(tmp_path / "big.zip", members)
    p = only(import_fails(ws_path, archive))
    assert (p.file, p.line, p.column, p.value) == (str(archive), None, None, None)
    assert p.reason.startswith("archive declares") and "over the 2,097,152 limit" in p.reason


def test_zip_bomb_whose_declared_sizes_lie(tmp_path, ws_path):
    payload = repetitive_elements(50 * 2**20)
    archive = zip_of(tmp_path / "liar.zip", {"elements.csv": payload})
    data = bytearray(archive.read_bytes())
    # Claim 1,000 bytes uncompressed in both the local header and the central directory, so every
    # declared-size and declared-ratio check passes; the reader must still not inflate 50 MB.
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, 1000)
    struct.pack_into("<I", data, central + 24, 1000)
    archive.write_bytes(bytes(data))
    assert zipfile.ZipFile(archive).infolist()[0].file_size == 1000
    p = only(import_fails(ws_path, archive))
    assert (p.file, p.line, p.column, p.value) == (f"{archive}:elements.csv", None, None, None)
    assert p.reason.startswith("archive member is corrupt or its declared size is wrong")


def test_gzip_bomb(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", elements__csv=None)
    payload = repetitive_elements(40 * 2**20)
    (bad / "elements.csv.gz").write_bytes(gzip.compress(payload, 9))
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value) == (str(bad / "elements.csv.gz"), None, None, None)
    assert p.reason.startswith("inflates more than 200:1") and "CLEANPATH_MAX_RATIO" in p.reason


def test_gzip_bomb_inside_a_zip(tmp_path, ws_path):
    inner = gzip.compress(repetitive_elements(40 * 2**20), 9)
    archive = zip_of(tmp_path / "nested.zip", {k: v.encode() for k, v in GOOD.items() if k != "elements.csv"}
                     | {"elements.csv.gz": inner}, level=0)
    p = only(import_fails(ws_path, archive))
    assert (p.file, p.line, p.column, p.value) == (f"{archive}:elements.csv.gz", None, None, None)
    assert p.reason.startswith("inflates more than 200:1")


def test_truncated_gzip(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", elements__csv=None)
    gz = gzip.compress(ELEMENTS.encode() * 50)
    (bad / "elements.csv.gz").write_bytes(gz[: len(gz) // 2])
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value) == (str(bad / "elements.csv.gz"), None, None, None)
    assert p.reason.startswith("truncated or corrupt compressed data")


def test_parquet_that_declares_too_much(tmp_path, ws_path, monkeypatch):
    bad = write_case(tmp_path / "in", sites__csv=None)
    n = 300_000  # one repeated row: a few kB on disk, millions of cells once decoded
    pq.write_table(pa.table({"site_id": pa.array(["A"] * n), "operator_id": ["op-dt"] * n,
                             "kind": ["cell"] * n}), bad / "sites.parquet")
    monkeypatch.setattr(guard, "MAX_INPUT_BYTES", 4 * 2**20)
    p = only(import_fails(ws_path, bad))
    assert (p.file, p.line, p.column, p.value) == (str(bad / "sites.parquet"), None, None, None)
    assert p.reason.startswith("declares 300,000 rows") and "decompression bomb" in p.reason


# -- at most 100 problems --------------------------------------------------------------------------

def test_500_ragged_rows_give_exactly_100_problems(tmp_path, ws_path):
    rows = "".join(f"S{i:04d},op-dt\n" for i in range(500))
    bad = write_case(tmp_path / "in", sites__csv=SITES + rows)
    err = import_fails(ws_path, bad)
    assert len(err.problems) == MAX_PROBLEMS == 100 and err.truncated
    assert [p.line for p in err.problems] == list(range(5, 105))
    assert err.problems[-1].value == "S0099,op-dt" and err.problems[-1].column == "kind"
    assert "(stopped after 100 problems)" in str(err)


def test_problems_across_files_stop_at_100(tmp_path):
    bad = write_case(tmp_path / "in",
                     sites__csv=SITES + "".join(f"S{i},op-dt\n" for i in range(60)),
                     links__csv=LINKS + "".join(f"L{i}\n" for i in range(60)))
    err = failure(bad)
    assert len(err.problems) == 100 and err.truncated
    files = [Path(p.file).name for p in err.problems]
    assert files.count("links.csv") == 60 and files.count("sites.csv") == 40  # read in name order


def test_500_bad_values_give_exactly_100_problems(tmp_path, ws_path):
    rows = "".join(f"S{i:04d},op-dt,cell,north,8.6,Hessen\n" for i in range(500))
    bad = write_case(tmp_path / "in", sites__csv=SITES + rows)
    err = import_fails(ws_path, bad)
    assert len(err.problems) == 100
    first_two = [(p.line, p.column, p.value) for p in err.problems[:2]]
    assert first_two == [(5, "lat", "north"), (6, "lat", "north")]
    assert err.truncated


# -- the command line ------------------------------------------------------------------------------

def test_cli_exits_2_and_prints_the_problems(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", sites__csv=SITES.replace("50.1072", "95"),
                     elements__csv=ELEMENTS.replace("core.upf", "core.upff"))
    before = state(ws_path)[0]
    res = CliRunner().invoke(cli, ["-w", str(ws_path), "import", "tables", str(bad), "-s", "incoming"])
    assert res.exit_code == 2, res.output
    out = " ".join(res.output.split())  # rich may wrap long lines
    assert "2 problems in the input" in out
    assert f"{bad / 'sites.csv'}:3, column 'lat', value '95': above the maximum 90 deg" in out
    assert f"{bad / 'elements.csv'}:5, column 'role', value 'core.upff'" in out
    assert state(ws_path)[0] == before


def test_cli_json_lists_the_problems(tmp_path, ws_path):
    bad = write_case(tmp_path / "in", links__csv="")
    res = CliRunner().invoke(cli, ["-w", str(ws_path), "import", "tables", str(bad),
                                   "--snapshot", "incoming", "--format", "json"])
    assert res.exit_code == 2
    payload = json.loads(res.stdout.strip().splitlines()[0])
    assert payload["error"] == "validation" and payload["truncated"] is False
    assert payload["problems"] == [{"reason": "file is empty; expected CSV", "file": str(bad / "links.csv"),
                                    "line": 1, "column": None, "value": None}]
    assert [s[0] for s in state(ws_path)[0]] == ["main"]
