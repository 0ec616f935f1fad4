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
from typing import TYPE_CHECKING, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.io import guard
from cleanpath.io.guard import (InputFile, Locator, check_text, csv_quote_spans, expand_paths,
                                 read_input, zip_members)
from cleanpath.model.schema import TABLES
from cleanpath.model.validate import Source

if TYPE_CHECKING:
    from cleanpath.io.registry import Imported

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


def _record_starts(data: bytes) -> np.ndarray:
    """Byte offset where each CSV record starts (header included, blank lines skipped).

    Quoted fields may hold newlines, so only newlines outside the quoted spans end a record.
    Vectorised with numpy; computed only when a problem needs a location.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    n = len(arr)
    nl = np.flatnonzero(arr == 10)
    q_start, q_end, _ = csv_quote_spans(data)
    if q_start.size:
        k = np.searchsorted(q_start, nl, side="right") - 1
        inside = (k >= 0) & (nl < q_end[np.maximum(k, 0)])
        nl = nl[~inside]
    starts = np.concatenate(([0], nl + 1))
    starts = starts[starts < n]
    if starts.size == 0:
        return starts
    first = arr[starts]
    after = arr[np.minimum(starts + 1, n - 1)]
    # Arrow skips empty lines (also "\r\n" ones) without counting them as records.
    blank = (first == 10) | ((first == 13) & ((starts + 1 >= n) | (after == 10)))
    return starts[~blank]


def _record_start_lines(data: bytes) -> np.ndarray:
    """1-based physical line where each CSV record starts (header included)."""
    nl = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    return np.searchsorted(nl, _record_starts(data)) + 1


def _csv_rows(text: str) -> list[list[str]]:
    """Parse CSV text with the csv module, whose default 128 KiB field limit Arrow does not have."""
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
        return list(csv.reader(io.StringIO(text, newline="")))


def _csv_locator(header: list[str]) -> Locator:
    """Names the CSV column (and gives the field's text) at a byte offset, for :func:`check_text`."""

    def locate(data: bytes, offset: int) -> tuple[str | None, str | None]:
        if data.find(b"\n", 0, offset) < 0:
            # In the header line: no record index needed (a file without any newline would
            # otherwise be scanned whole for a location that is line 1 anyway).
            return None, data[:min(offset, 200)].decode("utf-8", errors="replace")
        starts = _record_starts(data)
        i = int(np.searchsorted(starts, offset, side="right")) - 1
        start = int(starts[i]) if i >= 0 else 0
        prefix = data[start:offset].decode("utf-8", errors="replace")
        rows = _csv_rows(prefix)
        # The field the offset is in: csv yields a trailing empty field after a final comma.
        idx = len(rows[-1]) - 1 if rows else 0
        # The field's own text: the record parsed a little past the fault.
        text = data[start:offset + 200].decode("utf-8", errors="replace")
        fields = next(iter(_csv_rows(text)), [])
        value = fields[idx] if idx < len(fields) else None
        if start == 0 or idx >= len(header):
            return None, value  # the fault is in the header itself, or past its last column
        return header[idx], value

    return locate


def _csv_source(f: InputFile) -> Source:
    cache: dict[str, np.ndarray] = {}

    def line_of(rows: np.ndarray) -> np.ndarray:
        if "lines" not in cache:
            cache["lines"] = _record_start_lines(f.data)
        lines = cache["lines"]
        rows = np.asarray(rows) + 1  # skip the header record
        return np.where(rows < len(lines), lines[np.minimum(rows, len(lines) - 1)], rows + 1)

    return Source(f.label, line_of, header_line=1)


def _csv_header(f: InputFile) -> list[str]:
    # The first line is read with a cap: a runaway header is then refused by check_text, and a
    # file without a newline costs one megabyte here, not a decoded copy of itself.
    end = f.data.find(b"\n", 0, guard.MAX_LINE_BYTES + 1)
    first_line = f.data[:end if end >= 0 else guard.MAX_LINE_BYTES]
    first = first_line.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r")
    return [h.strip() for h in next(iter(_csv_rows(first)), [])]


def _check_header(f: InputFile, header: list[str]) -> None:
    problems = ProblemCollector(f.label)
    seen: set[str] = set()
    for i, h in enumerate(header):
        if not h:
            problems.add(f"header column {i + 1} has no name", line=1, column=i + 1)
        elif h in seen:
            problems.add("column name appears twice in the header", line=1, column=h, value=h)
        seen.add(h)
    problems.raise_if_any()


def _parse_csv(f: InputFile, header: list[str], *, threads: bool, block_size: int,
               on_invalid) -> pa.Table:
    return pacsv.read_csv(
        io.BytesIO(f.data),
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, use_threads=threads,
                                       block_size=block_size),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
        # Every value stays text (typing is validation's job) and only an empty field is null:
        # Arrow's default null spellings would turn a region "NA" or a model "NULL" into nothing.
        convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                             null_values=[""], strings_can_be_null=True,
                                             quoted_strings_can_be_null=True),
    )


def read_csv_bytes(f: InputFile, *, table: str | None = None) -> tuple[pd.DataFrame, Source]:
    """Parse CSV bytes into a frame of strings (empty values are null).

    Parameters
    ----------
    f
        The file's bytes and label.
    table
        The model table it holds (unused; kept for callers that pass it).

    Raises
    ------
    ValidationError
        For empty, binary, non-UTF-8, truncated or ragged input, with the line, the column and
        the value.
    """
    header = _csv_header(f)
    check_text(f, what="CSV", csv_quotes=True, locate=_csv_locator(header))
    # Lines bound records from above (a quoted field may span lines): counted at memchr speed.
    guard.check_rows(f.label, max(0, f.data.count(b"\n") - 1), how="lines after the header")
    _check_header(f, header)
    problems = ProblemCollector(f.label)
    bad_rows: list[tuple[int | None, int, int, str]] = []

    def on_invalid(row) -> str:
        bad_rows.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    block = 4 << 20
    try:
        try:
            tbl = _parse_csv(f, header, threads=True, block_size=block, on_invalid=on_invalid)
        except pa.ArrowInvalid as e:
            if "straddling" not in str(e):
                raise
            # A record longer than a block (a quoted field over many lines): one block for all.
            block = max(block, len(f.data) + 1)
            bad_rows.clear()
            tbl = _parse_csv(f, header, threads=True, block_size=block, on_invalid=on_invalid)
        if bad_rows and any(n is None for n, *_ in bad_rows):
            bad_rows.clear()
            # Single-threaded parsing knows each bad row's record number.
            tbl = _parse_csv(f, header, threads=False, block_size=block, on_invalid=on_invalid)
    except pa.ArrowInvalid as e:
        raise ValidationError(Problem(f"cannot parse as CSV: {e}", f.label)) from None
    if bad_rows:
        # Arrow numbers records (header = 1, blank lines not counted), not physical lines.
        lines = _record_start_lines(f.data)
        for number, expected, actual, text in bad_rows:
            line = int(lines[number - 1]) if number is not None and 0 < number <= len(lines) else number
            missing = header[actual] if actual < expected else None
            problems.add(f"row has {actual} field{'s' if actual != 1 else ''}, the header has "
                         f"{expected}" + (" (truncated file?)" if actual < expected else ""),
                         line=line, column=missing, value=text)
    problems.raise_if_any()
    df = tbl.to_pandas(types_mapper=pd.ArrowDtype)
    return df, _csv_source(f)


#: Rows per batch when a Parquet file is decoded: small enough that one batch of a bomb stays far
#: below the memory budget, large enough that per-batch overhead does not show.
PARQUET_BATCH_ROWS = 1 << 16


def _parquet_type_problems(f: InputFile, schema: pa.Schema) -> None:
    """Refuse column types no model column can hold, from the schema alone (nothing decoded)."""
    problems = ProblemCollector(f.label)
    for field in schema:
        t = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if (pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t)
                or pa.types.is_fixed_size_binary(t) or pa.types.is_binary_view(t)):
            problems.add(f"Parquet type {t} cannot hold a model value; expected a plain "
                         "string, number, boolean or date", column=field.name)
    problems.raise_if_any()


def _declared_row_bytes(schema: pa.Schema) -> float:
    """Fewest bytes one row decodes to in Arrow, from the declared column types.

    A fixed-width value takes its width (a boolean an eighth of a byte); a string at least its
    4-byte offset, whatever its text. A lower bound, so a file refused by it is surely too big.
    """
    total = 0.0
    for field in schema:
        t = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if pa.types.is_boolean(t):
            total += 1 / 8
        elif pa.types.is_large_string(t):
            total += 8
        elif pa.types.is_string(t) or pa.types.is_string_view(t):
            total += 4
        else:
            try:
                total += max(1, t.bit_width // 8)
            except ValueError:  # a type without a fixed width
                total += 1
    return total


def _plain_column(col: pa.Array) -> tuple[int | None, pa.Array]:
    """A batch column's decoded size in bytes (None: use its ``nbytes``) and the column decoded.

    A dictionary column's decoded size is computed from its indices and the lengths of its
    values *before* it is decoded: one huge dictionary value repeated a million times would
    otherwise be materialised to be measured.
    """
    t = col.type
    if pa.types.is_dictionary(t):
        values = t.value_type
        if pa.types.is_string(values) or pa.types.is_large_string(values) or pa.types.is_string_view(values):
            lengths = pc.binary_length(col.dictionary).cast(pa.int64())
            taken = pc.take(lengths, col.indices)
            decoded = int(pc.sum(taken).as_py() or 0) + 4 * len(col)
        else:
            decoded = len(col) * max(1, getattr(values, "bit_width", 8) // 8)
        return decoded, col.cast(values)
    return None, col


def _decode_limited(f: InputFile, pf: pq.ParquetFile, cap: int, by_ratio: bool) -> pa.Table:
    """Decode a Parquet file batch by batch, stopping as soon as the decoded size passes ``cap``."""
    total = 0
    batches = []
    for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, use_threads=True):
        cols = []
        for col in batch.columns:
            decoded, plain = _plain_column(col)
            total += decoded if decoded is not None else plain.nbytes
            if total > cap:
                break
            if pa.types.is_large_string(plain.type) or pa.types.is_string_view(plain.type):
                plain = plain.cast(pa.string())
            elif pa.types.is_decimal(plain.type):
                plain = plain.cast(pa.float64())
            cols.append(plain)
        if total > cap:
            if by_ratio:
                raise guard.bomb_error(f.label, f"decodes to more than {cap:,} bytes from {len(f.data):,} "
                                           f"(over {guard.MAX_RATIO}:1)", knob="CLEANPATH_MAX_RATIO")
            raise guard.bomb_error(f.label, f"decodes to more than {cap:,} bytes")
        batches.append(pa.RecordBatch.from_arrays(cols, names=batch.schema.names))
    if not batches:
        schema = pa.schema([pa.field(x.name, x.type.value_type if pa.types.is_dictionary(x.type) else x.type)
                            for x in pf.schema_arrow])
        return schema.empty_table()
    return pa.Table.from_batches(batches)


def read_parquet_bytes(f: InputFile) -> tuple[pd.DataFrame, Source]:
    """Read a Parquet file; problems point at 1-based rows.

    Parquet pages are compressed and run-length encoded, so a file of a few hundred kilobytes
    can declare a hundred million rows. Work is therefore bounded before anything is decoded,
    from the metadata alone: rows times the declared column widths (a lower bound of the
    decoded size), and the uncompressed page sizes, may pass neither
    :data:`~cleanpath.io.guard.MAX_INPUT_BYTES` nor :data:`~cleanpath.io.guard.MAX_RATIO` times
    the file's size (past :data:`~cleanpath.io.guard.RATIO_FLOOR`). The file is then decoded in
    batches of :data:`PARQUET_BATCH_ROWS` rows, counting the decoded bytes as they come, so that
    metadata which lies (or long repeated strings the lower bound cannot see) is stopped at the
    same limits.
    """
    if not f.data:
        raise ValidationError(Problem("file is empty; expected Parquet", f.label))
    limit = guard.MAX_INPUT_BYTES
    ratio_cap = max(guard.RATIO_FLOOR, guard.MAX_RATIO * len(f.data))
    cap, by_ratio = (ratio_cap, True) if ratio_cap < limit else (limit, False)
    try:
        pf = pq.ParquetFile(pa.BufferReader(f.data))
        md = pf.metadata
        schema = pf.schema_arrow
        _parquet_type_problems(f, schema)
        unpacked = sum(md.row_group(i).total_byte_size for i in range(md.num_row_groups))
        declared = int(md.num_rows * _declared_row_bytes(schema))
        worst = max(unpacked, declared)
        if worst > cap:
            knob = "CLEANPATH_MAX_RATIO" if by_ratio else "CLEANPATH_MAX_INPUT_BYTES"
            raise guard.bomb_error(f.label, f"declares {md.num_rows:,} rows of {len(schema)} column(s): at least "
                                       f"{worst:,} bytes decoded from {len(f.data):,}, over the "
                                       f"{cap:,}-byte limit" + (f" ({guard.MAX_RATIO}:1)" if by_ratio else ""),
                              knob=knob)
        guard.check_rows(f.label, md.num_rows, how="rows declared in its metadata")
        tbl = _decode_limited(f, pf, cap, by_ratio)
    except (pa.ArrowException, OSError, ValueError) as e:
        if isinstance(e, ValidationError):
            raise
        raise ValidationError(Problem(f"not a readable Parquet file ({e})", f.label)) from None
    return tbl.to_pandas(types_mapper=pd.ArrowDtype), Source(f.label, lambda r: np.asarray(r) + 1)


def read_table_file(f: InputFile) -> tuple[pd.DataFrame, Source]:
    """Read one interchange file by its suffix."""
    if f.name.lower().endswith((".parquet", ".pq")):
        return read_parquet_bytes(f)
    return read_csv_bytes(f)


def _inputs(paths: Iterable[str | Path], warnings: list[str] | None = None) -> Iterable[InputFile]:
    for p in expand_paths(paths):
        if p.suffix.lower() == ".zip":
            yield from zip_members(p)
        elif _table_of(p.name) is None:
            # Not a model table: noted without being read (a stray multi-gigabyte file, or a
            # FIFO, in the input directory costs nothing).
            if warnings is not None:
                warnings.append(f"{p}: not a model table ({', '.join(TABLES)}); ignored")
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
    paths = list(paths)
    ignored: list[str] = []
    any_input = False
    for f in _inputs(paths, ignored):
        any_input = True
        table = _table_of(f.name)
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
            problems.truncated |= e.truncated
    problems.raise_if_any()
    if warnings is not None:
        warnings.extend(ignored)
    if not any_input and not ignored:
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
    written: list[Path] = []
    tmp: Path | None = None
    try:
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
            tmp = None
    except OSError as e:
        # A full disk, a file-size limit or a path that cannot be a directory: say which file
        # and why, and leave no half-written temporary behind (finished files stay complete).
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        target = str(e.filename or (tmp if tmp is not None else out)).removesuffix(".tmp")
        done = f" ({len(written)} file(s) written before it: {', '.join(map(str, written))})" if written else ""
        raise ValidationError(Problem(f"cannot write the export: {e.strerror or e}{done}", target)) from None
    return written


def import_tables(paths, **_options) -> "Imported":
    """Importer for the interchange format (see :mod:`cleanpath.io.registry`)."""
    from cleanpath.io.registry import Imported, as_paths

    warnings: list[str] = []
    raw, sources = read_tables(as_paths(paths), warnings=warnings)
    return Imported(raw, sources, warnings)
