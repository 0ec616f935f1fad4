"""Workspace integrity: DuckDB's block checksums, surfaced as clean errors.

DuckDB stores a checksum with every block of its file and verifies it whenever the block is read
from disk ("Corrupt database file: computed checksum ... does not match stored checksum ... in
block at location N"). It has no separate verify command, so :func:`verify` reads every block
that holds data: a scan of every table of every snapshot that hashes every column (hashing forces
each column's segments to be loaded; ``count(*)`` alone would be answered from metadata). The
catalogue and the free list are read, and checked, when the file is opened.

:func:`storage_error` turns DuckDB's corruption and I/O failures (a damaged block, a disk that
is full, a file that cannot be written) into :class:`~cleanpath.errors.WorkspaceError` with a
message that names the workspace, what failed and what to do; other DuckDB errors are bugs and
are left alone.
"""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cleanpath.errors import WorkspaceError

#: DuckDB exception classes that mean the file or the disk, not the query, is at fault.
_STORAGE_CLASSES = (duckdb.IOException, duckdb.FatalException, duckdb.InternalException,
                    duckdb.SerializationException)
#: Words in other DuckDB errors that mean the same ("Failed to commit: Corrupt database file").
_STORAGE_WORDS = re.compile(r"corrupt|checksum|invalidated|metadatareader|no space left|"
                            r"disk full|file too large|could not (?:read|write)|i/o error|"
                            r"io error|unable to open", re.I)
_DISK_FULL = re.compile(r"no space left|disk full|file too large|quota exceeded", re.I)
_BLOCK = re.compile(r"block at location (\d+)", re.I)


def is_storage_error(e: BaseException) -> bool:
    """True if a DuckDB error comes from a damaged file or a failing disk, not from a query."""
    if isinstance(e, OSError):
        return True
    if not isinstance(e, duckdb.Error):
        return False
    return isinstance(e, _STORAGE_CLASSES) or bool(_STORAGE_WORDS.search(str(e)))


def is_disk_full(e: BaseException) -> bool:
    """True for a write refused for lack of space (ENOSPC, EFBIG from a file-size limit, quota)."""
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return True
    return bool(_DISK_FULL.search(str(e)))


def is_corruption(e: BaseException) -> bool:
    """True for a failed block checksum or an unreadable catalogue."""
    return bool(re.search(r"corrupt|checksum|metadatareader|invalidated", str(e), re.I))


def _duckdb_says(e: BaseException) -> str:
    msg = str(e).strip().replace("\n", " ")
    return msg if len(msg) <= 300 else msg[:297] + "..."


def storage_error(path: str | Path, e: BaseException, *, action: str,
                  written: bool | None = None) -> WorkspaceError:
    """A clear :class:`WorkspaceError` for a storage failure while doing ``action``.

    Parameters
    ----------
    path
        The workspace file.
    e
        What DuckDB (or the operating system) raised.
    action
        What was being done ("opening", "reading snapshot 'main'", "writing snapshot 'main'").
    written
        For a write, as observed afterwards: False when nothing was written, True when the
        change landed despite the error, None when that cannot be told (or for a read).
    """
    says = _duckdb_says(e)
    if is_disk_full(e):
        msg = (f"disk full while {action} in workspace {path} ({says})")
        if written is False:
            msg += ("; nothing was written and every earlier snapshot is intact, the workspace is "
                    "still usable: free some space (or raise the file-size limit) and run the "
                    "command again")
        elif written is True:
            msg += ("; the change was nevertheless committed (DuckDB reported the failure after "
                    "its log was written); free some space and run `cleanpath check-workspace`")
        else:
            msg += ("; the workspace cannot be read back to tell whether the change landed: free "
                    "some space and run `cleanpath check-workspace`")
        return WorkspaceError(msg)
    if is_corruption(e):
        m = _BLOCK.search(says)
        where = f" (a damaged block at byte {int(m.group(1)):,} of the file)" if m else ""
        return WorkspaceError(
            f"workspace {path} is damaged{where}: {action} failed because DuckDB found data that "
            f"does not match its checksum ({says}). Nothing was written to it. Run "
            f"`cleanpath check-workspace` to see which snapshots are still readable, export those "
            f"(`cleanpath export`), and restore the file from a backup or re-import.")
    tail = {False: "; nothing was written", True: "; the change was committed nonetheless",
            None: ""}[written]
    return WorkspaceError(f"input/output error while {action} in workspace {path}: {says}{tail}")


@dataclass(frozen=True)
class SnapshotCheck:
    """The verdict on one snapshot (or on the registry itself).

    Attributes
    ----------
    name
        Snapshot name; ``(registry)`` for the workspace's own tables.
    storage
        The schema holding it (``s3``), or ``main`` for the registry.
    ok
        Every block of every table read back with a matching checksum.
    tables
        Tables scanned.
    rows
        Rows scanned.
    problem
        What DuckDB found, when not ok.
    """

    name: str
    storage: str
    ok: bool
    tables: int
    rows: int
    problem: str | None = None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _scan_schema(con: duckdb.DuckDBPyConnection, schema: str,
                 only: tuple[str, ...] | None = None) -> tuple[int, int]:
    """Read every column of every table of ``schema``; returns (tables, rows)."""
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
        "AND table_type = 'BASE TABLE' ORDER BY table_name", [schema]).fetchall()]
    if only is not None:
        tables = [t for t in tables if t in only]
    rows = 0
    for t in tables:
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND "
            "table_name = ? ORDER BY ordinal_position", [schema, t]).fetchall()]
        # hash() of every column makes DuckDB load every segment of the table (and so verify
        # every block's checksum); the aggregate keeps memory flat whatever the table's size.
        expr = f"bit_xor(hash({', '.join(map(_quote, cols))}))" if cols else "0"
        n, _ = con.execute(f"SELECT count(*), {expr} FROM {_quote(schema)}.{_quote(t)}").fetchall()[0]
        rows += int(n)
    return len(tables), rows


def verify(con: duckdb.DuckDBPyConnection) -> list[SnapshotCheck]:
    """Read every block of the registry and of every snapshot; one verdict each.

    A damaged snapshot does not stop the others being checked. If the registry itself cannot be
    read, it is the only verdict (the snapshots cannot be found without it).

    Parameters
    ----------
    con
        An open connection to the workspace (read-only is enough).

    Returns
    -------
    list of SnapshotCheck
        The registry first, then the snapshots by name.
    """
    registry = ("cleanpath_meta", "snapshots")
    try:
        n_tables, n_rows = _scan_schema(con, "main", registry)
        snaps = (con.execute("SELECT name, storage FROM snapshots ORDER BY name").fetchall()
                 if n_tables == 2 else [])
    except duckdb.Error as e:
        if not is_storage_error(e):
            raise
        return [SnapshotCheck("(registry)", "main", False, 0, 0, _duckdb_says(e))]
    out = [SnapshotCheck("(registry)", "main", True, n_tables, n_rows)]
    for name, storage in snaps:
        try:
            n_tables, n_rows = _scan_schema(con, storage)
        except duckdb.Error as e:
            if not is_storage_error(e):
                raise
            out.append(SnapshotCheck(name, storage, False, 0, 0, _duckdb_says(e)))
            continue
        if n_tables == 0:
            out.append(SnapshotCheck(name, storage, False, 0, 0,
                                     f"the registry names schema {storage}, which holds no tables"))
        else:
            out.append(SnapshotCheck(name, storage, True, n_tables, n_rows))
    return out


def damage_message(path: str | Path, checks: list[SnapshotCheck]) -> str | None:
    """One message naming every damaged part, or None when all is well."""
    bad = [c for c in checks if not c.ok]
    if not bad:
        return None
    parts = "; ".join(f"{'the snapshot registry' if c.name == '(registry)' else 'snapshot ' + repr(c.name)}"
                      f" ({c.problem})" for c in bad)
    good = [c.name for c in checks if c.ok and c.name != "(registry)"]
    return (f"workspace {path} is damaged: {parts}. "
            + (f"Still readable: {', '.join(good)} (save them with `cleanpath export`). " if good else "")
            + "Restore the file from a backup or re-import the damaged snapshots into a new workspace.")
