"""Domain exceptions.

Every error a user can cause by handing cleanpath bad input is a :class:`ValidationError`
carrying a list of :class:`Problem` records (file, line, column, value, reason). The CLI turns
it into exit code 2, the REST service into HTTP 422.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: At most this many problems are collected before a reader gives up on a file.
MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Attributes
    ----------
    reason
        What is wrong, in words a user can act on.
    file
        The file (or ``archive.zip:member``) the problem is in.
    line
        1-based physical line in a text file; for Parquet, the 1-based row.
    column
        Column name (tables) or 1-based character column (text formats such as GML).
    value
        The offending value, shortened to 80 characters.
    """

    reason: str
    file: str | None = None
    line: int | None = None
    column: str | int | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        if self.value is not None:
            v = str(self.value)
            object.__setattr__(self, "value", v if len(v) <= 80 else v[:77] + "...")

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.column is not None:
            parts.append(f"column {self.column!r}" if isinstance(self.column, str) else f"col {self.column}")
        if self.value is not None:
            parts.append(f"value {self.value!r}")
        return ": ".join([", ".join(parts), self.reason])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CleanpathError(Exception):
    """Base class of every error cleanpath raises on purpose."""


class ValidationError(CleanpathError, ValueError):
    """Input that does not fit the model or its format; nothing was written.

    Parameters
    ----------
    problems
        What is wrong, at most :data:`MAX_PROBLEMS` of them.
    truncated
        True when more problems existed than were collected.
    """

    def __init__(self, problems: list[Problem] | Problem | str, *, truncated: bool = False):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)[:MAX_PROBLEMS]
        self.truncated = truncated or len(problems) > MAX_PROBLEMS
        super().__init__(self._message())

    def _message(self) -> str:
        n = len(self.problems)
        head = f"{n}{'+' if self.truncated else ''} problem{'s' if n != 1 else ''} in the input"
        lines = [head] + [f"  {p}" for p in self.problems]
        if self.truncated:
            lines.append(f"  (stopped after {MAX_PROBLEMS} problems)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": "validation",
            "message": self.problems[0].reason if self.problems else "invalid input",
            "problems": [p.to_dict() for p in self.problems],
            "truncated": self.truncated,
        }


class WorkspaceError(CleanpathError):
    """The workspace cannot do what was asked (missing snapshot, newer schema, locked file)."""


class SnapshotNotFound(WorkspaceError, KeyError):
    """A named snapshot does not exist in the workspace."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "snapshot not found"


class ProblemCollector:
    """Gathers problems up to :data:`MAX_PROBLEMS`, then raises them together.

    Readers call :meth:`add` for every problem and :meth:`raise_if_any` at the end, so a user
    sees up to a hundred things to fix in one go instead of one per run.
    """

    def __init__(self, file: str | None = None):
        self.file = file
        self.problems: list[Problem] = []
        self.truncated = False

    def add(self, reason: str, *, file: str | None = None, line: int | None = None,
            column: str | int | None = None, value: Any = None) -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            self.truncated = True
            return
        self.problems.append(Problem(reason, file or self.file, line,
                                     column, None if value is None else str(value)))

    def extend(self, problems: list[Problem]) -> None:
        for p in problems:
            if len(self.problems) >= MAX_PROBLEMS:
                self.truncated = True
                return
            self.problems.append(p)

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise ValidationError(self.problems, truncated=self.truncated)
