"""Turn raw tables into typed, checked model tables, driven by :mod:`cleanpath.model.schema`.

All checks are vectorised over columns; a 1 M-row table is checked in well under a second. Every
problem names the file, the line (or Parquet row), the column, the value and the reason.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from cleanpath.errors import ProblemCollector
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
    """

    file: str
    line_of: Callable[[np.ndarray], np.ndarray] = field(default=lambda rows: np.asarray(rows) + 1)
    header_line: int | None = None

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


def _blank_to_null(s: pd.Series) -> pd.Series:
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        s = s.astype(pd.ArrowDtype(pa.string())).str.strip()
        s = s.mask(s == "")
    return s


def _report(problems: ProblemCollector, src: Source, col: str, s: pd.Series, bad: np.ndarray,
            reason: str | Callable[[object], str]) -> None:
    rows = np.flatnonzero(bad)
    if rows.size == 0 or problems.full:
        return
    rows = rows[: max(0, 100 - len(problems.problems))]
    lines = src.line_of(rows)
    vals = s.iloc[rows].tolist()
    for line, v in zip(lines, vals):
        problems.add(reason(v) if callable(reason) else reason, file=src.file, line=int(line),
                     column=col, value=None if v is None or v is pd.NA else v)


def _parse(col: Column, s: pd.Series, src: Source, problems: ProblemCollector) -> pd.Series:
    """Cast one column to its dtype, reporting values that do not parse."""
    present = s.notna().to_numpy()
    if col.dtype == "str":
        out = s.astype(pd.ArrowDtype(pa.string())) if s.dtype != pd.ArrowDtype(pa.string()) else s
        return out
    if col.dtype in ("int", "float"):
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            num = pd.to_numeric(s, errors="coerce").astype("float64")
        else:
            num = pd.to_numeric(s.astype(object), errors="coerce").astype("float64")
        vals = num.to_numpy(dtype="float64", na_value=np.nan)
        bad = present & ~np.isfinite(vals)
        if col.dtype == "int":
            frac = np.isfinite(vals) & (vals != np.round(vals))
            _report(problems, src, col.name, s, bad | frac, "not a whole number")
            bad |= frac
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
            arr = pa.array(np.where(mask, 0, vals).astype("int64"), mask=mask, type=pa.int64())
        else:
            arr = pa.array(vals, mask=mask, type=pa.float64())
        return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=s.index)
    if col.dtype == "bool":
        if pd.api.types.is_bool_dtype(s.dtype):
            return s.astype(pd.ArrowDtype(pa.bool_()))
        low = s.astype(pd.ArrowDtype(pa.string())).str.lower()
        t = low.isin(_TRUE).to_numpy(dtype=bool, na_value=False)
        f = low.isin(_FALSE).to_numpy(dtype=bool, na_value=False)
        _report(problems, src, col.name, s, present & ~t & ~f, "not a boolean (use true or false)")
        arr = pa.array(t, mask=~(t | f), type=pa.bool_())
        return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=s.index)
    if col.dtype == "date":
        if isinstance(s.dtype, pd.ArrowDtype) and pa.types.is_date(s.dtype.pyarrow_dtype):
            return s
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            return s.dt.date.astype(pd.ArrowDtype(pa.date32()))
        txt = s.astype(pd.ArrowDtype(pa.string()))
        ok_shape = txt.str.fullmatch(r"\d{4}-\d{2}-\d{2}").to_numpy(dtype=bool, na_value=False)
        parsed = pd.to_datetime(txt.where(ok_shape).astype(object), format="%Y-%m-%d", errors="coerce")
        bad = present & parsed.isna().to_numpy()
        _report(problems, src, col.name, s, bad, "not a date (use YYYY-MM-DD)")
        arr = pa.array(parsed.dt.date.to_numpy(dtype=object, na_value=None), type=pa.date32())
        return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=s.index)
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
        null = typed.isna().to_numpy()
        if col.required:
            _report(problems, source, col.name, s, null, f"{col.name} is required")
        if col.allowed is not None:
            bad = ~null & ~typed.isin(col.allowed).to_numpy(dtype=bool, na_value=False)
            _report(problems, source, col.name, s, bad, lambda v, c=col: _unknown_value(c, v))
        if col.pattern is not None:
            bad = ~null & ~typed.str.fullmatch(col.pattern).to_numpy(dtype=bool, na_value=False)
            _report(problems, source, col.name, s, bad, f"does not match {col.pattern}")
        if col.default is not None and null.any():
            typed = typed.fillna(col.default)
        cols[col.name] = pa.array(typed.array) if isinstance(typed.dtype, pd.ArrowDtype) else typed
    for col in table.columns:
        if col.name not in cols and col.default is not None:
            cols[col.name] = pa.array([col.default] * n, type=col.arrow_type)
    out = arrow_frame(table, cols)
    if all(k in present_cols for k in table.key):
        check_keys(table, out, source, problems)
    return out


def check_keys(table: Table, df: pd.DataFrame, source: Source, problems: ProblemCollector,
               *, base_rows: int = 0, base_name: str | None = None) -> None:
    """Report repeated keys. Rows before ``base_rows`` came from an existing snapshot."""
    if not table.key or len(df) == 0:
        return
    keys = df[list(table.key)]
    dup = keys.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    first = keys[keys.duplicated(keep=False).to_numpy() & ~dup]
    first_row = dict(zip(map(tuple, first.astype(object).to_numpy()), first.index.to_numpy()))
    rows = np.flatnonzero(dup)[:100]
    lines = source.line_of(rows - base_rows)
    for r, line in zip(rows, lines):
        k = tuple(keys.iloc[r].astype(object))
        fr = first_row.get(k, 0)
        where = (f"already in snapshot {base_name!r}" if fr < base_rows
                 else f"first seen at line {int(source.line_of(np.array([fr - base_rows]))[0])}")
        problems.add(f"duplicate {'/'.join(table.key)} ({where})", file=source.file,
                     line=int(line), column=table.key[0], value="/".join(map(str, k)))


def check_references(tables: Mapping[str, pd.DataFrame], sources: Mapping[str, Source],
                     problems: ProblemCollector, *, targets: Mapping[str, pd.DataFrame] | None = None
                     ) -> None:
    """Every foreign key in ``tables`` points at a row of ``targets`` (default: ``tables``)."""
    targets = tables if targets is None else targets
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
            vals = df[col]
            known = pd.Index([] if tdf is None else tdf[tcol].dropna().unique())
            ok = vals.isna().to_numpy() | vals.isin(known).to_numpy(dtype=bool, na_value=False)
            if exempt:
                ok |= vals.isin(list(exempt)).to_numpy(dtype=bool, na_value=False)
            _report(problems, src, col, vals, ~ok, f"refers to a missing {ttab[:-1] if ttab.endswith('s') else ttab} ({target})")

