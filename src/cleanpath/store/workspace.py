"""The workspace: an embedded DuckDB file holding named snapshots of networks.

Layout inside the file::

    cleanpath_meta(key, value)          schema_version and who wrote it
    snapshots(name, storage, ...)       one row per named snapshot
    s<N>.operators, s<N>.sites, ...     one schema per stored snapshot version

Writing a snapshot builds a fresh ``s<N>`` schema and repoints the registry row in a single
transaction, so a failed or killed import leaves the previous version (and every other snapshot)
exactly as it was: DuckDB's write-ahead log discards the uncommitted transaction on the next open.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401 (pa.compute in _with_schema_columns)

from cleanpath.errors import SnapshotNotFound, ValidationError, WorkspaceError
from cleanpath.model.network import Network
from cleanpath.model.schema import DUCKDB_TYPES, TABLES
from cleanpath.store.integrity import (SnapshotCheck, damage_message, is_storage_error,
                                       storage_error, verify)

#: Version of the workspace layout this code reads and writes.
SCHEMA_VERSION = 2
#: Oldest layout a read-only open accepts without migrating: later versions only add columns,
#: which :meth:`Workspace.network` fills with their schema defaults when a stored table lacks them.
READABLE_FROM = 1
DEFAULT_WORKSPACE = "cleanpath.duckdb"
DEFAULT_SNAPSHOT = "main"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def default_workspace_path() -> Path:
    """``$CLEANPATH_WORKSPACE`` or ``./cleanpath.duckdb``."""
    return Path(os.environ.get("CLEANPATH_WORKSPACE") or DEFAULT_WORKSPACE)


def fetch_arrow(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    """A query's result as an Arrow table (the method's name differs across DuckDB versions)."""
    rel = con.sql(query)
    fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
    out = fetch()
    return out if isinstance(out, pa.Table) else out.read_all()


def check_snapshot_name(name: str) -> str:
    """Snapshot names are 1-64 letters, digits, ``_ . -``, starting with a letter or digit."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(f"invalid snapshot name {name!r}: use 1-64 letters, digits, '_', '.', '-', "
                              "starting with a letter or digit")
    return name


def _create_v1(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS cleanpath_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("CREATE SEQUENCE IF NOT EXISTS snapshot_storage_seq START 1")
    con.execute("""
        CREATE TABLE IF NOT EXISTS snapshots (
            name VARCHAR PRIMARY KEY,
            storage VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            source VARCHAR,
            note VARCHAR,
            counts VARCHAR
        )""")


def _add_missing_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Give every stored snapshot's tables the schema's columns they lack, with their defaults."""
    for (storage,) in con.execute("SELECT storage FROM snapshots").fetchall():
        have = {(t, c) for t, c in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ?",
            [storage]).fetchall()}
        for t, spec in TABLES.items():
            if not any(tn == t for tn, _ in have):
                continue
            for c in spec.columns:
                if (t, c.name) in have:
                    continue
                default = "" if c.default is None else f" DEFAULT {_sql_literal(c.default)}"
                con.execute(f'ALTER TABLE "{storage}"."{t}" ADD COLUMN "{c.name}" {DUCKDB_TYPES[c.dtype]}{default}')


def _sql_literal(v) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


#: Migrations: MIGRATIONS[v] takes a workspace from version v - 1 to v.
#: 2: ``links.encrypted`` (bool, default false).
MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {1: _create_v1, 2: _add_missing_columns}


@dataclass(frozen=True)
class SnapshotInfo:
    """A row of the snapshot registry."""

    name: str
    created_at: datetime
    updated_at: datetime
    source: str | None
    note: str | None
    counts: dict[str, int]


class Workspace:
    """A DuckDB file of named network snapshots.

    Use :func:`open_workspace` rather than the constructor.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as e:
            msg = str(e)
            if isinstance(e, duckdb.IOException) and "lock" in msg.lower():
                raise WorkspaceError(f"workspace {self.path} is in use by another process ({msg})") from None
            if is_storage_error(e) and "not a valid duckdb" not in msg.lower():
                raise storage_error(self.path, e, action="opening it") from None
            raise WorkspaceError(f"{self.path} is not a cleanpath workspace (DuckDB says: {e})") from None
        self._networks: dict[tuple[str, str], Network] = {}
        #: Set once every block has been read back (before the first write of this connection).
        self._verified = False
        try:
            self._migrate()
        except BaseException as e:
            # Release the file (and its lock) whatever went wrong; a damaged catalogue or a disk
            # error while migrating is the workspace's fault, not a bug.
            self.con.close()
            if isinstance(e, duckdb.Error) and is_storage_error(e):
                raise storage_error(self.path, e, action="opening it") from None
            raise

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Workspace {str(self.path)!r}: {', '.join(self.snapshot_names()) or 'no snapshots'}>"

    def schema_version(self) -> int:
        has_meta = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'cleanpath_meta' "
            "AND table_schema = 'main'").fetchall()[0][0]
        if not has_meta:
            return 0
        rows = self.con.execute("SELECT value FROM cleanpath_meta WHERE key = 'schema_version'").fetchall()
        return int(rows[0][0]) if rows else 0

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise WorkspaceError(f"workspace {self.path} has layout version {version}; this cleanpath "
                                 f"reads up to {SCHEMA_VERSION}. Upgrade cleanpath.")
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            if version == 0 and not self._has_any_table():
                return  # an empty new file opened read-only: nothing to show, nothing to migrate
            if version >= READABLE_FROM:
                return  # readable as it is: missing columns are filled at load
            raise WorkspaceError(f"workspace {self.path} needs upgrading from version {version}; "
                                 "open it once for writing")
        self.con.begin()
        try:
            for v in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[v](self.con)
            self.con.execute("INSERT OR REPLACE INTO cleanpath_meta VALUES ('schema_version', ?)",
                             [str(SCHEMA_VERSION)])
            self.con.commit()
        except BaseException as e:
            self._rollback_after(e, "upgrading its layout")
            raise

    def _has_any_table(self) -> bool:
        return bool(self.con.execute("SELECT count(*) FROM information_schema.tables").fetchall()[0][0])

    # -- snapshots ---------------------------------------------------------------------------------
    def snapshot_names(self) -> list[str]:
        if self.schema_version() == 0:
            return []
        return [r[0] for r in self.con.execute("SELECT name FROM snapshots ORDER BY name").fetchall()]

    def snapshots(self) -> list[SnapshotInfo]:
        """Every snapshot with its provenance and table sizes."""
        if self.schema_version() == 0:
            return []
        rows = self.con.execute(
            "SELECT name, created_at, updated_at, source, note, counts FROM snapshots ORDER BY name").fetchall()
        return [SnapshotInfo(r[0], r[1], r[2], r[3], r[4], json.loads(r[5] or "{}")) for r in rows]

    def has_snapshot(self, name: str) -> bool:
        return name in self.snapshot_names()

    def _storage(self, name: str) -> str:
        row = None
        if self.schema_version() > 0:
            rows = self.con.execute("SELECT storage FROM snapshots WHERE name = ?", [name]).fetchall()
            row = rows[0] if rows else None
        if row is None:
            have = self.snapshot_names()
            raise SnapshotNotFound(
                f"no snapshot {name!r} in workspace {self.path}"
                + (f"; it has {', '.join(have)}" if have else "; it is empty: run `cleanpath import` "
                   "or `cleanpath generate` first"))
        return row[0]

    def network(self, name: str = DEFAULT_SNAPSHOT) -> Network:
        """Load a snapshot as a :class:`Network` (cached: indexes built on it are reused)."""
        storage = self._storage(name)
        key = (name, storage)
        if key not in self._networks:
            tables = {}
            for t, spec in TABLES.items():
                tbl = fetch_arrow(self.con, f'SELECT * FROM "{storage}"."{t}"')
                tbl = _with_schema_columns(tbl, spec)
                tables[t] = tbl.cast(pa.schema([pa.field(c.name, c.arrow_type) for c in spec.columns])
                                     ).to_pandas(types_mapper=pd.ArrowDtype)
            self._networks = {k: v for k, v in self._networks.items() if k[0] != name}
            self._networks[key] = Network(tables, name=name, validate=False)
        return self._networks[key]

    def write_network(self, name: str, network: Network | Mapping[str, pd.DataFrame], *,
                      source: str | None = None, note: str | None = None,
                      on_table: Callable[[str], None] | None = None) -> SnapshotInfo:
        """Store a network as snapshot ``name``, replacing any earlier version, atomically.

        Parameters
        ----------
        name
            Snapshot name.
        network
            A validated network, or typed tables (as :func:`validate_tables` returns).
        source, note
            Provenance recorded in the registry.
        on_table
            Called after each table is written (progress reporting).
        """
        self._writable()
        check_snapshot_name(name)
        tables = network.tables() if isinstance(network, Network) else dict(network)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        counts = {t: int(len(tables.get(t, ()))) for t in TABLES}
        con = self.con
        storage = None
        con.begin()
        try:
            seq = con.execute("SELECT nextval('snapshot_storage_seq')").fetchall()[0][0]
            storage = f"s{seq}"
            con.execute(f'CREATE SCHEMA "{storage}"')
            for t, spec in TABLES.items():
                cols = ", ".join(f'"{c.name}" {DUCKDB_TYPES[c.dtype]}' for c in spec.columns)
                con.execute(f'CREATE TABLE "{storage}"."{t}" ({cols})')
                df = tables.get(t)
                if df is not None and len(df):
                    arrow = pa.Table.from_pandas(df[spec.column_names], preserve_index=False)
                    con.register("_cleanpath_incoming", arrow)
                    con.execute(f'INSERT INTO "{storage}"."{t}" SELECT * FROM _cleanpath_incoming')
                    con.unregister("_cleanpath_incoming")
                if on_table:
                    on_table(t)
            old_rows = con.execute("SELECT storage FROM snapshots WHERE name = ?", [name]).fetchall()
            old = old_rows[0] if old_rows else None
            if old:
                con.execute("UPDATE snapshots SET storage = ?, updated_at = ?, source = ?, note = ?, "
                            "counts = ? WHERE name = ?",
                            [storage, now, source, note, json.dumps(counts), name])
                con.execute(f'DROP SCHEMA "{old[0]}" CASCADE')
            else:
                con.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [name, storage, now, now, source, note, json.dumps(counts)])
            con.commit()
        except BaseException as e:
            self._rollback_after(e, f"writing snapshot {name!r}", landed=lambda: storage is not None and (
                con.execute("SELECT storage FROM snapshots WHERE name = ?", [name]).fetchall() == [(storage,)]))
            raise
        self._networks = {k: v for k, v in self._networks.items() if k[0] != name}
        if isinstance(network, Network):
            self._networks[(name, storage)] = network
        return next(s for s in self.snapshots() if s.name == name)

    def delete_snapshot(self, name: str) -> None:
        """Remove a snapshot and its data."""
        self._writable()
        storage = self._storage(name)
        self.con.begin()
        try:
            self.con.execute("DELETE FROM snapshots WHERE name = ?", [name])
            self.con.execute(f'DROP SCHEMA "{storage}" CASCADE')
            self.con.commit()
        except BaseException as e:
            self._rollback_after(e, f"deleting snapshot {name!r}", landed=lambda: not self.con.execute(
                "SELECT count(*) FROM snapshots WHERE name = ?", [name]).fetchall()[0][0])
            raise
        self._networks = {k: v for k, v in self._networks.items() if k[0] != name}

    def copy_snapshot(self, src: str, dst: str, *, note: str | None = None) -> SnapshotInfo:
        """Copy snapshot ``src`` to ``dst`` (for what-if edits that keep the original)."""
        net = self.network(src)
        return self.write_network(dst, net.tables(), source=f"copy of {src}", note=note)

    def _writable(self) -> None:
        if self.read_only:
            raise WorkspaceError(f"workspace {self.path} was opened read-only")
        if not self._verified:
            # Never write into a damaged file: every block is read back (checksums verified)
            # before this connection's first write. Later writes add only fresh blocks.
            msg = damage_message(self.path, verify(self.con))
            if msg is not None:
                raise WorkspaceError(msg + " Nothing was written.")
            self._verified = True

    # -- integrity and errors ----------------------------------------------------------------------
    def verify(self) -> list[SnapshotCheck]:
        """Read every block of the registry and of every snapshot; one verdict each.

        See :func:`cleanpath.store.integrity.verify`. A damaged snapshot is reported, not raised.
        """
        return verify(self.con)

    def _rollback_after(self, e: BaseException, action: str,
                        landed: Callable[[], bool] | None = None) -> None:
        """Roll back after ``e`` without letting a failed rollback hide it.

        DuckDB aborts the transaction itself on an I/O error, so the rollback then fails with
        "no transaction is active": that second error said nothing and masked the first. A
        storage error (disk full, damaged block) becomes a :class:`WorkspaceError` that says
        whether the change landed, as observed afterwards with ``landed`` (the registry is read
        back) rather than assumed: an error reported after the commit reached the log would
        otherwise be called a failure.
        """
        try:
            self.con.rollback()
        except duckdb.Error:
            pass  # already aborted; the original error is the one to report
        if isinstance(e, duckdb.Error) and is_storage_error(e):
            written: bool | None = False
            if landed is not None:
                try:
                    written = bool(landed())
                except duckdb.Error:
                    written = None  # the file cannot even be read back: say so
            raise storage_error(self.path, e, action=action, written=written) from None


def _with_schema_columns(tbl: pa.Table, spec) -> pa.Table:
    """``tbl`` with the schema's columns in order; columns an older layout lacks get their default
    (a workspace opened read-only is not migrated)."""
    if tbl.column_names == spec.column_names:
        return tbl
    cols = []
    for c in spec.columns:
        if c.name in tbl.column_names:
            cols.append(tbl.column(c.name))
        else:
            arr = pa.nulls(tbl.num_rows, type=c.arrow_type)
            cols.append(arr if c.default is None else
                        pa.compute.fill_null(arr, pa.scalar(c.default, type=c.arrow_type)))
    return pa.Table.from_arrays(cols, names=spec.column_names)


#: What each public method is doing, for messages when the file fails under it.
_ACTIONS = {"network": "reading a snapshot", "write_network": "writing a snapshot",
            "delete_snapshot": "deleting a snapshot", "copy_snapshot": "copying a snapshot",
            "verify": "verifying it"}


def _storage_errors_as_workspace_errors(cls: type) -> type:
    """Wrap every public method so that a damaged file or a failing disk, whichever method meets
    it, is a :class:`WorkspaceError` with a clear message (CLI exit 2, HTTP 4xx/5xx with a
    message) rather than a DuckDB traceback. Other DuckDB errors are bugs and pass unchanged."""

    def wrap(name: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def method(self, *args, **kwargs):
            try:
                return fn(self, *args, **kwargs)
            except duckdb.Error as e:
                if not is_storage_error(e):
                    raise
                raise storage_error(self.path, e, action=_ACTIONS.get(name, "reading its registry")
                                    ) from None
        return method

    for name, fn in list(vars(cls).items()):
        if callable(fn) and not name.startswith("_") and name != "close":
            setattr(cls, name, wrap(name, fn))
    return cls


_storage_errors_as_workspace_errors(Workspace)


def open_workspace(path: str | Path | None = None, *, read_only: bool = False) -> Workspace:
    """Open (or create) a workspace.

    Parameters
    ----------
    path
        The DuckDB file; default ``$CLEANPATH_WORKSPACE`` or ``./cleanpath.duckdb``.
    read_only
        Open without taking the write lock (several readers may share the file).
    """
    p = Path(path) if path is not None else default_workspace_path()
    if read_only and not p.exists():
        raise WorkspaceError(f"no workspace at {p}; create one with `cleanpath import` or `cleanpath generate`")
    if p.is_dir():
        raise WorkspaceError(f"workspace {p} is a directory; give the path of a workspace file")
    if not read_only:
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise WorkspaceError(f"cannot create the directory of workspace {p}: {e.strerror or e}") from None
    return Workspace(p, read_only=read_only)

