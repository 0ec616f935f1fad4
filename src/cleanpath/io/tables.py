"""The interchange format: one CSV or Parquet file per model table, in a directory or a zip.

File names are the table names (``elements.csv``, ``elements.csv.gz``, ``elements.parquet``).
Reading keeps every value as text and leaves typing to :mod:`cleanpath.model.validate`, so a bad
value is reported with its line rather than failing the whole column.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.io.guard import InputFile, check_text, read_input, zip_members
from cleanpath.model.schema import TABLES
from cleanpath.model.validate import Source

RawTables = dict[str, pd.DataFrame]
Sources = dict[str, Source]

_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")


def _table_of(name: str) -> str | None:
    base = Path(name).name
    for suf in _SUFFIXES:
        if base.lower().endswith(suf):
            stem = base[: -len(suf)]
            return stem if stem in TABLES else None
    return None


def _record_start_lines(data: bytes) -> np.ndarray:
    """1-based physical line where each CSV record starts (header included).

    Quoted fields may hold newlines and blank lines are skipped, so record i is not simply line
    i + 1. Computed with numpy over the bytes, only when a problem needs a line number.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(arr)]))
    keep = starts < len(arr)
    starts, ends = starts[keep], ends[keep]
    quotes = np.concatenate(([0], np.cumsum(arr == 34)))
    before = quotes[starts] % 2  # odd: the line continues a quoted field
    length = ends - starts
    carriage = (length == 1) & (arr[np.minimum(starts, len(arr) - 1)] == 13)
    blank = (length == 0) | carriage
    is_start = (before == 0) & ~blank
    return np.flatnonzero(is_start) + 1


def _csv_source(f: InputFile) -> Source:
    cache: dict[str, np.ndarray] = {}

    def line_of(rows: np.ndarray) -> np.ndarray:
        if "lines" not in cache:
            cache["lines"] = _record_start_lines(f.data)
        lines = cache["lines"]
        rows = np.asarray(rows) + 1  # skip the header record
        return np.where(rows < len(lines), lines[np.minimum(rows, len(lines) - 1)], rows + 1)

    return Source(f.label, line_of, header_line=1)


def read_csv_bytes(f: InputFile, *, table: str | None = None) -> tuple[pd.DataFrame, Source]:
    """Parse CSV bytes into a frame of strings (empty values are null).

    Raises
    ------
    ValidationError
        For empty, binary, non-UTF-8, truncated or ragged input, with line numbers.
    """
    check_text(f, what="CSV", csv_quotes=True)
    first = f.data.split(b"\n", 1)[0].decode("utf-8").lstrip("\ufeff").rstrip("\r")
    header = next(iter(csv.reader([first])), [])
    header = [h.strip() for h in header]
    problems = ProblemCollector(f.label)
    seen: set[str] = set()
    for i, h in enumerate(header):
        if not h:
            problems.add(f"header column {i + 1} has no name", line=1, column=i + 1)
        elif h in seen:
            problems.add("column name appears twice in the header", line=1, column=h, value=h)
        seen.add(h)
    problems.raise_if_any()
    bad_rows: list[tuple[int | None, int, int, str]] = []

    def on_invalid(row) -> str:
        bad_rows.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    def parse(threads: bool) -> pa.Table:
        return pacsv.read_csv(
            io.BytesIO(f.data),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, use_threads=threads,
                                           block_size=4 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                                 strings_can_be_null=True,
                                                 quoted_strings_can_be_null=True),
        )

    try:
        tbl = parse(True)
        if bad_rows and any(n is None for n, *_ in bad_rows):
            bad_rows.clear()
            tbl = parse(False)  # single-threaded parsing knows each bad row's line number
    except pa.ArrowInvalid as e:
        raise ValidationError(Problem(f"cannot parse as CSV: {e}", f.label)) from None
    for number, expected, actual, text in bad_rows:
        problems.add(f"row has {actual} field{'s' if actual != 1 else ''}, the header has {expected}"
                     + (" (truncated file?)" if actual < expected else ""),
                     line=number, value=text)
    problems.raise_if_any()
    df = tbl.to_pandas(types_mapper=pd.ArrowDtype)
    return df, _csv_source(f)


def read_parquet_bytes(f: InputFile) -> tuple[pd.DataFrame, Source]:
    """Read a Parquet file; problems point at 1-based rows."""
    if not f.data:
        raise ValidationError(Problem("file is empty; expected Parquet", f.label))
    try:
        tbl = pq.read_table(io.BytesIO(f.data))
    except (pa.ArrowInvalid, OSError) as e:
        raise ValidationError(Problem(f"not a readable Parquet file ({e})", f.label)) from None
    return tbl.to_pandas(types_mapper=pd.ArrowDtype), Source(f.label, lambda r: np.asarray(r) + 1)


def read_table_file(f: InputFile) -> tuple[pd.DataFrame, Source]:
    """Read one interchange file by its suffix."""
    name = f.label.lower()
    if name.endswith((".parquet", ".pq")):
        return read_parquet_bytes(f)
    return read_csv_bytes(f)


def _inputs(paths: Iterable[str | Path]) -> Iterable[InputFile]:
    for path in paths:
        p = Path(path)
        if p.is_dir():
            files = sorted(q for q in p.iterdir() if q.is_file() and not q.name.startswith("."))
            for q in files:
                yield from _inputs([q])
        elif p.suffix.lower() == ".zip":
            yield from zip_members(p)
        else:
            yield read_input(p)


def read_tables(paths: Iterable[str | Path], *, warnings: list[str] | None = None
                ) -> tuple[RawTables, Sources]:
    """Read interchange files from directories, zips or single files.

    Parameters
    ----------
    paths
        Directories or zips holding ``<table>.csv|.csv.gz|.parquet``, or such files themselves.
    warnings
        Receives the names of files that are not model tables (they are ignored).

    Returns
    -------
    raw tables, sources
        Text-valued frames by table name, and where each came from.
    """
    raw: RawTables = {}
    sources: Sources = {}
    problems = ProblemCollector()
    any_input = False
    for f in _inputs(paths):
        any_input = True
        table = _table_of(f.label)
        if table is None:
            if warnings is not None:
                warnings.append(f"{f.label}: not a model table ({', '.join(TABLES)}); ignored")
            continue
        if table in raw:
            problems.add(f"a second file for table {table!r} (first: {sources[table].file})", file=f.label)
            continue
        try:
            raw[table], sources[table] = read_table_file(f)
        except ValidationError as e:
            problems.extend(e.problems)
    problems.raise_if_any()
    if not any_input:
        raise ValidationError("no input files found")
    if not raw:
        raise ValidationError(Problem(
            f"no model tables found; expected files named {', '.join(t + '.csv' for t in TABLES)}",
            ", ".join(map(str, paths))))
    return raw, sources


def write_tables(tables: dict[str, pd.DataFrame], out: str | Path, *, fmt: str = "parquet") -> list[Path]:
    """Write model tables as interchange files.

    Parameters
    ----------
    tables
        Model tables by name (empty optional tables are skipped).
    out
        A directory, or a path ending in ``.zip``.
    fmt
        ``parquet`` or ``csv``.

    Returns
    -------
    list of Path
        What was written.
    """
    if fmt not in ("parquet", "csv"):
        raise ValidationError(f"unknown export format {fmt!r}; use parquet or csv")
    out = Path(out)
    blobs: dict[str, bytes] = {}
    for name, df in tables.items():
        spec = TABLES[name]
        if len(df) == 0 and spec.optional:
            continue
        tbl = pa.Table.from_pandas(df[spec.column_names], preserve_index=False)
        buf = io.BytesIO()
        if fmt == "parquet":
            pq.write_table(tbl, buf, compression="zstd")
            blobs[f"{name}.parquet"] = buf.getvalue()
        else:
            pacsv.write_csv(tbl, buf, pacsv.WriteOptions(quoting_style="needed"))
            blobs[f"{name}.csv"] = buf.getvalue()
    written = []
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".zip.tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for fname, data in blobs.items():
                zf.writestr(fname, data)
        tmp.replace(out)
        written.append(out)
    else:
        out.mkdir(parents=True, exist_ok=True)
        for fname, data in blobs.items():
            p = out / fname
            tmp = p.with_name(p.name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(p)
            written.append(p)
    return written


def import_tables(paths, **_options) -> "Imported":
    """Importer for the interchange format (see :mod:`cleanpath.io.registry`)."""
    from cleanpath.io.registry import Imported, as_paths

    warnings: list[str] = []
    raw, sources = read_tables(as_paths(paths), warnings=warnings)
    return Imported(raw, sources, warnings)
