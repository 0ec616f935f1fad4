"""Questions as jobs in worker processes: queued, polled, cancelled, timed out, drained on stop.

Why processes. A question is plain CPU-bound Python/numpy; a thread running one cannot be stopped,
so a question that runs too long (or for ever) would hold the service. Each job runs in a worker of
a :class:`pebble.ProcessPool` (a maintained library built for exactly this: per-task time limits,
and cancelling a running task terminates its worker, which the pool then replaces). Workers are
started with ``forkserver`` (``spawn`` where there is none) so they never inherit the service's
threads, sockets or DuckDB connection, and run at a lower CPU priority (``nice``) than the service,
so reads and cached answers stay quick while every core computes.

How workers read snapshots. DuckDB lets one process open a file for writing and no other process
open it at all meanwhile, and the service keeps the workspace open for writing (tokens, the audit
log, imports). So the service exports each snapshot version it needs once to Arrow IPC files in the
sidecar directory (``<workspace>.service/snapshots/<name>-<storage>-<version hash>/<table>.arrow``),
with the same column types the workspace gives, and workers memory-map those files. An export is
reused across jobs and restarts and deleted when its snapshot changes. Workers keep the last two
networks they loaded, so indexes built on them (graph, spatial) are reused by the next job.

Progress. A worker reports its stage (``loading``, ``computing``, ``sending``) through a
multiprocessing queue; ``GET /api/jobs/{id}`` shows it with the time spent and the limit. Questions
themselves do not report fractions done, so none is invented.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing as mp
import os
import secrets
import shutil
import sys
import threading
import time
import traceback
from collections import OrderedDict
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
from pebble import ProcessExpired, ProcessPool

log = logging.getLogger("cleanpath.service")

#: Finished jobs remembered for polling (oldest forgotten first).
KEEP_FINISHED = 1000
#: Job states; the last four are final.
STATES = ("queued", "running", "done", "failed", "cancelled", "timeout")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# --- snapshot exports (parent side) ---------------------------------------------------------------------

def export_snapshot(con, workspace: Path, name: str, version: str, root: Path) -> Path:
    """Export snapshot ``name`` to Arrow IPC files under ``root`` (once per version).

    ``con`` is a cursor of the workspace used only by this call: DuckDB gives it a consistent view
    even while an import writes through another cursor, so an export never waits for an import.
    The caller makes sure one snapshot is not exported twice at once. Returns the directory; an
    existing complete export of the same version is reused, older exports of ``name`` are deleted.
    """
    from cleanpath.errors import SnapshotNotFound
    from cleanpath.model.schema import TABLES
    from cleanpath.store.workspace import fetch_arrow

    rows = con.execute("SELECT storage FROM snapshots WHERE name = ?", [name]).fetchall()
    if not rows:
        raise SnapshotNotFound(f"no snapshot {name!r} in the workspace")
    storage = rows[0][0]
    tag = _tag(workspace, version)
    final = root / f"{name}-{storage}-{tag}"
    if (final / "DONE").exists():
        return final
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    for old in root.glob(f"{name}-s*"):  # earlier versions of this snapshot
        if old.name != final.name and old.name.rsplit("-", 2)[0] == name:
            shutil.rmtree(old, ignore_errors=True)
    tmp = root / f".{final.name}.{secrets.token_hex(4)}.tmp"
    tmp.mkdir()
    try:
        for t, spec in TABLES.items():
            tbl = fetch_arrow(con, f'SELECT * FROM "{storage}"."{t}"')
            tbl = tbl.cast(pa.schema([pa.field(c.name, c.arrow_type) for c in spec.columns]))
            with pa.OSFile(str(tmp / f"{t}.arrow"), "wb") as sink, pa.ipc.new_file(sink, tbl.schema) as w:
                w.write_table(tbl)
        (tmp / "DONE").write_text(name, "utf-8")
        if final.exists():  # a partial export from a crash
            shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _tag(workspace: Path, version: str) -> str:
    return hashlib.sha256(f"{Path(workspace).resolve()}|{version}".encode()).hexdigest()[:12]


def prune_exports(root: Path, workspace: Path, versions: dict[str, str]) -> None:
    """Delete exports of snapshots that are gone or changed (e.g. while the service was stopped)."""
    if not root.is_dir():
        return
    for d in root.iterdir():
        name, _sep, tag = d.name.rpartition("-")
        name = name.rsplit("-", 1)[0] if "-" in name else name
        if d.name.startswith(".") or name not in versions or tag != _tag(workspace, versions[name]):
            shutil.rmtree(d, ignore_errors=True)


def drop_exports(root: Path, name: str) -> None:
    """Delete every export of snapshot ``name``."""
    for old in root.glob(f"{name}-s*"):
        if old.name.rsplit("-", 2)[0] == name:
            shutil.rmtree(old, ignore_errors=True)


# --- the worker side ---------------------------------------------------------------------------------------

_progress = None  # the queue to the service, set by _init_worker
_networks: OrderedDict[str, Any] = OrderedDict()  # export dir -> Network, newest last


def _init_worker(progress) -> None:
    global _progress
    _progress = progress
    try:
        os.nice(10)  # batch work: the service's own threads answer requests first
    except OSError:
        pass


def _stage(job_id: str, stage: str) -> None:
    if _progress is not None:
        try:
            _progress.put((job_id, stage, time.time()))
        except Exception:  # progress is a nicety; never fail a job over it
            pass


def _network(name: str, folder: str):
    import pandas as pd

    from cleanpath.model.network import Network
    from cleanpath.model.schema import TABLES

    net = _networks.get(folder)
    if net is None:
        tables = {}
        for t in TABLES:
            with pa.memory_map(os.path.join(folder, f"{t}.arrow")) as src:
                tables[t] = pa.ipc.open_file(src).read_all().to_pandas(types_mapper=pd.ArrowDtype)
        net = Network(tables, name=name, validate=False)
        _networks[folder] = net
        while len(_networks) > 2:
            _networks.popitem(last=False)
    _networks.move_to_end(folder)
    return net


def run_question(job_id: str, question: str, params: dict[str, Any], exports: dict[str, str]) -> tuple:
    """Run one question in a worker process.

    Returns ``("ok", result, seconds)`` or ``("error", http_status, error_body)``: errors travel as
    plain data so that nothing depends on an exception class pickling faithfully.
    """
    from cleanpath.errors import SnapshotNotFound, ValidationError, WorkspaceError
    from cleanpath.service.errors import body
    from cleanpath.service.questions import QUESTIONS

    try:
        q = QUESTIONS[question]
        p = q.model.model_validate(params)
        _stage(job_id, "loading")
        try:
            nets = {name: _network(name, folder) for name, folder in exports.items()}
        except FileNotFoundError:  # the export was dropped: its snapshot was replaced or deleted meanwhile
            return ("error", 409, body(409, "the snapshot changed or was deleted while the question waited; "
                                            "ask again"))
        _stage(job_id, "computing")
        t0 = time.perf_counter()
        result = q.run(nets, p)
        seconds = time.perf_counter() - t0
        _stage(job_id, "sending")
        return ("ok", result, seconds)
    except ValidationError as e:
        return ("error", 422, e.to_dict())
    except SnapshotNotFound as e:
        return ("error", 404, body(404, str(e)))
    except WorkspaceError as e:
        return ("error", 409, body(409, str(e)))
    except MemoryError:
        return ("error", 507, body(507, "the question ran out of memory in its worker"))
    except Exception:
        print(f"cleanpath job {job_id} ({question}) failed:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        return ("error", 500, body(500, "internal error: the server log has the details"))


def summarise_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as a job shows them: long texts (an uploaded CSV) and lists cut to a summary, so
    that polling a job or listing jobs stays small."""
    out = {}
    for k, v in params.items():
        if isinstance(v, str) and len(v) > 200:
            v = f"<{len(v):,} characters, sha256 {hashlib.sha256(v.encode()).hexdigest()[:16]}>"
        elif isinstance(v, list) and len(v) > 50:
            v = v[:50] + [f"... {len(v) - 50:,} more"]
        out[k] = v
    return out


# --- the parent side -----------------------------------------------------------------------------------------

@dataclass
class Job:
    """One question asked of the worker pool."""

    job_id: str
    question: str
    params: dict[str, Any]
    result_id: str
    snapshots: tuple[str, ...]
    versions: tuple[str, ...]
    norm: dict[str, Any]
    created_by: str | None
    created_by_id: str | None
    time_limit: float
    created_at: datetime = field(default_factory=_now)
    status: str = "queued"
    stage: str = "queued"
    started: float | None = None
    finished_at: datetime | None = None
    seconds: float | None = None
    http_status: int | None = None
    error: dict[str, Any] | None = None
    future: Any = None
    #: resolved once the job is final and its result (if any) is in the cache
    outcome: Future = field(default_factory=Future)
    finalized: bool = False
    t0: float = field(default_factory=time.monotonic)

    @property
    def final(self) -> bool:
        return self.status in ("done", "failed", "cancelled", "timeout")

    def view(self, position: int | None = None) -> dict[str, Any]:
        """What ``GET /api/jobs/{id}`` shows."""
        now = time.monotonic()
        if self.status == "queued" and self.future is not None and self.future.running():
            # the pool handed it to a worker; its first progress message may still be on the way
            self.status = "running"
            self.started = self.started or now
        running_for = None if self.started is None else round((self.seconds if self.final and self.seconds
                                                               is not None else now - self.started), 3)
        out = {"job_id": self.job_id, "question": self.question, "status": self.status, "params": summarise_params(self.params),
               "snapshots": list(self.snapshots), "created_by": self.created_by,
               "created_at": self.created_at.isoformat(timespec="seconds") + "Z",
               "finished_at": None if self.finished_at is None else self.finished_at.isoformat(timespec="seconds") + "Z",
               "progress": {"stage": self.stage, "queue_position": position,
                            "waited_s": round((self.started or now) - self.t0, 3),
                            "running_s": running_for, "time_limit_s": self.time_limit},
               "result_id": self.result_id,  # known from the start: the cache key of the answer
               "result": f"/api/results/{self.result_id}" if self.status == "done" else None}
        if self.error is not None:
            out["error"] = self.error
            out["http_status"] = self.http_status
        return out


class JobManager:
    """The worker pool and the jobs asked of it.

    Parameters
    ----------
    workers
        Worker processes (at most this many questions run at once; the rest queue).
    on_done
        ``on_done(job, outcome)`` runs in the pool's thread when a worker returns
        ``("ok", result, seconds)``; it stores the result. Errors it raises fail the job.
    on_final
        ``on_final(job)`` runs once a job is final (done, failed, cancelled, timed out): the audit log.
    max_queued
        Jobs that may wait for a worker; more are refused with 503 (each holds its parameters).
    """

    def __init__(self, workers: int, *, on_done: Callable[[Job, tuple], None],
                 on_final: Callable[[Job], None] | None = None, max_queued: int = 256):
        self.workers = max(1, int(workers))
        self.max_queued = max(1, int(max_queued))
        self._on_done = on_done
        self._on_final = on_final
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._active: dict[str, Job] = {}  # result_id -> job not final
        self._pool: ProcessPool | None = None
        self._ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
        self._progress = None
        self._reader: threading.Thread | None = None
        self.closing = False

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers now (otherwise the first job starts them and waits for it)."""
        with self._lock:
            self._ensure_pool()

    def _ensure_pool(self) -> ProcessPool:
        if self._pool is None:
            if self._ctx.get_start_method() == "forkserver":
                # workers fork from a server that has already imported the questions: a replaced
                # worker (after a cancel or a time-out) is ready in milliseconds, not seconds
                self._ctx.set_forkserver_preload(["cleanpath.service.jobs", "cleanpath.service.questions"])
            self._progress = self._ctx.Queue()
            self._pool = ProcessPool(max_workers=self.workers, initializer=_init_worker,
                                     initargs=(self._progress,), context=self._ctx)
            self._reader = threading.Thread(target=self._read_progress, name="cleanpath-job-progress", daemon=True)
            self._reader.start()
        return self._pool

    def _read_progress(self) -> None:
        q = self._progress
        while True:
            try:
                msg = q.get()
            except (EOFError, OSError, ValueError):
                return
            if msg is None:
                return
            job_id, stage, _t = msg
            job = self._jobs.get(job_id)
            if job is not None and not job.final:
                job.stage = stage
                if job.started is None:
                    job.started = time.monotonic()
                job.status = "running"

    def close(self, drain: float = 10.0) -> None:
        """Refuse new jobs, let running ones finish for up to ``drain`` seconds, then stop the workers."""
        self.closing = True
        deadline = time.monotonic() + max(0.0, drain)
        with self._lock:
            pending = [j for j in self._jobs.values() if not j.final]
        for j in pending:
            if j.status == "queued" and j.future is not None:
                j.future.cancel()  # not started: nothing to drain
        for j in pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                j.outcome.result(timeout=left)
            except Exception:
                pass
        self._drop_pool()
        # jobs the stop cut short end here, recorded like any other (their callbacks may never run)
        for j in pending:
            with self._lock:
                if j.final or j.finalized:
                    continue
                j.status, j.http_status = "cancelled", 503
                j.error = {"error": "unavailable", "problems": [],
                           "message": "the service stopped before the question finished; ask again"}
            self._finalize(j)

    def _drop_pool(self) -> None:
        """Stop the workers (terminating busy ones) and the progress reader."""
        if self._pool is not None:
            self._pool.stop()  # terminates workers still busy after the drain
            self._pool.join(timeout=10)
            self._pool = None
        if self._progress is not None:
            try:
                self._progress.put(None)
            except (OSError, ValueError):
                pass
            if self._reader is not None:
                self._reader.join(timeout=2)
            self._progress.close()
            self._progress = None

    # -- jobs ---------------------------------------------------------------------------------------------
    def active(self, result_id: str) -> Job | None:
        """The unfinished job computing ``result_id``, if any (asking again joins it)."""
        return self._active.get(result_id)

    def submit(self, job: Job, exports: dict[str, str]) -> Job:
        """Queue ``job`` (or return the unfinished job already computing the same result)."""
        from cleanpath.service.errors import ApiError

        with self._lock:
            if self.closing:
                raise ApiError(503, "the service is stopping; ask again when it is back")
            same = self._active.get(job.result_id)
            if same is not None:
                return same
            waiting = sum(1 for j in self._active.values() if j.status == "queued")
            if waiting >= self.max_queued:  # each waiting job holds its parameters (up to a body's size)
                raise ApiError(503, f"{waiting} questions are already waiting for a worker; ask again later",
                               headers={"Retry-After": "30"})
            pool = self._ensure_pool()
            args = (run_question, job.time_limit, job.job_id, job.question, job.params, exports)
            try:
                job.future = pool.submit(*args)
            except RuntimeError:  # the pool broke (its forkserver died): replace it once, then give up
                log.error("the worker pool was broken; starting a new one")
                self._drop_pool()
                job.future = self._ensure_pool().submit(*args)
            self._jobs[job.job_id] = job
            self._active[job.result_id] = job
            self._forget_old()
        job.future.add_done_callback(lambda f, j=job: self._finish(j, f))
        return job

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.final]
        for k in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[k]

    def _finish(self, job: Job, fut) -> None:
        with self._lock:
            if job.finalized:  # already ended by close()
                return
        try:
            stopped = self.closing and (fut.cancelled() or fut.exception() is not None)
            if stopped:  # the service is stopping and terminated the worker: not the question's fault
                job.status, job.http_status = "cancelled", 503
                job.error = {"error": "unavailable", "problems": [],
                             "message": "the service stopped before the question finished; ask again"}
            elif fut.cancelled():
                job.status, job.http_status = "cancelled", 499
                job.error = {"error": "cancelled", "message": "the job was cancelled", "problems": []}
            else:
                exc = fut.exception()
                if isinstance(exc, FutureTimeout):
                    job.status, job.http_status = "timeout", 504
                    job.error = {"error": "timeout", "problems": [],
                                 "message": f"the question ran longer than its limit of {job.time_limit:g} s and "
                                            "was stopped; narrow it (fewer samples, a smaller region) or ask an "
                                            "admin to raise the limit"}
                elif isinstance(exc, ProcessExpired):
                    job.status, job.http_status = "failed", 500
                    job.error = {"error": "internal", "problems": [],
                                 "message": f"the worker running the question died (exit code {exc.exitcode}); "
                                            "it may have run out of memory"}
                elif isinstance(exc, CancelledError):
                    job.status, job.http_status = "cancelled", 499
                    job.error = {"error": "cancelled", "message": "the job was cancelled", "problems": []}
                elif exc is not None:
                    log.error("job %s (%s) failed: %r", job.job_id, job.question, exc)
                    job.status, job.http_status = "failed", 500
                    job.error = {"error": "internal", "message": "internal error: the server log has the details",
                                 "problems": []}
                else:
                    out = fut.result()
                    if out[0] == "ok":
                        job.seconds = float(out[2])
                        self._on_done(job, out)
                        job.status, job.http_status = "done", 200
                    else:
                        job.status, job.http_status, job.error = "failed", int(out[1]), out[2]
        except Exception as e:  # storing the result failed: the job failed, the service goes on
            from cleanpath.service.errors import body

            status = getattr(e, "status", None)
            job.status = "failed"
            if isinstance(status, int):  # an ApiError (the snapshot changed meanwhile): say so
                job.http_status, job.error = status, body(status, str(e))
            else:
                log.exception("finishing job %s failed", job.job_id)
                job.http_status, job.error = 500, body(500, f"storing the result failed: {e}")
        finally:
            self._finalize(job)

    def _finalize(self, job: Job) -> None:
        """The bookkeeping of a job that has just become final: audit entry, waiters released (once)."""
        with self._lock:
            if job.finalized:
                return
            job.finalized = True
        if job.started is not None and job.seconds is None:
            job.seconds = time.monotonic() - job.started
        job.stage = job.status
        job.finished_at = _now()
        job.params = summarise_params(job.params)  # a finished job is remembered: not with a 20 MB CSV in it
        with self._lock:
            if self._active.get(job.result_id) is job:
                del self._active[job.result_id]
        if self._on_final is not None:
            try:
                self._on_final(job)
            except Exception:
                log.exception("recording the end of job %s failed", job.job_id)
        job.outcome.set_result(job)

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def position(self, job: Job) -> int | None:
        """How many queued jobs are ahead of ``job`` (None once it runs)."""
        if job.status != "queued":
            return None
        with self._lock:
            ahead = 0
            for j in self._jobs.values():
                if j is job:
                    return ahead
                ahead += j.status == "queued"
        return None

    def cancel(self, job: Job) -> bool:
        """Cancel a queued or running job (a running one's worker is terminated); False if already final."""
        if job.final or job.future is None:
            return False
        return bool(job.future.cancel())

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def counts(self) -> dict[str, int]:
        """Jobs by state (for /health)."""
        out = {"queued": 0, "running": 0, "workers": self.workers}
        for j in self.jobs():
            if j.status in ("queued", "running"):
                out[j.status] += 1
        return out


def new_job_id() -> str:
    return "job_" + secrets.token_hex(8)
