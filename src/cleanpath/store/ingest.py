"""Import files into a workspace snapshot: read, validate, merge, store, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from cleanpath.io.registry import Imported, importer
from cleanpath.model.network import Network, validate_tables
from cleanpath.model.schema import TABLES
from cleanpath.store.workspace import SnapshotInfo, Workspace, check_snapshot_name


@dataclass
class ImportReport:
    """What an import did.

    Attributes
    ----------
    snapshot
        The snapshot written.
    added
        Rows added per table.
    totals
        Rows per table in the snapshot afterwards.
    warnings
        Notes that did not stop the import.
    unknown_vendors
        Vendor names not in the catalogue, with element counts (kept verbatim).
    """

    snapshot: str
    fmt: str
    files: list[str]
    added: dict[str, int]
    totals: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    unknown_vendors: dict[str, int] = field(default_factory=dict)


def ingest(ws: Workspace, fmt: str, paths: Iterable[str | Path], *, snapshot: str = "main",
           replace: bool = False, on_step: Callable[[str], None] | None = None,
           **options: Any) -> ImportReport:
    """Import files of one format into a snapshot.

    The rows are appended to the snapshot (or replace it with ``replace=True``). Everything is
    validated together (types, vocabularies, unique keys, references into the existing snapshot)
    before anything is written, and the write is one transaction: on any error the workspace is
    unchanged.

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
    replace
        Start the snapshot afresh instead of adding to it.
    on_step
        Progress callback, called with a short description of each step.
    **options
        Format-specific options (``vendor``, ``operator_id``, ``country``, ``kind``...).

    Raises
    ------
    ValidationError
        Bad input; nothing was written.
    """
    check_snapshot_name(snapshot)
    paths = [Path(p) for p in paths]
    step = on_step or (lambda _s: None)
    step(f"reading {fmt}")
    got: Imported = importer(fmt)(paths, **options)
    base = ws.network(snapshot) if (ws.has_snapshot(snapshot) and not replace) else None
    step("validating")
    warnings = list(got.warnings)
    tables = validate_tables(got.tables, sources=got.sources, base=base, warnings=warnings)
    net = Network(tables, name=snapshot, validate=False)
    step("writing")
    info: SnapshotInfo = ws.write_network(
        snapshot, net, source=f"{fmt}: {', '.join(str(p) for p in paths)}"[:1000],
        on_table=lambda t: step(f"stored {t}"))
    unknown = net.unknown_vendors()
    added = {t: int(len(got.tables.get(t, ()))) for t in TABLES if t in got.tables}
    return ImportReport(snapshot, fmt, [str(p) for p in paths], added, info.counts, warnings,
                        {str(k): int(v) for k, v in unknown.items()})
