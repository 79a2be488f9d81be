"""Validation problems found while building an index, and the ``validation.csv`` report."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from typing import List, Optional

REPORT_COLUMNS = ("severity", "check", "video_id", "frame", "file", "message")


@dataclass(frozen=True)
class Problem:
    """One row of the validation report (``severity`` is ``error`` or ``warning``)."""

    severity: str
    check: str
    message: str
    video_id: str = ""
    frame: Optional[int] = None
    file: str = ""


class BuildError(ValueError):
    """A build stopped on a validation error (``on_error="raise"``); nothing was written."""

    def __init__(self, message: str, problems: Optional[List[Problem]] = None):
        super().__init__(message)
        self.problems = list(problems or [])

    def __reduce__(self):  # picklable across worker processes
        return (BuildError, (str(self), self.problems))


class VideoFailed(Exception):
    """Internal: the current video failed a check (its :class:`Problem` is attached)."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


class Report:
    """Collects problems; with ``on_error="raise"`` the first error raises :class:`BuildError`."""

    def __init__(self, on_error: str = "raise"):
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.on_error = on_error
        self.problems: List[Problem] = []

    def warn(self, check: str, message: str, **where) -> Problem:
        """Record a warning (never raises)."""
        p = Problem("warning", check, message, **where)
        self.problems.append(p)
        return p

    def error(self, check: str, message: str, fatal: bool = False, **where) -> Problem:
        """Record an error; raise :class:`BuildError` when ``on_error="raise"`` or ``fatal``."""
        p = Problem("error", check, message, **where)
        self.problems.append(p)
        if fatal or self.on_error == "raise":
            raise BuildError(message, [p])
        return p

    @property
    def n_errors(self) -> int:
        """Number of error rows."""
        return sum(p.severity == "error" for p in self.problems)

    @property
    def n_warnings(self) -> int:
        """Number of warning rows."""
        return sum(p.severity == "warning" for p in self.problems)

    def to_csv(self) -> str:
        """The report as CSV text with a header row (always written, possibly empty)."""
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=REPORT_COLUMNS, lineterminator="\n")
        w.writeheader()
        for p in self.problems:
            row = asdict(p)
            row["frame"] = "" if row["frame"] is None else row["frame"]
            w.writerow(row)
        return buf.getvalue()
