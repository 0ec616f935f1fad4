"""What the CLI reads for a question before asking it: files are a CLI-only input.

Questions read no files (they take tables and ids); the service never reads a path a request names.
The CLI turns the paths a user gives into those inputs here, with the same readers and the same
located errors as ``cleanpath import``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from cleanpath.errors import Problem, ValidationError

#: Suffixes of files of sensitive sites (``--sensitive FILE``).
SENSITIVE_SUFFIXES = (".csv", ".geojson", ".json", ".gz", ".zip")


def looks_like_sensitive_file(spec: str) -> bool:
    """True when a ``--sensitive`` value names a file rather than a kind or an id."""
    return Path(spec).suffix.lower() in SENSITIVE_SUFFIXES or Path(spec).is_file()


def read_sensitive_file(path: str | Path) -> pd.DataFrame:
    """Sensitive sites from a CSV or GeoJSON file, validated as ``cleanpath import sensitive`` does."""
    from cleanpath.io.registry import importer
    from cleanpath.model.network import validate_tables

    imp = importer("sensitive")([Path(path)])
    tables = validate_tables({"sensitive_sites": imp.tables["sensitive_sites"]}, sources=imp.sources)
    return tables["sensitive_sites"]


def read_sensitive_files(specs: Sequence[str], *, face: str) -> dict[str, pd.DataFrame]:
    """The ``--sensitive`` values that name files, read (CLI), or refused (any other face)."""
    names = [s for s in specs if looks_like_sensitive_file(s)]
    if names and face != "cli":
        raise ValidationError(Problem("the service reads no files: name sensitive-site kinds or ids",
                                      file="request", column="sensitive", value=names[0]))
    return {s: read_sensitive_file(s) for s in names}
