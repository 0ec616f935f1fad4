"""The service's state: the open workspace, the job pool, the caches, tokens and the audit log.

Concurrency. The service holds the workspace open for writing (DuckDB allows one writing process).
Questions that are not cached run as jobs in worker processes (:mod:`cleanpath.service.jobs`),
each with a time limit and cancellable, at most one per core at once; workers read snapshots from
Arrow files the service exports once per snapshot version, never the DuckDB file. In this process
one re-entrant lock guards the workspace's main connection and the networks loaded from it (for
map and info reads, exports and imports); it is never held while a question runs. Cached reads take
no lock at all: they are a dictionary lookup returning bytes serialised once. Tokens and the audit
log use their own DuckDB cursors with their own locks.

Caching. A question's result is keyed by the question, its normalised parameters (defaults
resolved, so ``as_of`` of today is part of the key) and the version (``updated_at``) of every snapshot
it reads; the key's hash is the ``result_id``. Results are bounded in bytes and kept on disk next to
the workspace, so they survive a restart (:mod:`cleanpath.service.cache`). Writing or deleting a
snapshot drops what was computed from it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from cleanpath.errors import Problem, SnapshotNotFound, ValidationError
from cleanpath.model.network import Network
from cleanpath.result import Result, jsonable
from cleanpath.service.auditlog import AuditLog
from cleanpath.service.auditlog import Entry as AuditEntry
from cleanpath.service.cache import ByteLRU, ResultCache, _frame_bytes
from cleanpath.service.errors import ApiError
from cleanpath.service.jobs import Job, JobManager, drop_exports, export_snapshot, new_job_id, prune_exports
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

    def nbytes(self) -> int:
        return len(self.raw) + len(self._gz or b"")


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
        Largest body of a question request (JSON parameters; an applications CSV travels in one).
    small_body_bytes
        Largest body of every other route (token requests; GET and DELETE take none).
    cache_bytes
        Bound of the question results kept in memory (tables and their JSON), least recently used
        dropped first; other reads (maps, snapshot summaries) get a quarter of it again.
    cache_disk_bytes
        Bound of the results kept on disk (they survive restarts).
    state_dir
        Where results and snapshot exports for the workers are kept (default: ``<workspace>.service``
        next to the workspace file).
    jobs
        Worker processes: questions running at once (default: the number of cores).
    job_time_limit
        Seconds a question may run before its worker is stopped (a question with its own solver
        ``time_limit`` parameter gets that plus a margin if more).
    job_time_limits
        Per-question limits overriding ``job_time_limit``.
    drain_seconds
        On stop (SIGTERM), how long running jobs may finish before their workers are terminated.
    max_queued_jobs
        Questions that may wait for a worker; more get 503 with Retry-After.
    auth_failures
        Failed authentications allowed per client address (a ``limits`` rate string); more get 429.
    warm
        On start, prepare the policy-pack list and every snapshot's map in the background.
    """

    workspace: Path
    max_upload_bytes: int = 200 * 2**20
    max_body_bytes: int = 32 * 2**20
    small_body_bytes: int = 64 * 2**10
    cache_bytes: int = 256 * 2**20
    cache_disk_bytes: int = 1024 * 2**20
    state_dir: Path | None = None
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    job_time_limit: float = 300.0
    job_time_limits: Mapping[str, float] = field(default_factory=dict)
    drain_seconds: float = 10.0
    max_queued_jobs: int = 256
    auth_failures: str = "30/minute"
    warm: bool = True

    def time_limit(self, question: str, params: Any) -> float:
        """The time limit of one job."""
        limit = float(self.job_time_limits.get(question, self.job_time_limit))
        own = getattr(params, "time_limit", None)  # a solver limit the caller chose (plan)
        if isinstance(own, (int, float)) and own > 0:
            limit = max(limit, float(own) * 1.5 + 60.0)
        return limit

    def state_path(self) -> Path:
        return self.state_dir or Path(str(self.workspace) + ".service")


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
    _frames: int | None = None
    #: called when a payload was added (the cache re-measures the entry)
    on_grow: Callable[[], None] | None = None

    def meta(self) -> dict[str, Any]:
        """What ``GET /api/results`` lists."""
        return {"result_id": self.result_id, "question": self.question, "snapshot": self.result.snapshot,
                "snapshots": list(self.snapshots), "params": self.params, "ran_by": self.ran_by,
                "ran_at": self.ran_at.isoformat(timespec="seconds") + "Z", "seconds": round(self.seconds, 3),
                "summary": jsonable(self.result.summary),
                "tables": {k: int(len(v)) for k, v in self.result.tables.items()}}

    def state(self) -> dict[str, Any]:
        """What the disk cache keeps (no payloads: they are remade on demand)."""
        return {"result_id": self.result_id, "question": self.question, "snapshots": self.snapshots,
                "versions": self.versions, "params": self.params, "result": self.result, "ran_by": self.ran_by,
                "ran_at": self.ran_at, "seconds": self.seconds}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "Entry":
        return cls(**state)

    def nbytes(self) -> int:
        """Memory held: the result's tables plus the payloads made from them."""
        if self._frames is None:
            self._frames = _frame_bytes(self.result)
        return self._frames + sum(p.nbytes() for p in list(self._payloads.values()))

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
        if self.on_grow is not None:
            self.on_grow()
        return hit


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Service:
    """One running service: workspace, job pool, caches, tokens, audit log.

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
        self._export_con = self.ws.con.cursor()  # snapshot exports for the job workers
        self._export_lock = threading.Lock()
        self.started = _now()
        self._versions: dict[str, str] = {}
        self._snapshots: list = []
        self._key_locks: dict[tuple, threading.Lock] = {}
        self._key_locks_lock = threading.Lock()
        self._closing = threading.Event()
        self._closed = False
        self._warmer: threading.Thread | None = None
        self.refresh_versions()
        self.state_dir = config.state_path()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        self.exports = self.state_dir / "snapshots"
        prune_exports(self.exports, self.ws.path, self._versions)
        self.results = ResultCache(self.state_dir / "results", memory_bytes=config.cache_bytes,
                                   disk_bytes=config.cache_disk_bytes, current=self._current)
        self.reads = ByteLRU(max(config.cache_bytes // 4, 1), lambda p: p.nbytes())
        self.jobs = JobManager(config.jobs, on_done=self._job_done, on_final=self._job_final,
                               max_queued=config.max_queued_jobs)

    def _current(self, snapshots: tuple[str, ...], versions: tuple[str, ...]) -> bool:
        return all(self._versions.get(s) == v for s, v in zip(snapshots, versions))

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the background work: the audit-log writer and, once, preparing what the
        dashboard's first visit asks for (the policy packs take a second or two to parse, a large
        snapshot's map more). The app's lifespan calls this; :meth:`stop` undoes it."""
        self._closing.clear()
        self.jobs.closing = False
        self.audit.start()
        # the forkserver and its preloaded imports take a few seconds: not on the first request
        threading.Thread(target=self.jobs.start, name="cleanpath-jobs-start", daemon=True).start()
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
        """Stop: running jobs get ``drain_seconds`` to finish, then the audit log is written out."""
        self._closing.set()
        self.jobs.close(self.config.drain_seconds)
        if self._warmer is not None:
            self._warmer.join(timeout=60)
            self._warmer = None
        self.audit.stop()

    def close(self) -> None:
        """Stop, and release the workspace (idempotent)."""
        if self._closed:
            return
        self.stop()
        with self.lock:
            self.ws.close()
        self._closed = True

    def health(self) -> dict[str, Any]:
        """``/health``: ok or degraded (with reasons), and the job pool's load. Takes no lock."""
        from cleanpath import __version__

        reasons = []
        ok, why = self.audit.health()
        if not ok:
            reasons.append(why)
        out: dict[str, Any] = {"status": "ok" if not reasons else "degraded", "version": __version__,
                               "jobs": self.jobs.counts()}
        if reasons:
            out["reasons"] = reasons
        return out

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
        """Drop cached results, reads and worker exports computed from ``snapshot`` (after it changed)."""
        self.refresh_versions()
        self.results.drop_snapshot(snapshot)
        self.reads.drop(lambda k, _v: snapshot not in k[1:2])
        drop_exports(self.exports, snapshot)

    # -- questions --------------------------------------------------------------------------------
    def result_key(self, question: str, params: Any) -> tuple[str, tuple[str, ...], tuple[str, ...], dict]:
        q = QUESTIONS[question]
        snaps = tuple(q.snapshots(params))
        versions = tuple(self.version(s) for s in snaps)
        norm = q.normalise(params)
        text = json.dumps([question, snaps, versions, norm], sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20], snaps, versions, norm

    def cached(self, question: str, params: Any, *, memory_only: bool = False) -> Entry | None:
        """The cached result of this request, if any (no lock, no computation).

        ``memory_only`` skips the disk tier (for the event loop, which must not wait for a file).
        """
        rid = self.result_key(question, params)[0]
        return self.results.memory.get(rid) if memory_only else self.results.get(rid)

    def submit(self, question: str, params: Any, principal: Principal | None) -> tuple[Entry | None, Job | None]:
        """The cached result of a question, or the job computing it (started now, or already running)."""
        rid, snaps, versions, norm = self.result_key(question, params)
        hit = self.results.get(rid)
        if hit is not None:
            return hit, None
        job = self.jobs.active(rid)
        if job is not None:
            return None, job
        exports = {s: str(self._export(s, v)) for s, v in zip(snaps, versions)}
        job = Job(new_job_id(), question, params.model_dump(mode="json"), rid, snaps, versions, norm,
                  created_by=(principal.name or principal.token_id) if principal else None,
                  created_by_id=principal.token_id if principal else None,
                  time_limit=self.config.time_limit(question, params))
        return None, self.jobs.submit(job, exports)

    def _export(self, name: str, version: str) -> Path:
        """The worker files of a snapshot version, written on first use.

        Not under the workspace lock: its own cursor reads a consistent view while an import or a
        map read uses the main connection. One export at a time (the cursor's own lock); an existing
        export is a file check.
        """
        with self._export_lock:
            return export_snapshot(self._export_con, self.ws.path, name, version, self.exports)

    def _job_done(self, job: Job, out: tuple) -> None:
        """A worker returned a result: keep it (unless its snapshot changed meanwhile)."""
        if not self._current(job.snapshots, job.versions):
            raise ApiError(409, "the snapshot changed while the question ran; ask again")
        entry = Entry(job.result_id, job.question, job.snapshots, job.versions, job.norm, out[1],
                      job.created_by, _now(), float(out[2]))
        self.results.put(entry)
        log.info("%s on %s took %.2f s (result %s, job %s)", job.question, ",".join(job.snapshots) or "-",
                 entry.seconds, job.result_id, job.job_id)

    def _job_final(self, job: Job) -> None:
        """The end of every job goes into the audit log, as a ``JOB`` entry."""
        self.audit.add(AuditEntry(
            at=_now(), token_id=job.created_by_id, token_name=job.created_by, role=None, method="JOB",
            path=f"/api/jobs/{job.job_id}", action=f"job:{job.question}:{job.status}",
            snapshot=job.snapshots[0] if job.snapshots else None, params=None, result_id=job.result_id,
            status=int(job.http_status or 0), duration_ms=round((job.seconds or 0.0) * 1000, 3), client=None))

    def result(self, result_id: str) -> Entry | None:
        return self.results.get(result_id)

    def list_results(self, *, snapshot: str | None = None, question: str | None = None) -> list[dict[str, Any]]:
        """Descriptions of the results kept (memory and disk), newest first."""
        out = [m for m in self.results.metas()
               if (snapshot is None or snapshot in m["snapshots"]) and (question is None or m["question"] == question)]
        return sorted(out, key=lambda m: m["ran_at"], reverse=True)

    # -- other cached reads ---------------------------------------------------------------------------
    def read(self, key: tuple, compute: Callable[[], Any], *, workspace: bool = True) -> Payload:
        """A cached JSON read: ``key[0]`` names it, ``key[1]`` is the snapshot it depends on (or None).

        ``workspace=False`` for reads that do not touch the workspace (policy packs): they then
        wait only for the same read in another thread, not for the workspace lock.
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
        """The dashboard's map data of a snapshot (see :mod:`cleanpath.service.mapdata`).

        ``trust`` has been checked by the route (:func:`cleanpath.service.routes.check_map_trust`):
        it names no file, so resolving it reads nothing from the server's disk.
        """
        from cleanpath.policy.vendorset import resolve_untrusted
        from cleanpath.service.mapdata import map_payload

        def compute() -> dict[str, Any]:
            net = self.ws.network(name)
            return map_payload(net, untrusted=resolve_untrusted(net, trust, setting="trust"), snapshot=name)

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
