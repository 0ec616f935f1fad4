"""Who ran what: the service's audit log, in the workspace's ``service_audit_log`` table.

Every API request is recorded (time, token, role, method, path, action, snapshot, parameters,
HTTP status, duration, client address), refused ones included. Entries are buffered in memory and
written in batches, so a burst of cached reads costs a list append each rather than a database
write each; :meth:`AuditLog.flush` runs every second in the background, before every read of the log
and when the service stops.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

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
#: Flush early when this many entries wait.
BATCH = 500


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


class AuditLog:
    """A buffered writer and reader of ``service_audit_log``.

    Parameters
    ----------
    con
        A DuckDB connection (cursor) of the workspace, used only by this log.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self._lock = threading.Lock()  # the connection
        self._plock = threading.Lock()  # the queue (held only for an append or a swap)
        self._pending: list[Entry] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        with self._lock:
            self.con.execute(_DDL)

    def add(self, entry: Entry) -> None:
        """Queue an entry (written by the next flush)."""
        with self._plock:
            self._pending.append(entry)
            n = len(self._pending)
        if n >= BATCH and self._thread is None:
            self.flush()

    def flush(self) -> int:
        """Write the queued entries in one statement; returns how many."""
        with self._lock:
            with self._plock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            df = pd.DataFrame([[e.at, e.token_id, e.token_name, e.role, e.method, e.path, e.action, e.snapshot,
                                None if e.params is None else json.dumps(e.params, default=str, ensure_ascii=False),
                                e.result_id, e.status, e.duration_ms, e.client] for e in batch],
                              columns=list(COLUMNS))
            self.con.register("_cleanpath_audit_batch", df)
            try:
                self.con.execute(f"INSERT INTO service_audit_log SELECT {', '.join(COLUMNS)} "
                                 "FROM _cleanpath_audit_batch")
            finally:
                self.con.unregister("_cleanpath_audit_batch")
        return len(batch)

    def read(self, *, limit: int = 100, token_id: str | None = None, action: str | None = None) -> pd.DataFrame:
        """The newest entries first (after a flush), optionally of one token or action."""
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

    def start(self, interval: float = 1.0) -> None:
        """Flush every ``interval`` seconds in a background thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval):
                self.flush()

        self._thread = threading.Thread(target=loop, name="cleanpath-audit-flush", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread and write what is left."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self._thread = None
        self.flush()
