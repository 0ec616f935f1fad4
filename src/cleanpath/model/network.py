"""The network: typed tables plus the indexes analyses build on them once.

A :class:`Network` is what every question takes. It holds one DataFrame per model table (Arrow
dtypes, exactly the schema's columns) and a cache for indexes (sparse graph, spatial grid) that are
built on first use and reused by every later question on the same snapshot.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.model.schema import TABLES
from cleanpath.model.validate import (Source, check_keys, check_references, coerce_table,
                                      empty_frame)
from cleanpath.model.vendors import VendorCatalogue, default_catalogue


class Network:
    """A telecom network as typed tables.

    Parameters
    ----------
    tables
        Model tables by name; missing tables are empty.
    name
        Snapshot name, for messages and results.
    validate
        Check types, vocabularies, keys and references (raises :class:`ValidationError`).
        Turn off only for tables that came out of a workspace, which were checked on the way in.

    Attributes
    ----------
    operators, sites, elements, links, sensitive_sites, demands, vendors
        The model tables.
    cache
        Indexes built on this network by analyses (graph, spatial grid), keyed by name.
    """

    operators: pd.DataFrame
    sites: pd.DataFrame
    elements: pd.DataFrame
    links: pd.DataFrame
    sensitive_sites: pd.DataFrame
    demands: pd.DataFrame
    vendors: pd.DataFrame

    def __init__(self, tables: Mapping[str, pd.DataFrame] | None = None, *, name: str = "main",
                 validate: bool = True, sources: Mapping[str, Source] | None = None):
        tables = dict(tables or {})
        self.name = name
        self.cache: dict[str, Any] = {}
        if validate:
            tables = validate_tables(tables, sources=sources)
        for tname, spec in TABLES.items():
            setattr(self, tname, tables.get(tname, empty_frame(spec)))

    # -- tables ------------------------------------------------------------------------------------
    def tables(self) -> dict[str, pd.DataFrame]:
        """All model tables by name, in schema order."""
        return {t: getattr(self, t) for t in TABLES}

    def __repr__(self) -> str:
        counts = ", ".join(f"{t}={len(getattr(self, t)):,}" for t in TABLES)
        return f"<Network {self.name!r}: {counts}>"

    @property
    def catalogue(self) -> VendorCatalogue:
        """The shipped vendor catalogue extended by this network's ``vendors`` table."""
        if "catalogue" not in self.cache:
            self.cache["catalogue"] = default_catalogue().extended(self.vendors)
        return self.cache["catalogue"]

    def unknown_vendors(self) -> pd.Series:
        """Element counts per vendor name the catalogue does not know."""
        ids = self.catalogue.ids
        v = self.elements["vendor"]
        mask = ~v.isin(ids).to_numpy(dtype=bool, na_value=False)
        return v[mask].value_counts()

    def element_domains(self) -> pd.Series:
        """The domain (ran, transport, core, mgmt, security, gateway) of each element."""
        return self.elements["role"].str.replace(r"\..*$", "", regex=True)

    def graph(self):
        """The element graph (built once, then cached); see :class:`cleanpath.model.graph.ElementGraph`."""
        from cleanpath.model.graph import ElementGraph

        if "graph" not in self.cache:
            self.cache["graph"] = ElementGraph.build(self)
        return self.cache["graph"]

    def site_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Latitude and longitude arrays of the sites (NaN where unknown)."""
        return (self.sites["lat"].to_numpy(dtype="float64", na_value=np.nan),
                self.sites["lon"].to_numpy(dtype="float64", na_value=np.nan))


def _resolve_vendors(elements: pd.DataFrame, vendors: pd.DataFrame) -> pd.DataFrame:
    """Replace every vendor spelling by its catalogue id (unknown spellings kept, stripped).

    Each distinct spelling is resolved once (a million rows hold a few dozen spellings), then the
    answers are spread back over the rows by dictionary code.
    """
    cat = default_catalogue().extended(vendors)
    col = elements["vendor"]
    if not isinstance(col.dtype, pd.ArrowDtype):
        canon, _known = cat.resolve_series(col)
        out = elements.copy()
        out["vendor"] = canon.astype(col.dtype)
        return out
    arr = pa.array(col.array)
    encoded = pc.dictionary_encode(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
    spellings = encoded.dictionary.to_pylist()
    resolved = [cat.resolve(v) for v in spellings]
    # The same conversion as resolve_series + astype, applied to the distinct spellings only.
    canon = pa.array(pd.Series([r if r is not None else str(v).strip() for r, v in zip(resolved, spellings)],
                               dtype=object).astype(col.dtype).array)
    out = elements.copy()
    out["vendor"] = pd.arrays.ArrowExtensionArray(canon.take(encoded.indices))
    return out


#: Tables whose rows several imports legitimately share (a second BOM or backbone of the same
#: operator): an incoming row identical to one already in the snapshot is skipped, not a duplicate.
SHARED_CONTEXT_TABLES = ("operators", "vendors")


def _drop_rows_already_present(spec, old: pd.DataFrame, add: pd.DataFrame, sources: dict,
                               warnings: list[str] | None) -> pd.DataFrame:
    key = spec.key[0]
    pos = pd.Index(old[key].to_numpy(dtype=object)).get_indexer(add[key].to_numpy(dtype=object))
    hit = pos >= 0
    if not hit.any():
        return add
    same = hit.copy()
    for c in spec.column_names:
        a = add[c].to_numpy(dtype=object)[hit]
        b = old[c].to_numpy(dtype=object)[pos[hit]]
        # Few rows (operators, vendors): a plain comparison that treats two missing values as equal.
        eq = np.array([(pd.isna(x) and pd.isna(y)) or (not pd.isna(x) and not pd.isna(y) and x == y)
                       for x, y in zip(a, b)], dtype=bool)
        same[np.flatnonzero(hit)] &= eq
    if not same.any():
        return add
    keep = np.flatnonzero(~same)
    src = sources[spec.name]
    # Problems found later must still point at the original lines of the rows that remain.
    sources[spec.name] = Source(src.file, lambda rows, _k=keep, _s=src: _s.line_of(_k[np.asarray(rows)]),
                                header_line=src.header_line,
                                file_of=lambda rows, _k=keep, _s=src: _s.files(_k[np.asarray(rows)]))
    if warnings is not None:
        warnings.append(f"{src.file}: {int(same.sum())} {spec.name} row(s) identical to rows already in the "
                        "snapshot were skipped")
    return add.iloc[keep].reset_index(drop=True)


def validate_tables(raw: Mapping[str, pd.DataFrame], *, sources: Mapping[str, Source] | None = None,
                    base: Network | None = None, warnings: list[str] | None = None
                    ) -> dict[str, pd.DataFrame]:
    """Type and check raw tables, optionally appended to an existing network.

    Parameters
    ----------
    raw
        Tables by name, raw (strings) or typed.
    sources
        Where each table came from, so problems point at file and line.
    base
        Existing network the rows are added to; keys must stay unique across both, and new rows
        may refer to rows of ``base``.
    warnings
        Receives notes that do not stop the import.

    Returns
    -------
    dict
        Every model table, typed; ``base``'s rows first.

    Raises
    ------
    ValidationError
        With every problem found, up to 100.
    """
    unknown = set(raw) - set(TABLES)
    if unknown:
        raise ValidationError(f"unknown table(s): {', '.join(sorted(unknown))}; "
                              f"expected {', '.join(TABLES)}")
    sources = dict(sources or {})
    problems = ProblemCollector()
    new: dict[str, pd.DataFrame] = {}
    for tname, spec in TABLES.items():
        if tname in raw:
            src = sources.setdefault(tname, Source(tname))
            new[tname] = coerce_table(spec, raw[tname], src, problems, warnings=warnings)
    merged: dict[str, pd.DataFrame] = {}
    for tname, spec in TABLES.items():
        old = getattr(base, tname) if base is not None else None
        add = new.get(tname)
        if add is None:
            merged[tname] = old if old is not None else empty_frame(spec)
        elif old is None or len(old) == 0:
            merged[tname] = add
        else:
            if tname in SHARED_CONTEXT_TABLES:
                add = _drop_rows_already_present(spec, old, add, sources, warnings)
                new[tname] = add
            merged[tname] = pd.concat([old, add], ignore_index=True)
            check_keys(spec, merged[tname], sources[tname], problems, base_rows=len(old),
                       base_name=base.name)
    if "elements" in new and len(new["elements"]):
        resolved = _resolve_vendors(new["elements"], merged["vendors"])
        new["elements"] = resolved
        if base is not None and len(base.elements):
            merged["elements"] = pd.concat([base.elements, resolved], ignore_index=True)
        else:
            merged["elements"] = resolved
    check_references(new, sources, problems, targets=merged)
    if "sensitive_sites" in new and len(new["sensitive_sites"]):
        _check_sensitive_geometry(new["sensitive_sites"], sources["sensitive_sites"], problems)
    problems.raise_if_any()
    return merged


def _check_sensitive_geometry(ss: pd.DataFrame, src: Source, problems: ProblemCollector) -> None:
    """Sensitive-site ``geometry`` is GeoJSON checked by the package's one validator
    (:func:`cleanpath.geo.parse_areas`), whatever format it came in (CSV, Parquet, zip, GeoJSON)."""
    from cleanpath.geo.geometry import parse_areas

    geom = ss["geometry"].astype(object)
    texts = geom.where(geom.notna(), None).tolist()
    if not any(t is not None for t in texts):
        return
    rows = np.arange(len(texts))
    try:
        parse_areas(texts, file=src.file, lines=src.line_of(rows), column="geometry")
    except ValidationError as e:
        found = list(e.problems)
        if src.file_of is not None:  # rows from several files: name each row's own file
            files = dict(zip(src.line_of(rows).tolist(), src.files(rows)))
            found = [Problem(p.reason, files.get(p.line, p.file), p.line, p.column, p.value) for p in found]
        problems.extend(found)
