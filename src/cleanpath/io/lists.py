"""Lists a user hands the CLI: element ids, one per line or in a CSV column.

Read here, in the importers' layer, with the same defences (size limits, gzip, UTF-8, located
problems); questions take the ids, never the file.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.io.guard import check_text, read_input


def read_element_list(path) -> tuple[list[str], list[int], str]:
    """Element ids from a file: one per line (``#`` comments allowed), or a CSV with an
    ``element_id`` column. Gzip is read transparently, with the usual size limits.

    Returns
    -------
    ids, lines, label
        The ids, the 1-based line each came from, and the file's name for messages.
    """
    f = read_input(path)
    check_text(f, what="element ids (one per line, or a CSV with an element_id column)", csv_quotes=True)
    lines = f.data.decode("utf-8-sig").splitlines()
    header = next(csv.reader([lines[0]])) if lines else []
    ids: list[str] = []
    at: list[int] = []
    if "element_id" in [h.strip() for h in header]:
        col = [h.strip() for h in header].index("element_id")
        problems = ProblemCollector(f.label)
        for no, row in enumerate(csv.reader(lines[1:]), start=2):
            if not row:
                continue
            if col >= len(row) or not row[col].strip():
                problems.add("row has no element_id", line=no, column="element_id", value=",".join(row))
                continue
            ids.append(row[col].strip())
            at.append(no)
        problems.raise_if_any()
    else:
        text = pd.Series(lines, dtype=object).str.strip()
        keep = ((text != "") & ~text.str.startswith("#")).to_numpy(dtype=bool)
        ids = text[keep].tolist()
        at = (np.flatnonzero(keep) + 1).tolist()
    if not ids:
        raise ValidationError(Problem("no element ids in the file", f.label))
    return ids, at, f.label
