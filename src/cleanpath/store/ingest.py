"""Import files into a workspace snapshot: read, validate, merge, store, all or nothing.

What happens to an existing snapshot of the same name is always said explicitly (``mode``):
nothing in the workspace is ever overwritten silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from cleanpath.errors import MAX_PROBLEMS, Problem, ProblemCollector, ValidationError
from cleanpath.io.registry import SOURCES, Imported, importer
from cleanpath.model.network import Network, validate_tables
from cleanpath.model.schema import TABLES
from cleanpath.model.validate import Source
from cleanpath.store.workspace import SnapshotInfo, Workspace, check_snapshot_name

#: What an import does to an existing snapshot of the same name.
MODES = ("new", "replace", "merge")
#: Rows per table a dry run shows.
PREVIEW_ROWS = 5


@dataclass
class ImportReport:
    """What an import did.

    Attributes
    ----------
    snapshot
        The snapshot written.
    fmt, files
        The format and the files read.
    added
        Rows added per table (rows already present and skipped by a merge are not counted).
    totals
        Rows per table in the snapshot afterwards.
    warnings
        Notes that did not stop the import.
    unknown_vendors
        Vendor names not in the catalogue, with element counts (kept verbatim).
    mode
        ``new``, ``replace`` or ``merge`` (see :func:`ingest`).
    skipped
        Per table, incoming rows identical to rows already in the snapshot (merge only).
    diagnosis
        Sentences from the ``diagnose`` hook of :func:`ingest` (for example why elements of the
        snapshot cannot serve; for a dry run, of the snapshot as it would be); also included in
        ``warnings``.
    preview
        Dry run only: the first :data:`PREVIEW_ROWS` incoming rows of each table, typed.
    incoming
        Dry run only: every incoming row that would land, per table, typed (vendor names
        resolved); what the service's preview counts operators and vendors in.
    written
        False for a dry run (nothing was written).
    """

    snapshot: str
    fmt: str
    files: list[str]
    added: dict[str, int]
    totals: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    unknown_vendors: dict[str, int] = field(default_factory=dict)
    mode: str = "merge"
    skipped: dict[str, int] = field(default_factory=dict)
    diagnosis: list[str] = field(default_factory=list)
    preview: dict[str, pd.DataFrame] = field(default_factory=dict)
    written: bool = True
    incoming: dict[str, pd.DataFrame] = field(default_factory=dict)


def describe_snapshot(ws: Workspace, name: str) -> str:
    """``snapshot 'main' exists (1,234 elements, written 2026-12-05 11:50 UTC by topologyzoo: ...)``."""
    info = next((s for s in ws.snapshots() if s.name == name), None)
    if info is None:
        return f"snapshot {name!r} does not exist"
    when = info.updated_at.strftime("%Y-%m-%d %H:%M UTC") if info.updated_at else "at an unknown time"
    src = f" by {info.source[:80]}" if info.source else ""
    return f"snapshot {name!r} exists ({info.counts.get('elements', 0):,} elements, written {when}{src})"


def refuse_existing(ws: Workspace, name: str, *, way_out: str) -> None:
    """Raise :class:`ValidationError` if snapshot ``name`` exists.

    Parameters
    ----------
    ws
        The workspace.
    name
        Snapshot name about to be written.
    way_out
        What the caller can do instead, e.g. ``"use --replace to overwrite it or --snapshot NAME"``.
    """
    if ws.has_snapshot(name):
        raise ValidationError(Problem(f"{describe_snapshot(ws, name)}; {way_out}", column="snapshot",
                                      value=name))


def ingest(ws: Workspace, fmt: str, paths: Iterable[str | Path], *, snapshot: str = "main",
           mode: str | None = None, replace: bool = False,
           on_step: Callable[[str], None] | None = None,
           diagnose: Callable[[Network], list[str]] | None = None,
           dry_run: bool = False,
           source: str | None = None,
           **options: Any) -> ImportReport:
    """Import files of one format into a snapshot.

    Everything is validated together (types, vocabularies, unique keys, references into the
    existing snapshot) before anything is written, and the write is one transaction: on any error
    the workspace is unchanged.

    What happens when the snapshot already exists is chosen by ``mode``:

    ``"new"``
        Refuse (:class:`ValidationError` naming the snapshot, its size and age). The CLI's
        ``import`` uses this unless given ``--replace`` or ``--merge``.
    ``"replace"``
        Start the snapshot afresh from the files; its earlier content is dropped.
    ``"merge"`` (the default)
        Add the files' rows to the snapshot. An incoming row whose key (``element_id``,
        ``site_id``, ...) is already in the snapshot with exactly the same values is the same row:
        it is skipped and counted in ``ImportReport.skipped``. The same key with *different*
        values is an error (nothing is overwritten). Tables without a key (``links``,
        ``demands``) skip rows identical to a row already present. Importing the same files
        twice therefore leaves the snapshot as the first import made it, which is what makes
        a script such as ``cleanpath.ingest(ws, "topologyzoo", ["Dfn.gml"], snapshot="main",
        country="DE")`` safe to run again.

    Parameters
    ----------
    ws
        An open, writable workspace.
    fmt
        One of :data:`cleanpath.io.registry.IMPORTERS`.
    paths
        Files or directories to read.
    snapshot
        Snapshot to write.
    mode
        ``"new"``, ``"replace"`` or ``"merge"``; default ``"merge"`` (``"replace"`` when
        ``replace=True``).
    replace
        Older spelling of ``mode="replace"``.
    on_step
        Progress callback, called with a short description of each step.
    diagnose
        Optional check run on the network as stored (for a merge: the merged network), also by a
        dry run, on the network that would be stored; the sentences it returns are added to the
        report's ``warnings`` and ``diagnosis`` (the faces pass
        :func:`cleanpath.analysis.explain.serving_warnings`, which says how many elements cannot
        serve and why; the store itself knows no question).
    dry_run
        Read and validate everything exactly as an import would, then write nothing: the report
        says what would land (``added``, ``totals`` as they would be, ``preview``: the first
        incoming rows of each table, typed) and ``written`` is False. Mode ``"new"`` does not
        refuse an existing snapshot here; a warning says the real import needs another mode.
    source
        What the snapshot records as its source; default the format and the paths, or for a
        server source (``netbox``) the format and its ``url`` (the service gives the uploads' own
        names rather than where it spooled them).
    **options
        Format-specific options (``vendor``, ``operator_id``, ``country``, ``kind``, and for
        ``mapped`` the ``mapping`` file...).

    Raises
    ------
    ValidationError
        Bad input, an unknown mode, or (mode ``"new"``) an existing snapshot; nothing was written.
    """
    check_snapshot_name(snapshot)
    if mode is None:
        mode = "replace" if replace else "merge"
    elif mode not in MODES:
        raise ValidationError(Problem(f"unknown import mode {mode!r}: use one of {', '.join(MODES)}",
                                      column="mode", value=str(mode)))
    elif replace and mode != "replace":
        raise ValidationError(Problem(f"replace=True contradicts mode={mode!r}", column="mode", value=mode))
    exists_note = None
    if mode == "new":
        if dry_run and ws.has_snapshot(snapshot):
            exists_note = (f"{describe_snapshot(ws, snapshot)}: the real import needs --replace or --merge "
                           "(or another --snapshot)")
        else:
            refuse_existing(ws, snapshot, way_out="pass mode='replace' to overwrite it, mode='merge' to add "
                                                  "to it, or another snapshot name")
    paths = [Path(p) for p in paths]
    step = on_step or (lambda _s: None)
    step(f"reading {fmt}")
    got: Imported = importer(fmt)(paths, **options)
    base = ws.network(snapshot) if (mode == "merge" and ws.has_snapshot(snapshot)) else None
    step("validating")
    warnings = list(got.warnings) + ([exists_note] if exists_note else [])
    skipped: dict[str, int] = {}
    try:
        if base is None:
            tables = validate_tables(got.tables, sources=got.sources, base=None, warnings=warnings)
        else:
            tables, skipped = _merge(got, base, warnings)
    except ValidationError as e:
        if got.locate is None:
            raise
        # in the source's own terms (a mapped import names the source's column)
        raise ValidationError([got.locate(p) for p in e.problems], truncated=e.truncated) from None
    net = Network(tables, name=snapshot, validate=False)
    # on the network that lands (merged, for a merge): a dry run foresees what the import reports
    diagnosis = list(diagnose(net)) if diagnose is not None else []
    added = {t: int(len(got.tables.get(t, ()))) - skipped.get(t, 0) for t in TABLES if t in got.tables}
    if dry_run:
        start = {t: len(getattr(base, t)) if base is not None else 0 for t in TABLES}
        incoming = {t: tables[t].iloc[start[t]:].reset_index(drop=True) for t in TABLES if t in got.tables}
        preview = {t: df.iloc[:PREVIEW_ROWS] for t, df in incoming.items()}
        return ImportReport(snapshot, fmt, [str(p) for p in paths], added,
                            {t: int(len(df)) for t, df in tables.items()}, warnings + diagnosis,
                            {str(k): int(v) for k, v in net.unknown_vendors().items()}, mode, skipped, diagnosis,
                            preview=preview, written=False, incoming=incoming)
    step("writing")
    info: SnapshotInfo = ws.write_network(
        snapshot, net, source=(source or f"{fmt}: {_where(fmt, paths, options)}")[:1000],
        on_table=lambda t: step(f"stored {t}"))
    unknown = net.unknown_vendors()
    if any(skipped.values()):
        what = ", ".join(f"{v:,} {t}" for t, v in skipped.items() if v)
        warnings.append(f"{what} row(s) identical to rows already in the snapshot {snapshot!r} were skipped")
    return ImportReport(snapshot, fmt, [str(p) for p in paths], added, info.counts, warnings + diagnosis,
                        {str(k): int(v) for k, v in unknown.items()}, mode, skipped, diagnosis)


def _where(fmt: str, paths: list[Path], options: dict) -> str:
    """Where an import read from, for the snapshot's default source: the files, or for a server
    source (:data:`cleanpath.io.registry.SOURCES`) its URL, as the CLI records it."""
    if fmt in SOURCES:
        return str(options.get("url") or "")
    return ", ".join(str(p) for p in paths)


# --- merge ------------------------------------------------------------------------------------------

def _merge(got: Imported, base: Network, warnings: list[str]) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Validate ``got`` against ``base`` with the merge rules of :func:`ingest`.

    Rows of ``base`` whose key an incoming row repeats are set aside first, so the incoming rows
    validate (types, references) as if they were new; each is then compared with the row it
    repeats, column by column on the typed values (vendor names already resolved): identical
    rows are dropped from the incoming side and the base row stays where it was.
    """
    sources = dict(got.sources or {})
    stub: dict[str, pd.DataFrame] = {}
    clash: dict[str, np.ndarray] = {}  # per keyed table: base rows set aside
    for t, spec in TABLES.items():
        old = getattr(base, t)
        if spec.key and t in got.tables and len(old) and len(got.tables[t]):
            keys = _key_frame(got.tables[t], spec.key, strip=True)
            hit = _key_index(old, spec.key).get_indexer(keys) if keys is not None else np.empty(0, np.int64)
            rows = np.unique(hit[hit >= 0])
            if rows.size:
                clash[t] = rows
                keep = np.ones(len(old), dtype=bool)
                keep[rows] = False
                old = old.iloc[np.flatnonzero(keep)].reset_index(drop=True)
        stub[t] = old
    stub_net = Network(stub, name=base.name, validate=False)
    merged = validate_tables(got.tables, sources=sources, base=stub_net, warnings=warnings)

    problems = ProblemCollector()
    out: dict[str, pd.DataFrame] = {}
    skipped: dict[str, int] = {}
    for t, spec in TABLES.items():
        old = getattr(base, t)
        if t not in got.tables:
            out[t] = old
            continue
        incoming = merged[t].iloc[len(stub[t]):].reset_index(drop=True)
        if len(incoming) == 0 or len(old) == 0:
            out[t] = pd.concat([old, incoming], ignore_index=True) if len(old) else merged[t]
            continue
        if spec.key:
            pos = _key_index(old, spec.key).get_indexer(_key_frame(incoming, spec.key))
            hit = np.flatnonzero(pos >= 0)
            same = _rows_equal(incoming.iloc[hit], old.iloc[pos[hit]], spec.column_names)
            bad_new, bad_old = hit[~same], pos[hit][~same]
            room = max(MAX_PROBLEMS - len(problems.problems), 0)
            for i, j in zip(bad_new[:room], bad_old[:room]):  # at most 100 rows: a loop is fine
                _conflict(problems, spec, incoming.iloc[i], old.iloc[j], sources.get(t), int(i), base.name)
            problems.truncated |= bad_new.size > room
            drop = hit[same]
        else:
            drop = _rows_present(incoming, old, spec.column_names)
        keep = np.ones(len(incoming), dtype=bool)
        keep[drop] = False
        skipped[t] = int(drop.size)
        out[t] = pd.concat([old, incoming.iloc[np.flatnonzero(keep)]], ignore_index=True)
    problems.raise_if_any()
    return out, skipped


def _key_frame(df: pd.DataFrame, key: tuple[str, ...], *, strip: bool = False):
    """The key column(s) of ``df`` as an object Index (stripped as the validator strips text)."""
    if any(k not in df.columns for k in key):
        return None
    cols = []
    for k in key:
        s = df[k].astype(object).where(df[k].notna(), None)
        if strip:
            s = s.map(lambda v: v.strip() if isinstance(v, str) else v)
        cols.append(s.to_numpy(dtype=object))
    return pd.Index(cols[0]) if len(cols) == 1 else pd.MultiIndex.from_arrays(cols)


def _key_index(df: pd.DataFrame, key: tuple[str, ...]) -> pd.Index:
    return _key_frame(df, key)


def _col_equal(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality that counts two missing values as equal."""
    na_a = a.isna().to_numpy(dtype=bool)
    na_b = b.isna().to_numpy(dtype=bool)
    eq = (a.reset_index(drop=True) == b.reset_index(drop=True)).to_numpy(dtype=bool, na_value=False)
    return (eq & ~na_a & ~na_b) | (na_a & na_b)


def _rows_equal(a: pd.DataFrame, b: pd.DataFrame, columns: list[str]) -> np.ndarray:
    same = np.ones(len(a), dtype=bool)
    for c in columns:
        same &= _col_equal(a[c], b[c])
    return same


def _rows_present(new: pd.DataFrame, old: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Positions of ``new`` rows identical to some ``old`` row (tables without a key).

    Rows are matched by a 64-bit hash of all their values (missing values hash alike), and every
    match is confirmed column by column, so a hash collision cannot drop a row.
    """
    h_old = pd.util.hash_pandas_object(old[columns].astype(object), index=False).to_numpy()
    h_new = pd.util.hash_pandas_object(new[columns].astype(object), index=False).to_numpy()
    first = pd.Index(h_old).get_indexer_for(h_new) if pd.Index(h_old).is_unique else None
    if first is None:  # duplicate rows in old: any one of them is a witness
        order = np.argsort(h_old, kind="stable")
        at = np.searchsorted(h_old[order], h_new)
        at = np.minimum(at, len(order) - 1)
        first = np.where(h_old[order][at] == h_new, order[at], -1)
    cand = np.flatnonzero(first >= 0)
    ok = _rows_equal(new.iloc[cand], old.iloc[first[cand]], columns)
    return cand[ok]


def _conflict(problems: ProblemCollector, spec, new: pd.Series, old: pd.Series, src: Source | None,
              row: int, base_name: str) -> None:
    diff = [c for c in spec.column_names
            if not ((pd.isna(new[c]) and pd.isna(old[c])) or (not pd.isna(new[c]) and not pd.isna(old[c])
                                                              and new[c] == old[c]))]
    what = "; ".join(f"{c}: {old[c]!r} there, {new[c]!r} here" for c in diff[:3])
    key = ", ".join(str(new[k]) for k in spec.key)
    line = file = None
    if src is not None:
        line = int(np.asarray(src.line_of(np.array([row])))[0])
        file = src.files(np.array([row]))[0]
    problems.add(f"{spec.key[0]} {key!r} is already in snapshot {base_name!r} with other values ({what}); "
                 "a merge never overwrites: import with --replace (mode='replace') or into another snapshot",
                 file=file, line=line, column=spec.key[0], value=key)
