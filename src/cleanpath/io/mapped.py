"""Mapped import: any CSV or Excel export, read through a mapping file onto the model tables.

Operators' inventories come out of OSS tools and spreadsheets whose columns never carry our
names. A mapping (YAML) says, per model table, where its rows come from and how to read them::

    csv:                          # how to read every CSV source (all optional)
      delimiter: auto             # auto (sniffed), ",", ";", "\\t" or "|"
      decimal: auto               # auto ("," when the delimiter is not ","), "." or ","
      encoding: utf-8             # or cp1252 / latin-1 for older Windows exports
    tables:
      elements:
        file: export.csv          # one of the files given (by name); optional with one file
        sheet: Elemente           # Excel: sheet name or 1-based number (default the first)
        header_row: 1             # line (CSV) or row (Excel) of the column names (default 1)
        distinct: false           # drop rows that are identical after mapping
        columns:                  # our column: their column
          element_id: Element-ID
          vendor: Hersteller
        values:                   # our column: {their value: our value}
          role: {Basisband: ran.baseband, Funkmodul: ran.radio}
        constants:                # our column: one value for every row
          in_service: "true"
      operators:                  # constants only: one row, no source file
        constants: {operator_id: op-de, name: Example GmbH, country: DE}

Values not listed under ``values`` pass through unchanged (vendor names are then resolved by
the vendor catalogue, so ``HUAWEI TECHNOLOGIES CO., LTD.`` needs no entry). Numbers with a
decimal comma (and ``.`` thousands groups, ``1.234,5``) are read in the numeric columns of
a comma-decimal source; dates written ``31.12.2019`` (or with a time) become ISO dates.

Reading reuses the interchange reader's defences (:mod:`cleanpath.io.guard`: size limits,
bombs, regular files only, UTF-8 and runaway-line checks, ragged rows with their lines): a CSV
with another delimiter is read as comma CSV by swapping the two (ASCII) bytes, and swapped back
in every value. Excel workbooks (``.xlsx``, ``.xlsm``, ``.xlsb``, ``.xls``, ``.ods``) are read
with python-calamine (a Rust reader, many times faster than openpyxl) after their zip directory
has been checked against the same size and ratio limits.

Every problem names its place: the mapping's own mistakes by mapping file, line and column (as
policy packs do); the data's by file (``book.xlsx:Sheet`` for a sheet), row (the CSV line or the
sheet's row number) and *their* column name, with the model column in the reason.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from cleanpath.errors import MAX_PROBLEMS, Problem, ProblemCollector, ValidationError
from cleanpath.io import guard
from cleanpath.io.guard import InputFile, expand_paths, read_input
from cleanpath.io.registry import Imported, as_paths
from cleanpath.io.tables import read_csv_bytes
from cleanpath.model.schema import TABLES
from cleanpath.model.validate import Source

#: Largest mapping file accepted (bytes).
MAX_MAPPING_BYTES = 1 << 20
#: Most YAML nodes in a mapping (guards against alias expansion).
MAX_NODES = 100_000
#: Delimiters a CSV source may use.
DELIMITERS = {",": ",", ";": ";", "\\t": "\t", "\t": "\t", "tab": "\t", "|": "|"}
#: Excel-like workbooks python-calamine reads.
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
#: Sheet rows turned into columns at a time (bounds the Python objects alive at once).
SHEET_CHUNK_ROWS = 1 << 16
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1", "iso-8859-15")

_TOP_KEYS = ("version", "csv", "tables")
_CSV_KEYS = ("delimiter", "decimal", "encoding")
_TABLE_KEYS = ("file", "sheet", "header_row", "distinct", "columns", "values", "constants", "csv")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# --- the mapping ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class At:
    """A place in the mapping file (1-based line and column)."""

    line: int | None = None
    column: int | None = None


@dataclass
class CsvOptions:
    """How a CSV source is read: ``None`` means sniffed (delimiter) or derived (decimal)."""

    delimiter: str | None = None
    decimal: str | None = None
    encoding: str = "utf-8"


@dataclass
class TableMap:
    """How one model table is read from one source.

    Attributes
    ----------
    table
        Model table name.
    file, sheet, header_row
        The source: a file given on the command line (by name), an Excel sheet (name or 1-based
        number) and the line (CSV) or sheet row holding the column names.
    columns
        Our column -> their column.
    values
        Our column -> {their value: our value}.
    constants
        Our column -> one value for every row.
    distinct
        Drop rows identical after mapping (a flat export repeats each site on every element).
    csv
        How to read the file if it is CSV.
    at
        Where each part was written in the mapping (``"file"``, ``"columns.vendor"``...).
    """

    table: str
    file: str | None = None
    sheet: str | int | None = None
    header_row: int = 1
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    distinct: bool = False
    csv: CsvOptions = field(default_factory=CsvOptions)
    at: dict[str, At] = field(default_factory=dict)


@dataclass
class Mapping:
    """A whole mapping file."""

    label: str
    tables: dict[str, TableMap]


class _Yaml:
    """Typed reading of composed YAML nodes; each mistake is a problem at its line and column."""

    def __init__(self, label: str):
        self.label = label
        self.problems = ProblemCollector(label)
        self.nodes = 0

    def add(self, node: Node | None, reason: str, value: Any = None) -> None:
        line = col = None
        if node is not None:
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
            if value is None and isinstance(node, ScalarNode):
                value = node.value
        self.problems.add(reason, line=line, column=col, value=value)

    @staticmethod
    def at(node: Node) -> At:
        return At(node.start_mark.line + 1, node.start_mark.column + 1)

    def items(self, node: Node, what: str, allowed: tuple[str, ...] | None = None
              ) -> list[tuple[str, Node, Node]]:
        """``(key, key node, value node)`` of a mapping node; unknown or repeated keys are problems."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.add(node, f"more than {MAX_NODES:,} YAML nodes (aliases expanding?); refusing the file")
            return []
        if not isinstance(node, MappingNode):
            self.add(node, f"{what} must be a mapping (key: value lines)", value="")
            return []
        out, seen = [], set()
        for k, v in node.value:
            self.nodes += 1
            if not isinstance(k, ScalarNode):
                self.add(k, f"keys of {what} must be plain text", value="")
                continue
            key = k.value.strip()
            if key in seen:
                self.add(k, f"{key!r} appears twice in {what}")
                continue
            seen.add(key)
            if allowed is not None and key not in allowed:
                self.add(k, f"unknown key {key!r} in {what}{_suggest(key, allowed)}")
                continue
            out.append((key, k, v))
        return out

    def text(self, node: Node, what: str, *, empty_ok: bool = False) -> str | None:
        """A scalar exactly as written (``no``, ``1.0`` and ``2024`` stay text)."""
        if not isinstance(node, ScalarNode):
            self.add(node, f"{what} must be a single value, not a list or mapping", value="")
            return None
        if node.tag.endswith(":null") and not node.value:
            if empty_ok:
                return ""
            self.add(node, f"{what} must not be empty", value="")
            return None
        return node.value.strip() if not empty_ok else node.value

    def choice(self, node: Node, options: tuple[str, ...] | dict, what: str) -> str | None:
        s = self.text(node, what)
        if s is not None and s not in options:
            self.add(node, f"{what} must be one of {', '.join(map(repr, options))}{_suggest(s, options)}")
            return None
        return s

    def integer(self, node: Node, what: str, minimum: int = 1) -> int | None:
        s = self.text(node, what)
        if s is None:
            return None
        if not re.fullmatch(r"\d+", s) or int(s) < minimum:
            self.add(node, f"{what} must be a whole number, at least {minimum}")
            return None
        return int(s)

    def boolean(self, node: Node, what: str) -> bool | None:
        s = self.text(node, what)
        if s is None:
            return None
        if s.lower() in ("true", "yes", "on"):
            return True
        if s.lower() in ("false", "no", "off"):
            return False
        self.add(node, f"{what} must be true or false")
        return None


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(options)}"


def _csv_options(y: _Yaml, node: Node, base: CsvOptions, what: str) -> CsvOptions:
    out = CsvOptions(base.delimiter, base.decimal, base.encoding)
    for key, _k, v in y.items(node, what, _CSV_KEYS):
        if key == "delimiter":
            s = y.text(v, f"{what}.delimiter", empty_ok=True)
            if s is None:
                continue
            if s.strip() == "auto":
                out.delimiter = None
            elif s in DELIMITERS or s.strip() in DELIMITERS:
                out.delimiter = DELIMITERS.get(s, DELIMITERS.get(s.strip()))
            else:
                y.add(v, f"{what}.delimiter must be auto, ',', ';', '\\t' or '|'")
        elif key == "decimal":
            s = y.choice(v, ("auto", ".", ","), f"{what}.decimal")
            if s is not None:
                out.decimal = None if s == "auto" else s
        elif key == "encoding":
            s = y.text(v, f"{what}.encoding")
            if s is None:
                continue
            try:
                out.encoding = codecs.lookup(s).name
            except LookupError:
                y.add(v, f"unknown encoding; use one of {', '.join(ENCODINGS)}")
    return out


def _column_dict(y: _Yaml, node: Node, spec, what: str, tm: TableMap, part: str) -> dict[str, str]:
    """``{our column: text}`` for ``columns`` and ``constants``; our names checked against the schema."""
    out: dict[str, str] = {}
    for key, k, v in y.items(node, what):
        if key not in spec.column_names:
            y.add(k, f"{spec.name} has no column {key!r}{_suggest(key, spec.column_names)}")
            continue
        s = y.text(v, f"{what}.{key}", empty_ok=(part == "constants"))
        if s is None:
            continue
        if part == "columns" and not s.strip():
            y.add(v, f"{what}.{key} must name a column of the source", value="")
            continue
        out[key] = s.strip() if part == "columns" else s
        tm.at[f"{part}.{key}"] = _Yaml.at(v)
    return out


def load_mapping(path: str | Path | InputFile) -> Mapping:
    """Read and check a mapping file.

    Parameters
    ----------
    path
        The YAML mapping (or its bytes as an :class:`~cleanpath.io.guard.InputFile`).

    Returns
    -------
    Mapping
        Every table's source and rules.

    Raises
    ------
    ValidationError
        Every mistake in the mapping (up to 100), each with the mapping file, line and column:
        YAML syntax, unknown keys (with a suggestion), unknown tables or model columns, a column
        both mapped and constant, values given for a column that is not mapped, bad options.
    """
    f = path if isinstance(path, InputFile) else read_input(path, limit=MAX_MAPPING_BYTES)
    guard.check_text(f, what="YAML")
    y = _Yaml(f.label)
    try:
        root = yaml.compose(f.data.decode("utf-8-sig"), Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ValidationError(Problem(f"not valid YAML: {e.problem or e.context}", f.label,
                                      mark.line + 1 if mark else None,
                                      mark.column + 1 if mark else None)) from None
    except yaml.YAMLError as e:
        raise ValidationError(Problem(f"not valid YAML: {e}", f.label)) from None
    if root is None:
        raise ValidationError(Problem("the mapping is empty; it needs a 'tables:' section", f.label, 1))
    top = {key: (k, v) for key, k, v in y.items(root, "the mapping", _TOP_KEYS)}
    base = CsvOptions()
    if "version" in top and y.text(top["version"][1], "version") not in (None, "1"):
        y.add(top["version"][1], "version must be 1")
    if "csv" in top:
        base = _csv_options(y, top["csv"][1], base, "csv")
    tables: dict[str, TableMap] = {}
    if "tables" not in top:
        y.add(root, "the mapping has no 'tables:' section (one entry per model table)", value="")
    else:
        for tname, k, node in y.items(top["tables"][1], "tables"):
            if tname not in TABLES:
                y.add(k, f"unknown model table {tname!r}{_suggest(tname, TABLES)}")
                continue
            tables[tname] = _table_map(y, tname, k, node, base)
    y.problems.raise_if_any()
    if not tables:
        raise ValidationError(Problem("the mapping names no table", f.label,
                                      top["tables"][1].start_mark.line + 1 if "tables" in top else 1))
    return Mapping(f.label, tables)


def _table_map(y: _Yaml, tname: str, key_node: Node, node: Node, base: CsvOptions) -> TableMap:
    spec = TABLES[tname]
    tm = TableMap(tname, csv=CsvOptions(base.delimiter, base.decimal, base.encoding))
    tm.at["table"] = _Yaml.at(key_node)
    parts = {key: v for key, _k, v in y.items(node, f"tables.{tname}", _TABLE_KEYS)}
    if "csv" in parts:
        tm.csv = _csv_options(y, parts["csv"], tm.csv, f"tables.{tname}.csv")
    if "file" in parts:
        tm.file = y.text(parts["file"], f"tables.{tname}.file")
        tm.at["file"] = _Yaml.at(parts["file"])
    if "sheet" in parts:
        s = y.text(parts["sheet"], f"tables.{tname}.sheet")
        tm.sheet = int(s) if s is not None and s.isdigit() else s
        tm.at["sheet"] = _Yaml.at(parts["sheet"])
    if "header_row" in parts:
        tm.header_row = y.integer(parts["header_row"], f"tables.{tname}.header_row") or 1
    if "distinct" in parts:
        tm.distinct = bool(y.boolean(parts["distinct"], f"tables.{tname}.distinct"))
    if "columns" in parts:
        tm.columns = _column_dict(y, parts["columns"], spec, f"tables.{tname}.columns", tm, "columns")
    if "constants" in parts:
        tm.constants = _column_dict(y, parts["constants"], spec, f"tables.{tname}.constants", tm,
                                    "constants")
        for c in set(tm.columns) & set(tm.constants):
            at = tm.at[f"constants.{c}"]
            y.problems.add(f"column {c!r} is both mapped (columns) and constant; keep one",
                           line=at.line, column=at.column, value=c)
    if "values" in parts:
        for col, k, vnode in y.items(parts["values"], f"tables.{tname}.values"):
            if col not in spec.column_names:
                y.add(k, f"{tname} has no column {col!r}{_suggest(col, spec.column_names)}")
                continue
            if col not in tm.columns:
                y.add(k, f"values for {col!r}, but {col!r} is not mapped under columns")
                continue
            table: dict[str, str] = {}
            for theirs, _tk, ours in y.items(vnode, f"tables.{tname}.values.{col}"):
                s = y.text(ours, f"tables.{tname}.values.{col}.{theirs}", empty_ok=True)
                if s is not None:
                    table[theirs] = s.strip()
            tm.values[col] = table
    if not tm.columns and not tm.constants:
        y.add(key_node, f"tables.{tname} maps no column (add columns: {{our_column: their_column}})")
        return tm
    missing = [c.name for c in spec.columns
               if c.required and c.default is None and c.name not in tm.columns and c.name not in tm.constants]
    if missing:
        y.add(key_node, f"tables.{tname}: required column(s) {', '.join(missing)} neither mapped nor "
                        "constant", value=tname)
    return tm


# --- reading sources -----------------------------------------------------------------------------

@dataclass
class _Frame:
    """One source table, as text: the frame, its row locations and the label for messages."""

    df: pd.DataFrame
    source: Source
    label: str
    delimiter: str | None = None  # CSV only
    #: CSV read with the delimiter swapped for ",": values are swapped back when first used,
    #: so columns no table maps cost nothing.
    swapped: bool = False
    _fixed: set = field(default_factory=set)

    def column(self, name: str) -> pd.Series:
        """Their column ``name`` as text, exactly as in the file."""
        s = self.df[name]
        if self.swapped and name not in self._fixed:
            arr = pc.cast(pa.array(s.array), pa.string())
            # Most columns (ids, words) hold neither byte: one scan, no copies.
            if (pc.any(pc.match_substring(arr, ",")).as_py()
                    or pc.any(pc.match_substring(arr, self.delimiter)).as_py()):
                s = pd.Series(pd.arrays.ArrowExtensionArray(_swap(arr, self.delimiter)), index=s.index)
                self.df[name] = s
            self._fixed.add(name)
        return s


def sniff_delimiter(f: InputFile) -> str:
    """The delimiter of a CSV file, from its first records.

    The candidate (``,`` ``;`` tab ``|``) that splits the header into the most fields, and at
    least half of the next 20 records (records, not lines: quoted fields may hold newlines) into
    the same number, wins; a tie goes to the one more records agree with, then to the earlier
    candidate in that order. A file with one column
    reads as ``,``. The mapping's ``csv.delimiter`` overrides it.
    """
    head = f.data[:64 << 10].decode("utf-8", errors="replace").lstrip("\ufeff")
    cut = len(f.data) > 64 << 10
    best, best_key = ",", (1, 0.0)
    for d in (",", ";", "\t", "|"):
        try:
            # Records, not lines: a quoted field may hold newlines.
            rows = [r for r in itertools.islice(csv.reader(io.StringIO(head, newline=""), delimiter=d), 21) if r]
        except csv.Error:
            continue
        if cut and len(rows) > 1:
            rows = rows[:-1]  # the last record may be cut
        if not rows:
            continue
        n = len(rows[0])
        # Most records (a ragged one is the reader's to report, not a reason to misread the
        # delimiter) split into as many fields as the header.
        agree = sum(len(r) == n for r in rows[1:]) / max(1, len(rows) - 1) if len(rows) > 1 else 1.0
        if n > 1 and agree >= 0.5 and (n, agree) > best_key:
            best, best_key = d, (n, agree)
    return best


def _swap(text: pa.Array | pa.ChunkedArray, delimiter: str) -> pa.Array:
    """Swap ``delimiter`` and ``,`` in every value (NUL, refused in any input, as the placeholder)."""
    s = pc.replace_substring(text, ",", "\x00")
    s = pc.replace_substring(s, delimiter, ",")
    return pc.replace_substring(s, "\x00", delimiter)


_SEP_LINE = re.compile(rb"^(?:\xef\xbb\xbf)?sep=(.)\r?\n")


def _read_csv(source: Path | InputFile, opts: CsvOptions, header_row: int = 1) -> _Frame:
    """Read a CSV source (a path is read here, so its raw bytes die as soon as they are copied).

    ``header_row`` is the physical line of the column names; lines above it (an export's title,
    Excel's ``sep=;`` hint, which also gives the delimiter) are skipped, and every line number
    reported still counts them.
    """
    f = read_input(source) if isinstance(source, Path) else source
    del source
    if opts.encoding not in ("utf-8", "utf-8-sig"):
        try:
            f = InputFile(f.label, f.data.decode(opts.encoding).encode("utf-8"), f.member)
        except UnicodeDecodeError as e:
            raise ValidationError(Problem(f"not valid {opts.encoding} (byte 0x{f.data[e.start]:02x})",
                                          f.label, f.data.count(b"\n", 0, e.start) + 1)) from None
    delimiter = opts.delimiter
    sep = _SEP_LINE.match(f.data[:16])
    if sep is not None:
        hinted = sep.group(1).decode("latin-1")
        delimiter = delimiter or (hinted if hinted in DELIMITERS.values() else None)
        header_row = max(header_row, 2)
    skip = header_row - 1
    if skip:
        offset = 0
        for _ in range(skip):  # a few title lines at most
            nl = f.data.find(b"\n", offset, offset + guard.MAX_LINE_BYTES + 1)
            if nl < 0:
                raise ValidationError(Problem(f"the file has fewer than {header_row} lines; no header "
                                              f"at line {header_row}", f.label, header_row))
            offset = nl + 1
        f = InputFile(f.label, f.data[offset:], f.member)
    delimiter = delimiter or sniff_delimiter(f)
    swap = str.maketrans("," + delimiter, delimiter + ",")

    def shifted(p: Problem) -> Problem:
        column = p.column.translate(swap) if isinstance(p.column, str) and delimiter != "," else p.column
        value = p.value.translate(swap) if p.value is not None and delimiter != "," else p.value
        return Problem(p.reason, p.file, None if p.line is None else p.line + skip, column, value)

    try:
        if delimiter == ",":
            df, src = read_csv_bytes(f)
        else:
            # Arrow's reader and the guard's quote scanner know comma CSV; both bytes are ASCII,
            # so swapping them keeps UTF-8 intact, and every value is swapped back when used.
            table = bytes.maketrans(b"," + delimiter.encode(), delimiter.encode() + b",")
            f = InputFile(f.label, f.data.translate(table), f.member)  # the original is released
            df, src = read_csv_bytes(f)
            df.columns = [c.translate(swap) for c in df.columns]
    except ValidationError as e:
        if delimiter == "," and not skip:
            raise
        raise ValidationError([shifted(p) for p in e.problems], truncated=e.truncated) from None
    if skip:
        inner = src
        src = Source(inner.file, lambda r: inner.line_of(r) + skip,
                     header_line=None if inner.header_line is None else inner.header_line + skip)
    return _Frame(df, src, f.label, delimiter, swapped=delimiter != ",")


def _check_workbook(f: InputFile) -> None:
    """Refuse a zip-based workbook whose directory declares too much, before calamine inflates it."""
    if not f.data.startswith(b"PK"):
        return  # .xls (OLE) and .xlsb are read by calamine within the input's own size limit
    try:
        with zipfile.ZipFile(io.BytesIO(f.data)) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as e:
        raise ValidationError(Problem(f"not a readable workbook ({e})", f.label)) from None
    declared = sum(i.file_size for i in infos)
    if declared > guard.MAX_INPUT_BYTES:
        raise guard.bomb_error(f.label, f"workbook declares {declared:,} bytes uncompressed")
    if declared > guard.RATIO_FLOOR and declared / max(1, len(f.data)) > guard.MAX_RATIO:
        raise guard.bomb_error(f.label, f"workbook declares {declared:,} bytes in {len(f.data):,} "
                                        f"(above {guard.MAX_RATIO}:1)", knob="CLEANPATH_MAX_RATIO")


def _cell_text(values: np.ndarray) -> pa.Array:
    """A sheet column as text: numbers without a spurious ``.0``, dates ISO, booleans true/false.

    A column of one type is converted by Arrow in one cast; only mixed columns (numbers and
    text, as hand-kept sheets have) are converted value by value.
    """
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = pa.array([None if v is None or v == "" else
                        (repr(v) if isinstance(v, float) and not v.is_integer() else
                         str(int(v)) if isinstance(v, float) else
                         str(v).lower() if isinstance(v, bool) else
                         v.isoformat() if hasattr(v, "isoformat") else str(v)) for v in values],
                       pa.string())
    if pa.types.is_timestamp(arr.type):
        arr = pc.strftime(arr, format="%Y-%m-%dT%H:%M:%S")
    elif not pa.types.is_string(arr.type):
        arr = pc.cast(arr, pa.string())
    # calamine gives empty cells as "": they are missing values
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _read_sheet(f: InputFile, sheet: str | int | None, header_row: int, tm: TableMap,
                mapping: Mapping) -> _Frame:
    from python_calamine import CalamineError, CalamineWorkbook

    _check_workbook(f)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(f.data))
    except (CalamineError, ValueError, OSError) as e:
        raise ValidationError(Problem(f"not a readable workbook ({e})", f.label)) from None
    names = list(wb.sheet_names)
    at = tm.at.get("sheet", tm.at.get("table", At()))
    if sheet is None:
        name = names[0] if names else None
    elif isinstance(sheet, int):
        name = names[sheet - 1] if 1 <= sheet <= len(names) else None
    else:
        name = sheet if sheet in names else None
    if name is None:
        raise ValidationError(Problem(f"{f.label} has no sheet {sheet!r}; its sheets: {', '.join(names)}"
                                      f"{_suggest(str(sheet), names) if isinstance(sheet, str) else ''}",
                                      mapping.label, at.line, at.column, str(sheet)))
    label = f"{f.label}:{name}"
    try:
        ws = wb.get_sheet_by_name(name)
        col0 = ws.start[1] if ws.start else 0  # rows come from row 1, columns from the first used
        rows = iter(ws.iter_rows())
        top = list(itertools.islice(rows, header_row))
    except (CalamineError, ValueError) as e:
        raise ValidationError(Problem(f"cannot read the sheet ({e})", label)) from None
    if len(top) < header_row:
        raise ValidationError(Problem(f"the sheet has {len(top)} row(s), no header at row {header_row}",
                                      label, header_row))
    header = ["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)).strip()
              for v in top[-1]]
    problems = ProblemCollector(label)
    keep: dict[int, str] = {}
    for j, h in enumerate(header):
        if h and h in keep.values():
            problems.add("column name appears twice in the header", line=header_row, column=h, value=h)
        elif h:
            keep[j] = h
    problems.raise_if_any()
    # Chunk by chunk, so that the Python objects calamine hands over never exceed one chunk;
    # each chunk's columns become Arrow text at once.
    parts: dict[int, list[pa.Array]] = {j: [] for j in keep}
    n = 0
    while True:
        try:
            chunk = list(itertools.islice(rows, SHEET_CHUNK_ROWS))
        except (CalamineError, ValueError) as e:
            raise ValidationError(Problem(f"cannot read the sheet ({e})", label, header_row + n + 1)) from None
        if not chunk:
            break
        body = pd.DataFrame(chunk, dtype=object)  # one C-level pass, ragged rows padded
        for j in range(body.shape[1]):
            values = body.iloc[:, j].to_numpy(dtype=object)
            if j in keep:
                parts[j].append(_cell_text(values))
            elif (pd.notna(values) & (values != "")).any():
                first = int(np.argmax(pd.notna(values) & (values != "")))
                problems.add(f"column {_excel_column(j + col0)} has values but no name in the header row",
                             line=header_row + n + first + 1, column=_excel_column(j + col0),
                             value=values[first])
        for j in keep:
            if j >= body.shape[1]:
                parts[j].append(pa.nulls(len(body), pa.string()))
        n += len(body)
        del body, chunk
    problems.raise_if_any()
    df = pd.DataFrame({h: pd.Series(pd.arrays.ArrowExtensionArray(
        pa.chunked_array(parts[j], pa.string()).combine_chunks() if parts[j] else pa.nulls(0, pa.string())))
        for j, h in keep.items()}) if keep else pd.DataFrame(index=range(n))
    # Trailing blank rows (formatting that reaches further down than the data) are not records.
    if len(df) and df.shape[1]:
        filled = np.flatnonzero(df.notna().any(axis=1).to_numpy())
        df = df.iloc[:filled[-1] + 1 if filled.size else 0].reset_index(drop=True)
    return _Frame(df, Source(label, lambda r: np.asarray(r) + header_row + 1, header_line=header_row), label)


def _excel_column(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


# --- mapping rows ----------------------------------------------------------------------------------

_GROUPED = re.compile(r"^\s*[+-]?\d{1,3}(\.\d{3})+(,\d*)?\s*$")
_COMMA_DECIMAL = r"^\s*[+-]?\d*,\d+\s*$|^\s*[+-]?\d+,\d*\s*$"
_DMY = r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T].*)?\s*$"
_ISO_TIME = r"^\s*(\d{4}-\d{2}-\d{2})[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*$"


def _decimal_comma(s: pd.Series) -> pd.Series:
    """``1.234,5`` -> ``1234.5`` and ``49,44`` -> ``49.44``; other text unchanged (vectorised)."""
    arr = pc.cast(pa.array(s.array), pa.string())  # one string type for the joins below
    # The regular expressions run only where their character occurs at all (lat/lon columns
    # have no thousands groups, costs may).
    if pc.any(pc.match_substring(arr, ".")).as_py():
        grouped = pc.match_substring_regex(arr, _GROUPED.pattern)
        arr = pc.if_else(grouped, pc.replace_substring(arr, ".", ""), arr)
    if pc.any(pc.match_substring(arr, ",")).as_py():
        comma = pc.match_substring_regex(arr, _COMMA_DECIMAL)
        arr = pc.if_else(comma, pc.replace_substring(arr, ",", "."), arr)
    return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=s.index)


def _iso_dates(s: pd.Series) -> pd.Series:
    """``31.12.2019`` and ``2019-12-31 00:00:00`` -> ``2019-12-31``; other text unchanged."""
    arr = pc.cast(pa.array(s.array), pa.string())  # one string type for the joins below
    if pc.any(pc.match_substring(arr, ":")).as_py():  # only date-times need the expression
        arr = pc.replace_substring_regex(arr, _ISO_TIME, r"\1")
    dmy = pc.match_substring_regex(arr, _DMY)
    if pc.any(dmy).as_py():
        parts = pc.extract_regex(arr, _DMY.replace(r"(\d{1,2})\.(\d{1,2})\.(\d{4})",
                                                   r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"))
        d = pc.utf8_lpad(pc.struct_field(parts, "d"), 2, "0")
        m = pc.utf8_lpad(pc.struct_field(parts, "m"), 2, "0")
        iso = pc.binary_join_element_wise(pc.struct_field(parts, "y"), m, d, "-")
        arr = pc.if_else(dmy, iso, arr)
    return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=s.index)


def _text(s: pd.Series) -> pd.Series:
    return s if isinstance(s.dtype, pd.ArrowDtype) else s.astype(pd.ArrowDtype(pa.string()))


def _apply(tm: TableMap, frame: _Frame, decimal: str, problems: ProblemCollector,
           mapping_label: str) -> tuple[pd.DataFrame, Source] | None:
    """The model table's raw (text) rows from one source, or None when a mapped column is missing."""
    spec = TABLES[tm.table]
    df = frame.df
    missing = [(our, theirs) for our, theirs in tm.columns.items() if theirs not in df.columns]
    for our, theirs in missing:
        at = tm.at[f"columns.{our}"]
        problems.add(f"{frame.label} has no column {theirs!r} (mapped to {tm.table}.{our})"
                     f"{_suggest(theirs, list(df.columns))}", file=mapping_label, line=at.line,
                     column=at.column, value=theirs)
    if missing:
        return None
    out: dict[str, pd.Series] = {}
    for our, theirs in tm.columns.items():
        s = _text(frame.column(theirs)).str.strip()
        if our in tm.values:
            table = tm.values[our]
            # A hash lookup per value; values the table does not list pass through unchanged.
            hit = s.map(table, na_action="ignore")
            s = _text(hit.where(hit.notna(), s))
        dtype = spec.column(our).dtype
        if dtype in ("float", "int") and decimal == ",":
            s = _decimal_comma(s)
        elif dtype == "date":
            s = _iso_dates(s)
        out[our] = s
    n = len(df)
    for our, value in tm.constants.items():
        out[our] = pd.Series(pd.arrays.ArrowExtensionArray(pa.array([value or None] * n, pa.string())))
    raw = pd.DataFrame(out, index=pd.RangeIndex(n))
    rows = np.arange(n)
    if tm.distinct and n:
        # First row of each distinct combination, grouped in Arrow (no Python string objects:
        # a flat export of a million elements repeats each site a few times).
        t = pa.table({c: pa.array(raw[c].array) for c in raw.columns}).append_column(
            "__row", pa.array(np.arange(n, dtype=np.int64)))
        first = t.group_by(list(raw.columns), use_threads=False).aggregate([("__row", "min")])
        rows = np.sort(first.column("__row_min").to_numpy())
        raw = raw.iloc[rows].reset_index(drop=True)
    src = frame.source
    source = src if not tm.distinct else Source(src.file, lambda r: src.line_of(rows[np.asarray(r, dtype=np.int64)]),
                                               header_line=src.header_line)
    return raw, source


# --- the importer ----------------------------------------------------------------------------------

def _pick_file(tm: TableMap, files: list[Path], mapping: Mapping) -> Path:
    at = tm.at.get("file", tm.at.get("table", At()))
    given = ", ".join(p.name for p in files)
    if tm.file is None:
        if len(files) == 1:
            return files[0]
        raise ValidationError(Problem(f"tables.{tm.table} names no file, and several were given ({given}); "
                                      "add file: NAME", mapping.label, at.line, at.column, tm.table))
    want = Path(tm.file)
    hits = [p for p in files if p == want or p.name == want.name]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1 and any(p == want for p in hits):
        return want
    reason = (f"several files given are named {want.name!r}; give the path" if hits else
              f"file {tm.file!r} is not among the files given ({given})"
              f"{_suggest(want.name, [p.name for p in files]) if files else ''}")
    raise ValidationError(Problem(reason, mapping.label, at.line, at.column, tm.file))


def _locator(where: dict[tuple[str, str], list[tuple[str, str]]]):
    """Turn validation problems about our columns into problems about their columns."""

    def locate(p: Problem) -> Problem:
        if not isinstance(p.column, str) or p.file is None:
            return p
        hits = where.get((p.file, p.column))
        if not hits:
            return p
        theirs = sorted({t for _tbl, t in hits})
        tables = sorted({tbl for tbl, _t in hits})
        column = theirs[0] if len(theirs) == 1 else " | ".join(theirs)
        reason = f"{p.reason} ({'/'.join(tables)}.{p.column})"
        if p.reason.startswith("unknown value"):
            reason += f"; translate it under tables.{tables[0]}.values.{p.column} in the mapping"
        return Problem(reason, p.file, p.line, column, p.value)

    return locate


def import_mapped(paths, *, mapping: str | Path | Mapping | None = None, **_ignored) -> Imported:
    """Import CSV and Excel files onto the model tables through a mapping.

    Parameters
    ----------
    paths
        The source files (CSV, gzip CSV, or Excel workbooks), or directories of them.
    mapping
        The mapping file (see the module's documentation and docs/mapping.md), or a loaded one.

    Returns
    -------
    Imported
        Raw (text) model tables with sources whose lines are CSV lines or sheet rows, and a
        ``locate`` hook that renames our columns to theirs in validation problems.

    Raises
    ------
    ValidationError
        Every mistake of the mapping (mapping file, line, column), every unreadable or ragged
        source (file, line), every mapped column missing from its source.
    """
    if mapping is None:
        raise ValidationError(Problem("a mapped import needs a mapping file (--map FILE)", column="map"))
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    files = expand_paths(as_paths(paths))
    if not files:
        raise ValidationError("no input files given")
    problems = ProblemCollector()
    cache: dict[tuple, _Frame] = {}
    failed: set[tuple] = set()
    tables: dict[str, pd.DataFrame] = {}
    sources: dict[str, Source] = {}
    where: dict[tuple[str, str], list[tuple[str, str]]] = {}
    used: dict[str, set[str]] = {}
    frames: dict[str, _Frame] = {}
    for tname, tm in m.tables.items():
        if not tm.columns:
            # Constants only (an operator the export does not name): one row, from the mapping.
            at = tm.at["table"]
            tables[tname] = pd.DataFrame({c: pd.Series([v or None], dtype=pd.ArrowDtype(pa.string()))
                                          for c, v in tm.constants.items()})
            sources[tname] = Source(m.label, lambda r, line=at.line: np.full(len(np.asarray(r)), line))
            continue
        key = None
        try:
            path = _pick_file(tm, files, m)
            excel = path.name.lower().endswith(EXCEL_SUFFIXES)
            key = (path, tm.sheet, tm.header_row) if excel else (path, tm.csv.delimiter, tm.csv.encoding,
                                                                 tm.header_row)
            if key in failed:
                continue  # its problems are already reported, once
            if key not in cache:
                # Read per source and not kept: the CSV reader drops the raw bytes as soon as
                # it has its own copy, so the peak holds one copy of the file, not two.
                if excel:
                    cache[key] = _read_sheet(read_input(path), tm.sheet, tm.header_row, tm, m)
                else:
                    if tm.sheet is not None:
                        at = tm.at["sheet"]
                        raise ValidationError(Problem(f"sheet given, but {path.name} is not a workbook "
                                                      f"({', '.join(EXCEL_SUFFIXES)})", m.label, at.line,
                                                      at.column, str(tm.sheet)))
                    cache[key] = _read_csv(path, tm.csv, tm.header_row)
            frame = cache[key]
        except ValidationError as e:
            if key is not None:
                failed.add(key)
            problems.extend(e.problems)
            problems.truncated |= e.truncated
            continue
        decimal = tm.csv.decimal or ("," if frame.delimiter not in (None, ",") else ".")
        got = _apply(tm, frame, decimal, problems, m.label)
        if got is None:
            continue
        tables[tname], sources[tname] = got
        frames[frame.label] = frame
        used.setdefault(frame.label, set()).update(tm.columns.values())
        for our, theirs in tm.columns.items():
            where.setdefault((frame.label, our), []).append((tname, theirs))
    problems.raise_if_any()
    warnings = []
    for label, frame in frames.items():
        unused = [c for c in frame.df.columns if c not in used[label]]
        if unused:
            warnings.append(f"{label}: column(s) not mapped, ignored: {', '.join(unused[:20])}"
                            + (f" (+{len(unused) - 20})" if len(unused) > 20 else ""))
    return Imported(tables, sources, warnings, locate=_locator(where))


def problem_rows(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a table with the sheet split from the file (``book.xlsx:Sites`` -> file, sheet)."""
    rows = []
    for p in problems[:MAX_PROBLEMS]:
        file, sheet = p.file, None
        if file and ":" in file:
            head, tail = file.rsplit(":", 1)
            if head.lower().endswith(EXCEL_SUFFIXES):
                file, sheet = head, tail
        rows.append({"file": file, "sheet": sheet, "row": p.line, "column": None if p.column is None else str(p.column),
                     "value": p.value, "reason": p.reason})
    return pd.DataFrame(rows, columns=["file", "sheet", "row", "column", "value", "reason"])
