"""Who ran what: the service's audit log, in the workspace's ``service_audit_log`` table.

Every API request is recorded (time, token, role, method, path, action, snapshot, parameters,
HTTP status, duration, client address): refused ones, failed ones and crashed handlers included,
and the end of every question job (done, failed, cancelled, timed out) as a ``JOB`` entry.

Durability. The service writes a request's entry *before* it sends the response: the middleware
waits until the entry is committed (DuckDB syncs its write-ahead log on commit), so a ``kill -9``
loses no entry whose request was answered. A single writer thread commits whatever has queued
meanwhile in one transaction (group commit), so fifty concurrent requests cost one commit, not fifty.

Failures are loud, never silent. When a write fails (disk full, a damaged table) the writer keeps
the entries and retries them with the next batch, prints each to the server log (stderr) as JSON
so the record survives even if the retries never succeed, and :meth:`AuditLog.health` reports the
failure: ``/health`` then says ``degraded`` with the reason. The writer thread is supervised:
if it ever dies, the next write or health check says so and starts a new one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

log = logging.getLogger("cleanpath.service.audit")

_DDL = """
CREATE TABLE IF NOT EXISTS service_audit_log (
    logged_at TIMESTAMP NOT NULL,
    token_id VARCHAR,
    token_name VARCHAR,
    role VARCHAR,
    method VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    action VARCHAR,
    snapshot VARCHAR,
    params VARCHAR,
    result_id VARCHAR,
    status INTEGER NOT NULL,
    duration_ms DOUBLE NOT NULL,
    client VARCHAR
)"""
COLUMNS = ("logged_at", "token_id", "token_name", "role", "method", "path", "action", "snapshot", "params",
           "result_id", "status", "duration_ms", "client")
_TYPES = (pa.timestamp("us"), pa.string(), pa.string(), pa.string(), pa.string(), pa.string(), pa.string(),
          pa.string(), pa.string(), pa.string(), pa.int32(), pa.float64(), pa.string())
#: Entries kept for retry while writes fail (beyond this the oldest survive only in the server log).
MAX_RETRY = 100_000


@dataclass(frozen=True)
class Entry:
    """One request, as recorded."""

    at: datetime
    token_id: str | None
    token_name: str | None
    role: str | None
    method: str
    path: str
    action: str | None
    snapshot: str | None
    params: dict[str, Any] | None
    result_id: str | None
    status: int
    duration_ms: float
    client: str | None

    def row(self) -> list[Any]:
        return [self.at, self.token_id, self.token_name, self.role, self.method, self.path, self.action,
                self.snapshot, None if self.params is None else json.dumps(self.params, default=str,
                                                                           ensure_ascii=False),
                self.result_id, self.status, self.duration_ms, self.client]


class AuditLog:
    """A group-committing, supervised writer and a reader of ``service_audit_log``.

    Parameters
    ----------
    con
        A DuckDB connection (cursor) of the workspace, used only by this log.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self._lock = threading.Lock()  # the connection
        self._cv = threading.Condition()  # the queue
        self._pending: list[tuple[Entry, Future]] = []
        self._retry: list[Entry] = []
        self._stop = False
        self._thread: threading.Thread | None = None
        self.written = 0
        self.failures = 0
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.restarts = 0
        with self._lock:
            self.con.execute(_DDL)

    # -- writing -------------------------------------------------------------------------------------
    def add(self, entry: Entry) -> Future:
        """Queue an entry; the Future resolves (to True if it reached the table, False if only the
        server log) once it is durable. Without a running writer it is written now."""
        fut: Future = Future()
        if self._thread is None or self._stop:
            self._write([(entry, fut)])
            return fut
        self._supervise()
        with self._cv:
            self._pending.append((entry, fut))
            self._cv.notify()
        return fut

    def _write(self, batch: list[tuple[Entry, Future]]) -> None:
        """Commit ``batch`` and the entries waiting for a retry in one transaction."""
        entries = self._retry + [e for e, _f in batch]
        ok = True
        if entries:
            # an Arrow table straight from the columns: a fraction of a pandas DataFrame's cost, and
            # this runs once per commit while requests wait for it
            cols = list(zip(*(e.row() for e in entries)))
            df = pa.table([pa.array(c, type=t) for c, t in zip(cols, _TYPES)], names=list(COLUMNS))
            try:
                with self._lock:
                    self.con.register("_cleanpath_audit_batch", df)
                    try:
                        self.con.execute("BEGIN TRANSACTION")
                        try:
                            self.con.execute(f"INSERT INTO service_audit_log SELECT {', '.join(COLUMNS)} "
                                             "FROM _cleanpath_audit_batch")
                            self.con.execute("COMMIT")
                        except BaseException:
                            try:
                                self.con.execute("ROLLBACK")
                            except duckdb.Error:
                                pass
                            raise
                    finally:
                        try:
                            self.con.unregister("_cleanpath_audit_batch")
                        except duckdb.Error:
                            pass
                self._retry = []
                self.written += len(entries)
                self.last_error = None
            except Exception as e:  # disk full, damaged table, closed connection...
                ok = False
                self.failures += 1
                self.last_error = f"{type(e).__name__}: {e}"
                self.last_error_at = datetime.now(timezone.utc).replace(tzinfo=None)
                log.error("audit log write failed (%s); %d entries kept for retry and written here",
                          self.last_error, len(entries))
                for e_, _f in batch:  # the record survives in the server log whatever happens next
                    log.error("audit entry %s", json.dumps(dict(zip(COLUMNS, e_.row())), default=str))
                self._retry = (self._retry + [e for e, _f in batch])[-MAX_RETRY:]
        for _e, f in batch:
            if not f.done():
                f.set_result(ok)

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._pending and not self._stop:
                    # wake now and then to retry failed entries even when no request comes
                    self._cv.wait(timeout=5.0 if self._retry else None)
                    if self._retry and not self._pending:
                        break
                batch, self._pending = self._pending, []
                stopping = self._stop
            self._write(batch)
            if stopping and not self._pending:
                return

    def _supervise(self) -> None:
        """Start a new writer if the current one died (it should not: every error is caught)."""
        t = self._thread
        if t is not None and not t.is_alive() and not self._stop:
            self.restarts += 1
            log.error("audit log writer thread had died; starting a new one")
            self._thread = threading.Thread(target=self._loop, name="cleanpath-audit-writer", daemon=True)
            self._thread.start()

    def start(self) -> None:
        """Start the writer thread (until :meth:`stop`)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="cleanpath-audit-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is queued and stop the writer (restartable with :meth:`start`)."""
        t = self._thread
        if t is not None:
            with self._cv:
                self._stop = True
                self._cv.notify()
            t.join(timeout=10)
            self._thread = None
        with self._cv:
            batch, self._pending = self._pending, []
        if batch or self._retry:
            self._write(batch)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far is written (or has failed and been logged)."""
        if self._thread is None:
            if self._retry:
                self._write([])
            return
        with self._cv:
            waiting = [f for _e, f in self._pending]
        deadline = time.monotonic() + timeout
        for f in waiting:
            try:
                f.result(timeout=max(0.0, deadline - time.monotonic()))
            except Exception:
                break

    # -- state and reading ---------------------------------------------------------------------------
    def health(self) -> tuple[bool, str | None]:
        """(healthy, reason): unhealthy while writes fail or entries wait for a retry."""
        self._supervise()
        if self.last_error is not None or self._retry:
            when = self.last_error_at.isoformat(timespec="seconds") + "Z" if self.last_error_at else "?"
            return False, (f"audit log writes failing since {when} ({self.last_error}); {len(self._retry):,} "
                           f"entries waiting for a retry, each also written to the server log")
        return True, None

    def read(self, *, limit: int = 100, token_id: str | None = None, action: str | None = None) -> pd.DataFrame:
        """The newest entries first (after what is queued is written), optionally of one token or action."""
        self.flush()
        where, args = [], []
        if token_id:
            where.append("token_id = ?")
            args.append(token_id)
        if action:
            where.append("action = ?")
            args.append(action)
        sql = (f"SELECT {', '.join(COLUMNS)} FROM service_audit_log "
               + (f"WHERE {' AND '.join(where)} " if where else "")
               + "ORDER BY logged_at DESC LIMIT ?")
        with self._lock:
            return self.con.execute(sql, args + [int(limit)]).df()
