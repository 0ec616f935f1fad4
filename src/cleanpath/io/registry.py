"""The importers, by format name, and what each returns.

An importer reads files of one real-world format and returns model tables (raw text or typed
values, interchange column names) with the source of each, for :func:`cleanpath.store.ingest.ingest`
to validate, merge and store in one transaction. Importers never touch the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Callable

import pandas as pd

from cleanpath.errors import Problem
from cleanpath.model.validate import Source


@dataclass
class Imported:
    """What an importer hands back.

    Attributes
    ----------
    tables
        Model tables by name, interchange column names.
    sources
        Where each table's rows came from (file and line mapping) for error messages.
    warnings
        Notes for the user that do not stop the import (ignored columns, unknown vendors...).
    locate
        Rewrites a validation problem in the source's own terms (a mapped import names the
        source's column, not the model's); None keeps problems as they are.
    """

    tables: dict[str, pd.DataFrame]
    sources: dict[str, Source] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    locate: Callable[[Problem], Problem] | None = None


#: format name -> "module:function"; each function takes (paths, **options) -> Imported.
IMPORTERS: dict[str, str] = {
    "tables": "cleanpath.io.tables:import_tables",
    "topologyzoo": "cleanpath.io.topologyzoo:import_topologyzoo",
    "opencellid": "cleanpath.io.opencellid:import_opencellid",
    "cyclonedx": "cleanpath.io.cyclonedx:import_cyclonedx",
    "sensitive": "cleanpath.io.sensitive:import_sensitive",
    # any CSV or Excel export through a mapping file (`cleanpath import tables FILES --map M`)
    "mapped": "cleanpath.io.mapped:import_mapped",
}

#: Importers that read a server rather than files (same signature, ``paths`` empty); kept apart
#: from :data:`IMPORTERS` because file uploads (the service) and file guards do not apply to them.
SOURCES: dict[str, str] = {
    "netbox": "cleanpath.io.netbox:import_netbox",
}


def importer(fmt: str) -> Callable[..., Imported]:
    """The import function of a format."""
    known = {**IMPORTERS, **SOURCES}
    if fmt not in known:
        from cleanpath.errors import ValidationError

        raise ValidationError(f"unknown import format {fmt!r}; known: {', '.join(known)}")
    mod, func = known[fmt].split(":")
    return getattr(import_module(mod), func)


def as_paths(paths) -> list[Path]:
    return [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
