"""Turn raw tables into typed, checked model tables, driven by :mod:`cleanpath.model.schema`.

All checks are vectorised over columns; a 1 M-row table is checked in well under a second. Every
problem names the file, the line (or Parquet row), the column, the value and the reason.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cleanpath.errors import MAX_PROBLEMS, ProblemCollector
from cleanpath.model.schema import TABLES, Column, Table

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass
class Source:
    """Where a table's rows came from, so problems can point at them.

    Attributes
    ----------
    file
        Path shown to the user.
    line_of
        Maps 0-based row positions to 1-based line numbers (or Parquet rows).
    header_line
        Line of the header (for problems about whole columns), if any.
    file_of
        When rows come from several files (one table read from many GML or BOM files), maps
        0-based row positions to each row's own file; ``file`` is then only a summary label.
    """

    file: str
    line_of: Callable[[np.ndarray], np.ndarray] = field(default=lambda rows: np.asarray(rows) + 1)
    header_line: int | None = None
    file_of: Callable[[np.ndarray], Sequence[str]] | None = None

    def files(self, rows: np.ndarray) -> Sequence[str]:
        """The file of each row."""
        return self.file_of(rows) if self.file_of is not None else [self.file] * len(rows)

    @classmethod
    def csv(cls, file: str, first_data_line: int = 2) -> "Source":
        return cls(file, lambda rows: np.asarray(rows) + first_data_line, header_line=first_data_line - 1)


def arrow_frame(table: Table, columns: Mapping[str, pa.Array | pd.Series | np.ndarray | list]) -> pd.DataFrame:
    """A DataFrame with exactly ``table``'s columns, in order, with Arrow-backed dtypes."""
    n = None
    arrays = []
    for c in table.columns:
        if c.name in columns:
            v = columns[c.name]
            arr = v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(
                v.to_numpy(dtype=object, na_value=None) if isinstance(v, pd.Series) and v.dtype == object else v,
                type=c.arrow_type, from_pandas=True)
            if arr.type != c.arrow_type:
                arr = arr.cast(c.arrow_type)
            n = len(arr)
        else:
            arr = None
        arrays.append(arr)
    n = n or 0
    arrays = [a if a is not None else pa.nulls(n, type=c.arrow_type) for a, c in zip(arrays, table.columns)]
    schema = pa.schema([pa.field(c.name, c.arrow_type) for c in table.columns])
    return pa.Table.from_arrays(arrays, schema=schema).to_pandas(types_mapper=pd.ArrowDtype)


def empty_frame(table: Table) -> pd.DataFrame:
    """An empty, correctly typed frame of ``table``."""
    return arrow_frame(table, {})


def _unknown_value(col: Column, value: object) -> str:
    close = difflib.get_close_matches(str(value), col.allowed or (), n=1, cutoff=0.6)
    if close:
        return f"unknown value; did you mean {close[0]!r}?"
    if len(col.allowed or ()) <= 8:
        return f"unknown value; allowed: {', '.join(col.allowed or ())}"
    return f"unknown value; allowed: {len(col.allowed or ())} values, listed by `cleanpath schema`"


def _arrow(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array | None:
    """The values as one Arrow array without copying them, or None when they are not Arrow-backed."""
    if isinstance(values, pd.Series):
        dtype = values.dtype
        arrow_backed = isinstance(dtype, pd.ArrowDtype) or (
            isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow")
        if not arrow_backed:
            return None
        values = pa.array(values.array)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values


def _series(arr: pa.Array) -> pd.Series:
    return pd.Series(pd.arrays.ArrowExtensionArray(arr))


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s.dtype)


def _blank_to_null(s: pd.Series) -> pd.Series | pa.Array:
    """Text columns as an Arrow string array, trimmed, empty values null; other columns unchanged."""
    if not _is_text(s):
        return s
    # Arrow-backed text is trimmed in place; anything else goes through pandas' conversion, which
    # also decides (as it always has) what a non-string object becomes.
    arr = _arrow(s)
    if arr is not None and arr.type == pa.large_string():  # pandas' own "str" dtype
        arr = arr.cast(pa.string())
    elif arr is None or arr.type != pa.string():
        arr = _arrow(s.astype(pd.ArrowDtype(pa.string())))
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _values_at(values: pd.Series | pa.Array, rows: np.ndarray) -> list:
    if isinstance(values, pd.Series):
        return values.iloc[rows].tolist()
    return values.take(pa.array(rows)).to_pylist()


def _report(problems: ProblemCollector, src: Source, col: str, s: pd.Series | pa.Array, bad: np.ndarray,
            reason: str | Callable[[object], str]) -> None:
    if not bad.any():  # the common case; np.flatnonzero over a million rows is not free
        return
    if problems.full:
        problems.truncated = True
        return
    rows = np.flatnonzero(bad)
    room = max(0, MAX_PROBLEMS - len(problems.problems))
    if rows.size > room:
        problems.truncated = True
    rows = rows[:room]
    lines = src.line_of(rows)
    vals = _values_at(s, rows)
    for line, f, v in zip(lines, src.files(rows), vals):
        problems.add(reason(v) if callable(reason) else reason, file=f, line=int(line),
                     column=col, value=None if v is None or v is pd.NA else v)


def _numbers(s: pd.Series | pa.Array) -> np.ndarray:
    """A column as float64 (NaN where missing or not a number)."""
    if isinstance(s, pa.Array):
        try:
            # Arrow accepts a subset of what pandas does ("1e3", "nan", "+1"...); anything it
            # refuses goes to pandas so that exactly the same values parse as before.
            return pc.cast(s, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            s = _series(s)
        num = pd.to_numeric(s.astype(object), errors="coerce").astype("float64")
    elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        num = pd.to_numeric(s, errors="coerce").astype("float64")
    else:
        num = pd.to_numeric(s.astype(object), errors="coerce").astype("float64")
    return num.to_numpy(dtype="float64", na_value=np.nan)


def _exact_ints(s: pd.Series | pa.Array, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact int64 values where the input is an integer (text of digits or an integer column).

    Returns
    -------
    values, exact
        The integers (0 elsewhere) and the mask of rows they are exact for.
    """
    none = (np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))
    if isinstance(s, pa.Array):
        shaped = pc.match_substring_regex(s, r"^[+-]?[0-9]+$")
        digits = pc.if_else(shaped, s, pa.scalar(None, pa.string()))
        try:
            arr = pc.cast(digits, pa.int64())
        except pa.ArrowInvalid:
            # Some are beyond 64 bits (rare): convert the integer-shaped values one by one.
            vals = [None if v is None or not -2**63 <= int(v) < 2**63 else int(v)
                    for v in digits.to_pylist()]
            arr = pa.array(vals, type=pa.int64())
    elif pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        arr = _arrow(s) if isinstance(s.dtype, pd.ArrowDtype) else pa.array(s, from_pandas=True)
        try:
            arr = pc.cast(arr, pa.int64())
        except pa.ArrowInvalid:
            return none  # unsigned values beyond int64: left to the float path, which refuses them
    else:
        return none
    exact = arr.is_valid().to_numpy(zero_copy_only=False)
    return pc.fill_null(arr, 0).to_numpy(zero_copy_only=False).astype(np.int64), exact


def _dates(txt: pa.Array) -> pa.Array:
    """ISO dates (``YYYY-MM-DD``) as date32; null where the text is not one."""
    ok_shape = pc.match_substring_regex(txt, r"^\d{4}-\d{2}-\d{2}$")
    shaped = pc.if_else(ok_shape, txt, pa.scalar(None, pa.string()))
    try:
        return pc.cast(shaped, pa.date32())
    except pa.ArrowInvalid:
        # Some value has the right shape but is no date (2021-02-29): find them the slow way.
        parsed = pd.to_datetime(_series(shaped).astype(object), format="%Y-%m-%d", errors="coerce")
        # The mask matters: an all-NaT column converts to 0001-01-01, not to missing.
        return pa.array(parsed.dt.date.to_numpy(dtype=object, na_value=None), type=pa.date32(),
                        mask=parsed.isna().to_numpy())


def _parse(col: Column, s: pd.Series | pa.Array, src: Source, problems: ProblemCollector) -> pa.Array:
    """Cast one column to its dtype, reporting values that do not parse.

    ``s`` is an Arrow string array for text input (see :func:`_blank_to_null`) or the typed
    column as given.
    """
    text = isinstance(s, pa.Array)
    present = s.is_valid().to_numpy(zero_copy_only=False) if text else s.notna().to_numpy()
    if col.dtype == "str":
        if text:
            return s
        return _arrow(s if s.dtype == pd.ArrowDtype(pa.string()) else s.astype(pd.ArrowDtype(pa.string())))
    if col.dtype in ("int", "float"):
        vals = _numbers(s)
        bad = present & ~np.isfinite(vals)
        if col.dtype == "int":
            frac = np.isfinite(vals) & (vals != np.round(vals))
            _report(problems, src, col.name, s, bad | frac, "not a whole number")
            bad |= frac
            # float64 holds integers exactly only up to 2**53: take integers from the text (or
            # integer column) itself, and refuse whole numbers that do not fit in 64 bits.
            exact, is_exact = _exact_ints(s, len(vals))
            huge = ~bad & ~is_exact & (np.abs(np.where(bad, 0.0, vals)) >= 2.0**63)
            _report(problems, src, col.name, s, huge, "outside the 64-bit integer range")
            bad |= huge
        else:
            _report(problems, src, col.name, s, bad, "not a number")
        vals = np.where(bad, np.nan, vals)
        if col.minimum is not None:
            _report(problems, src, col.name, s, vals < col.minimum, f"below the minimum {col.minimum:g}"
                    + (f" {col.unit}" if col.unit else ""))
        if col.maximum is not None:
            _report(problems, src, col.name, s, vals > col.maximum, f"above the maximum {col.maximum:g}"
                    + (f" {col.unit}" if col.unit else ""))
        mask = ~np.isfinite(vals)
        if col.dtype == "int":
            ints = np.where(is_exact, exact, np.where(mask | is_exact, 0.0, vals).astype("int64"))
            return pa.array(ints, mask=mask, type=pa.int64())
        return pa.array(vals, mask=mask, type=pa.float64())
    if col.dtype == "bool":
        if not text and pd.api.types.is_bool_dtype(s.dtype):
            return _arrow(s.astype(pd.ArrowDtype(pa.bool_())))
        low = pc.utf8_lower(s if text else _arrow(s.astype(pd.ArrowDtype(pa.string()))))
        t = pc.is_in(low, value_set=pa.array(sorted(_TRUE))).to_numpy(zero_copy_only=False)
        f = pc.is_in(low, value_set=pa.array(sorted(_FALSE))).to_numpy(zero_copy_only=False)
        _report(problems, src, col.name, s, present & ~t & ~f, "not a boolean (use true or false)")
        return pa.array(t, mask=~(t | f), type=pa.bool_())
    if col.dtype == "date":
        if not text:
            if isinstance(s.dtype, pd.ArrowDtype) and pa.types.is_date(s.dtype.pyarrow_dtype):
                return _arrow(s)
            if pd.api.types.is_datetime64_any_dtype(s.dtype):
                return _arrow(s.dt.date.astype(pd.ArrowDtype(pa.date32())))
        dates = _dates(s if text else _arrow(s.astype(pd.ArrowDtype(pa.string()))))
        bad = present & dates.is_null().to_numpy(zero_copy_only=False)
        _report(problems, src, col.name, s, bad, "not a date (use YYYY-MM-DD)")
        return dates
    raise AssertionError(col.dtype)


def coerce_table(table: Table, raw: pd.DataFrame, source: Source, problems: ProblemCollector,
                 *, warnings: list[str] | None = None) -> pd.DataFrame:
    """Check and type one table.

    Parameters
    ----------
    table
        The schema entry.
    raw
        Raw rows: strings as read from a file, or already-typed columns.
    source
        Where the rows came from.
    problems
        Collects what is wrong.
    warnings
        Receives notes that do not stop the import (ignored extra columns).

    Returns
    -------
    DataFrame
        Exactly the schema's columns, Arrow dtypes, defaults filled in.
    """
    cols = {}
    present_cols = set(raw.columns)
    for name in table.required_columns:
        if name not in present_cols:
            problems.add(f"required column {name!r} is missing from table {table.name!r}",
                         file=source.file, line=source.header_line, column=name)
    extra = [c for c in raw.columns if c not in table.column_names]
    if extra and warnings is not None:
        warnings.append(f"{source.file}: ignored column(s) not in the {table.name} schema: {', '.join(map(str, extra))}")
    n = len(raw)
    for col in table.columns:
        if col.name not in present_cols:
            continue
        s = _blank_to_null(raw[col.name])
        typed = _parse(col, s, source, problems)
        null = typed.is_null().to_numpy(zero_copy_only=False)
        if col.required:
            _report(problems, source, col.name, s, null, f"{col.name} is required")
        if col.allowed is not None:
            known = pc.is_in(typed, value_set=pa.array(col.allowed, typed.type))
            bad = ~null & ~known.to_numpy(zero_copy_only=False)
            _report(problems, source, col.name, s, bad, lambda v, c=col: _unknown_value(c, v))
        if col.pattern is not None:
            match = _series(typed).str.fullmatch(col.pattern).to_numpy(dtype=bool, na_value=False)
            _report(problems, source, col.name, s, ~null & ~match, f"does not match {col.pattern}")
        if col.default is not None and null.any():
            typed = pc.fill_null(typed, pa.scalar(col.default, typed.type))
        cols[col.name] = typed
    for col in table.columns:
        if col.name not in cols and col.default is not None:
            cols[col.name] = pa.repeat(pa.scalar(col.default, col.arrow_type), n)
    out = arrow_frame(table, cols)
    if all(k in present_cols for k in table.key):
        check_keys(table, out, source, problems)
    return out


def _all_distinct(df: pd.DataFrame, key: tuple[str, ...]) -> bool:
    """True when the single-column key has no repeats (Arrow hashing, no pandas factorize)."""
    if len(key) != 1:
        return False
    arr = _arrow(df[key[0]])
    # pc.unique counts a null once, like count_distinct(mode="all"), and is several times faster.
    return arr is not None and len(pc.unique(arr)) == len(arr)


def check_keys(table: Table, df: pd.DataFrame, source: Source, problems: ProblemCollector,
               *, base_rows: int = 0, base_name: str | None = None) -> None:
    """Report repeated keys. Rows before ``base_rows`` came from an existing snapshot."""
    if not table.key or len(df) == 0 or _all_distinct(df, table.key):
        return
    keys = df[list(table.key)]
    dup = keys.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    first = keys[keys.duplicated(keep=False).to_numpy() & ~dup]
    first_row = dict(zip(map(tuple, first.astype(object).to_numpy()), first.index.to_numpy()))
    rows = np.flatnonzero(dup)[:100]
    lines = source.line_of(rows - base_rows)
    files = source.files(rows - base_rows)
    for r, line, f in zip(rows, lines, files):
        k = tuple(keys.iloc[r].astype(object))
        fr = first_row.get(k, 0)
        if fr < base_rows:
            where = f"already in snapshot {base_name!r}"
        else:
            first_file = source.files(np.array([fr - base_rows]))[0]
            first_line = int(source.line_of(np.array([fr - base_rows]))[0])
            where = f"first seen at line {first_line}" + (f" of {first_file}" if first_file != f else "")
        problems.add(f"duplicate {'/'.join(table.key)} ({where})", file=f,
                     line=int(line), column=table.key[0], value="/".join(map(str, k)))


def _known(vals: pd.Series, target: pd.Series | None, exempt: tuple[str, ...]) -> np.ndarray:
    """Mask of values that are missing, found in ``target`` or exempt."""
    arr = _arrow(vals)
    tarr = None if target is None else _arrow(target)
    if arr is not None and (target is None or (tarr is not None and tarr.type == arr.type)):
        value_set = pa.array(list(exempt), arr.type) if tarr is None else pa.concat_arrays(
            [pc.drop_null(tarr), pa.array(list(exempt), arr.type)])
        return pc.or_(arr.is_null(), pc.is_in(arr, value_set=value_set)).to_numpy(zero_copy_only=False)
    known = pd.Index([] if target is None else target.dropna().unique())
    ok = vals.isna().to_numpy() | vals.isin(known).to_numpy(dtype=bool, na_value=False)
    if exempt:
        ok |= vals.isin(list(exempt)).to_numpy(dtype=bool, na_value=False)
    return ok


def _known_all(cols: list[pd.Series], target: pd.Series | None, exempts: list[tuple[str, ...]]
               ) -> list[np.ndarray]:
    """:func:`_known` for several columns pointing at the same target, with one lookup."""
    arrs = [_arrow(v) for v in cols]
    tarr = None if target is None else _arrow(target)
    typ = arrs[0].type if arrs[0] is not None else None
    if typ is None or any(a is None or a.type != typ for a in arrs) or (
            target is not None and (tarr is None or tarr.type != typ)):
        return [_known(v, target, e) for v, e in zip(cols, exempts)]
    value_set = pa.array([], typ) if tarr is None else pc.drop_null(tarr)
    found = pc.is_in(pa.concat_arrays(arrs), value_set=value_set).to_numpy(zero_copy_only=False)
    out, start = [], 0
    for arr, exempt in zip(arrs, exempts):
        ok = found[start:start + len(arr)] | arr.is_null().to_numpy(zero_copy_only=False)
        if exempt:
            ok |= pc.is_in(arr, value_set=pa.array(list(exempt), typ)).to_numpy(zero_copy_only=False)
        out.append(ok)
        start += len(arr)
    return out


def check_references(tables: Mapping[str, pd.DataFrame], sources: Mapping[str, Source],
                     problems: ProblemCollector, *, targets: Mapping[str, pd.DataFrame] | None = None
                     ) -> None:
    """Every foreign key in ``tables`` points at a row of ``targets`` (default: ``tables``)."""
    targets = tables if targets is None else targets
    checks = []
    for t in TABLES.values():
        df = tables.get(t.name)
        if df is None or len(df) == 0:
            continue
        src = sources.get(t.name, Source(t.name))
        refs = [(c.name, c.references, ()) for c in t.columns if c.references] + list(t.extra_references)
        for col, target, exempt in refs:
            ttab, tcol = target.split(".")
            tdf = targets.get(ttab)
            if col not in df.columns:
                continue
            checks.append((src, col, df[col], None if tdf is None else tdf[tcol], tuple(exempt), ttab, target))
    # Columns that point at the same target share one lookup: building the hash table of a
    # million element ids costs far more than probing it, and links.a and links.b both need it.
    # Problems are still reported in schema order.
    groups: dict[str, list[int]] = {}
    for i, check in enumerate(checks):
        groups.setdefault(check[6], []).append(i)
    oks: list[np.ndarray | None] = [None] * len(checks)
    for members in groups.values():
        found = _known_all([checks[i][2] for i in members], checks[members[0]][3],
                           [checks[i][4] for i in members])
        for i, ok in zip(members, found):
            oks[i] = ok
    for (src, col, vals, _t, _e, ttab, target), ok in zip(checks, oks):
        _report(problems, src, col, vals, ~ok, f"refers to a missing {ttab[:-1] if ttab.endswith('s') else ttab} ({target})")
