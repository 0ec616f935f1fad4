"""The service's state: the open workspace, the locks, the caches, tokens and the audit log.

Concurrency. The service holds the workspace open for writing (DuckDB allows one writing process).
One re-entrant lock guards the workspace's main connection and the networks loaded from it: a
question that is not cached runs with the lock held, so two questions never touch one network's
caches at once. Cached reads take no lock at all: they are a dictionary lookup returning bytes
serialised once. Tokens and the audit log use their own DuckDB cursors with their own locks.

Caching. A question's result is keyed by the question, its normalised parameters (defaults
resolved, so ``as_of`` of today is part of the key) and the version (``updated_at``) of every snapshot
it reads; the key's hash is the ``result_id``. Writing or deleting a snapshot drops what was
computed from it. Both caches are LRU-bounded by entry count.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from cleanpath.errors import Problem, SnapshotNotFound, ValidationError
from cleanpath.model.network import Network
from cleanpath.result import Result, jsonable
from cleanpath.service.auditlog import AuditLog
from cleanpath.service.questions import QUESTIONS
from cleanpath.service.tokens import Principal, TokenStore
from cleanpath.store.workspace import Workspace, open_workspace

log = logging.getLogger("cleanpath.service")

#: Responses at least this large are sent gzip-compressed to clients that accept it.
GZIP_MIN_BYTES = 32 * 1024


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes (the payload is already JSON-safe: no NaN, no dates)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


@dataclass
class Payload:
    """JSON bytes served as they are, with a gzip copy made on first demand."""

    raw: bytes
    _gz: bytes | None = None

    def gz(self) -> bytes:
        if self._gz is None:
            self._gz = gzip.compress(self.raw, compresslevel=5)
        return self._gz


@dataclass(frozen=True)
class ServiceConfig:
    """Settings of one service instance.

    Attributes
    ----------
    workspace
        The workspace file the service holds open.
    max_upload_bytes
        Largest import upload (the whole multipart body); larger ones get 413.
    max_body_bytes
        Largest body of any other request (JSON parameters).
    cache_entries
        Results kept in memory (least recently used dropped first); the same again for other reads.
    audit_interval
        Seconds between audit-log writes.
    warm
        On start, prepare the policy-pack list and every snapshot's map in the background.
    """

    workspace: Path
    max_upload_bytes: int = 200 * 2**20
    max_body_bytes: int = 32 * 2**20
    cache_entries: int = 256
    audit_interval: float = 1.0
    warm: bool = True


@dataclass
class Entry:
    """A computed question result and what is known about its run."""

    result_id: str
    question: str
    snapshots: tuple[str, ...]
    versions: tuple[str, ...]
    params: dict[str, Any]
    result: Result
    ran_by: str | None
    ran_at: datetime
    seconds: float
    _payloads: dict[str, Payload] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def meta(self) -> dict[str, Any]:
        """What ``GET /api/results`` lists."""
        return {"result_id": self.result_id, "question": self.question, "snapshot": self.result.snapshot,
                "snapshots": list(self.snapshots), "params": self.params, "ran_by": self.ran_by,
                "ran_at": self.ran_at.isoformat(timespec="seconds") + "Z", "seconds": round(self.seconds, 3),
                "summary": jsonable(self.result.summary),
                "tables": {k: int(len(v)) for k, v in self.result.tables.items()}}

    def payload(self, tables: tuple[str, ...] | None) -> Payload:
        """The result's JSON contract with all tables (None) or only ``tables``, serialised once."""
        key = "*" if tables is None else ",".join(tables)
        hit = self._payloads.get(key)
        if hit is not None:
            return hit
        with self._lock:
            hit = self._payloads.get(key)
            if hit is None:
                r = self.result
                chosen = r.tables if tables is None else {t: r.tables[t] for t in tables}
                hit = Payload(dumps(Result(r.question, r.snapshot, r.params, r.summary, chosen).to_dict()))
                self._payloads[key] = hit
        return hit


class LRU:
    """A thread-safe least-recently-used mapping bounded by entry count."""

    def __init__(self, size: int):
        self.size = max(1, int(size))
        self._d: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
            return v

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)

    def drop(self, keep: Callable[[Any, Any], bool]) -> int:
        """Remove the entries ``keep(key, value)`` rejects; returns how many."""
        with self._lock:
            gone = [k for k, v in self._d.items() if not keep(k, v)]
            for k in gone:
                del self._d[k]
            return len(gone)

    def values(self) -> list[Any]:
        with self._lock:
            return list(self._d.values())


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Service:
    """One running service: workspace, caches, tokens, audit log.

    Parameters
    ----------
    config
        The settings; the workspace is opened (and created if missing) for writing.
    """

    def __init__(self, config: ServiceConfig):
        self.config = config
        self.ws: Workspace = open_workspace(config.workspace)
        self.lock = threading.RLock()
        self.tokens = TokenStore(self.ws.con.cursor())
        self.audit = AuditLog(self.ws.con.cursor())
        self.results = LRU(config.cache_entries)
        self.reads = LRU(config.cache_entries)
        self.started = _now()
        self._versions: dict[str, str] = {}
        self._snapshots: list = []
        self._key_locks: dict[tuple, threading.Lock] = {}
        self._key_locks_lock = threading.Lock()
        self._closing = threading.Event()
        self._closed = False
        self._warmer: threading.Thread | None = None
        self.refresh_versions()

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the background work: the audit-log writer and, once, preparing what the
        dashboard's first visit asks for (the policy packs take a second or two to parse, a large
        snapshot's map more). The app's lifespan calls this; :meth:`stop` undoes it."""
        self._closing.clear()
        self.audit.start(self.config.audit_interval)
        if self.config.warm and self._warmer is None:
            self._warmer = threading.Thread(target=self._warm, name="cleanpath-warm", daemon=True)
            self._warmer.start()

    def _warm(self) -> None:
        from cleanpath.service.questions import policy_list

        try:
            self.read(("policies",), policy_list, workspace=False)
            for name in list(self._versions):
                if self._closing.is_set():
                    return
                self.map_read(name, None)
        except Exception:  # a broken snapshot must not stop the service; its request will say why
            log.exception("preparing the dashboard's data failed")

    def stop(self) -> None:
        """Stop the background work and write the audit entries still queued (restartable)."""
        self._closing.set()
        if self._warmer is not None:
            self._warmer.join(timeout=60)
        self.audit.stop()

    def close(self) -> None:
        """Stop, and release the workspace (idempotent)."""
        if self._closed:
            return
        self.stop()
        with self.lock:
            self.ws.close()
        self._closed = True

    # -- snapshots --------------------------------------------------------------------------------
    def refresh_versions(self) -> None:
        """Re-read the snapshot registry (after a write), so reads of it need no lock."""
        with self.lock:
            snaps = self.ws.snapshots()
        self._snapshots = snaps
        self._versions = {s.name: s.updated_at.isoformat() for s in snaps}

    def snapshot_list(self) -> list:
        """The snapshots as last read (every write goes through this service, which re-reads)."""
        return list(self._snapshots)

    def version(self, name: str) -> str:
        """The snapshot's version (its last write time); SnapshotNotFound if it does not exist."""
        v = self._versions.get(name)
        if v is None:
            have = sorted(self._versions)
            raise SnapshotNotFound(f"no snapshot {name!r} in the workspace"
                                   + (f"; it has {', '.join(have)}" if have else "; it is empty: import one first"))
        return v

    def network(self, name: str) -> Network:
        self.version(name)
        with self.lock:
            return self.ws.network(name)

    def forget(self, snapshot: str) -> None:
        """Drop cached results and reads computed from ``snapshot`` (after it changed)."""
        self.refresh_versions()
        self.results.drop(lambda _k, e: snapshot not in e.snapshots)
        self.reads.drop(lambda k, _v: snapshot not in k[1:2])

    # -- questions --------------------------------------------------------------------------------
    def result_key(self, question: str, params: Any) -> tuple[str, tuple[str, ...], tuple[str, ...], dict]:
        q = QUESTIONS[question]
        snaps = q.snapshots(params)
        versions = tuple(self.version(s) for s in snaps)
        norm = q.normalise(params)
        text = json.dumps([question, snaps, versions, norm], sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20], snaps, versions, norm

    def cached(self, question: str, params: Any) -> Entry | None:
        """The cached result of this request, if any (no lock, no computation)."""
        rid = self.result_key(question, params)[0]
        return self.results.get(rid)

    def ask(self, question: str, params: Any, principal: Principal | None) -> tuple[Entry, bool]:
        """The result of a question, from the cache or computed now; and whether it was cached."""
        rid, snaps, versions, norm = self.result_key(question, params)
        hit = self.results.get(rid)
        if hit is not None:
            return hit, True
        with self.lock:
            hit = self.results.get(rid)  # someone may have computed it while we waited
            if hit is not None:
                return hit, True
            nets = {s: self.ws.network(s) for s in snaps}
            t0 = time.perf_counter()
            result = QUESTIONS[question].run(nets, params)
            seconds = time.perf_counter() - t0
        entry = Entry(rid, question, snaps, versions, norm, result,
                      principal.name or principal.token_id if principal else None, _now(), seconds)
        self.results.put(rid, entry)
        log.info("%s on %s took %.2f s (result %s)", question, ",".join(snaps) or "-", seconds, rid)
        return entry, False

    def result(self, result_id: str) -> Entry | None:
        return self.results.get(result_id)

    def list_results(self, *, snapshot: str | None = None, question: str | None = None) -> list[Entry]:
        """Results in memory, newest first."""
        out = [e for e in self.results.values()
               if (snapshot is None or snapshot in e.snapshots) and (question is None or e.question == question)]
        return sorted(out, key=lambda e: e.ran_at, reverse=True)

    # -- other cached reads ---------------------------------------------------------------------------
    def read(self, key: tuple, compute: Callable[[], Any], *, workspace: bool = True) -> Payload:
        """A cached JSON read: ``key[0]`` names it, ``key[1]`` is the snapshot it depends on (or None).

        ``workspace=False`` for reads that do not touch the workspace (policy packs): they then
        wait only for the same read in another thread, not for a running question.
        """
        hit = self.reads.get(key)
        if hit is not None:
            return hit
        with self._key_locks_lock:
            lock = self.lock if workspace else self._key_locks.setdefault(key, threading.Lock())
        with lock:
            hit = self.reads.get(key)
            if hit is None:
                hit = Payload(dumps(jsonable(compute())))
                self.reads.put(key, hit)
        return hit


    def map_key(self, name: str, trust: str | None) -> tuple:
        return ("map", name, self.version(name), trust or "")

    def map_read(self, name: str, trust: str | None) -> Payload:
        """The dashboard's map data of a snapshot (see :mod:`cleanpath.service.mapdata`)."""
        from cleanpath.analysis.trust import resolve_trust
        from cleanpath.service.mapdata import map_payload
        from cleanpath.service.questions import check_trust

        def compute() -> dict[str, Any]:
            net = self.ws.network(name)
            return map_payload(net, untrusted=resolve_trust(net, check_trust(trust)), snapshot=name)

        return self.read(self.map_key(name, trust), compute)

    def info_key(self, name: str) -> tuple:
        return ("info", name, self.version(name))

    def info_read(self, name: str) -> Payload:
        """``cleanpath info`` of a snapshot."""
        from cleanpath.analysis.info import run_info

        return self.read(self.info_key(name), lambda: run_info(self.ws.network(name)).to_dict())


# --- result tables, a page at a time ----------------------------------------------------------------

def page_table(df: pd.DataFrame, *, offset: int, limit: int, eq: list[str], search: str | None,
               sort: str | None, desc: bool, columns: list[str] | None, table: str) -> dict[str, Any]:
    """Filter, sort and slice a result table.

    Parameters
    ----------
    eq
        ``column:value`` filters; several values for one column are alternatives, different columns
        must all match. Values compare as text.
    search
        Case-insensitive text that some text column of the row must contain.
    columns
        Columns to return (default all).
    """
    problems: list[Problem] = []
    wanted: dict[str, list[str]] = {}
    for f in eq:
        col, sep, value = f.partition(":")
        if not sep or col not in df.columns:
            problems.append(Problem(f"expected column:value with a column of {table} ({', '.join(df.columns)})",
                                    file="request", column="eq", value=f))
        else:
            wanted.setdefault(col, []).append(value)
    for name, cols in (("sort", [sort] if sort else []), ("columns", columns or [])):
        for c in cols:
            if c not in df.columns:
                problems.append(Problem(f"no column {c!r} in {table} ({', '.join(df.columns)})", file="request",
                                        column=name, value=c))
    if problems:
        raise ValidationError(problems)
    mask = np.ones(len(df), dtype=bool)
    for col, values in wanted.items():
        mask &= df[col].astype(str).isin(values).to_numpy(dtype=bool)
    if search:
        # every column that is not a number: object, Arrow strings, dates
        text_cols = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c].dtype)
                     or pd.api.types.is_bool_dtype(df[c].dtype)]
        hit = np.zeros(len(df), dtype=bool)
        for c in text_cols:
            hit |= df[c].astype(str).str.contains(search, case=False, regex=False, na=False).to_numpy(dtype=bool)
        mask &= hit
    view = df.loc[mask]
    if sort:
        view = view.sort_values(sort, ascending=not desc, kind="stable", na_position="last")
    cols = columns or list(df.columns)
    part = view.iloc[offset: offset + limit][cols]
    rows = [[jsonable(v) for v in row] for row in part.astype(object).itertuples(index=False, name=None)]
    return {"table": table, "columns": cols, "total": int(mask.sum()), "rows_in_table": int(len(df)),
            "offset": offset, "limit": limit, "rows": rows}


def facets(df: pd.DataFrame, columns: list[str], *, table: str) -> dict[str, dict[str, int]]:
    """Distinct values with counts of some columns (for filter menus), at most 500 per column."""
    out = {}
    for c in columns:
        if c not in df.columns:
            raise ValidationError(Problem(f"no column {c!r} in {table}", file="request", column="facets", value=c))
        vc = df[c].astype(object).fillna("").astype(str).value_counts().head(500)
        out[c] = {str(k): int(v) for k, v in vc.items()}
    return out
