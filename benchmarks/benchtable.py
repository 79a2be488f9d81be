"""Shared helper of every ``benchmarks/*.py``: tables with targets, legends, timings, JSON.

A benchmark builds one :class:`Report` with one or more :class:`Table`s::

    from benchtable import Report, Target, best_of, progress

    rep = Report("ray", "Ray executor vs local processes", params={"videos": 20})
    tab = rep.table(["path", "workers", "frames/s", "ratio"], baseline="local, 1 process")
    t = best_of(run_local, repeat=3)                 # Timing: best, spread, every run
    tab.row(["local", 1, t.rate(frames), 1.0])      # an info row (no target)
    tab.row(["ray", 2, fps2, fps2 / fps1], target=Target(">=", 1.7), value=fps2 / fps1)
    rep.legend("*", "offline filter (uses future frames)")
    rep.finish()                                     # prints tables + legend, writes JSON (+ .md)

Every row with a target gets a ``status`` of ``met`` / ``missed`` (``n/a`` when the value could
not be measured); the table prints the target and the status in their own columns, and the
legend explains every marker used. :meth:`Report.finish` writes ``<name>.json`` and ``<name>.md``
into ``$WFLWV_BENCH_DIR`` (default ``build/bench`` of the repository); ``benchmarks/summary.py``
collects them into the one table that ends ``make bench``. Progress bars (:func:`progress`) are
drawn only when stdout and stderr are terminals, so logs stay readable.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
MET, MISSED, NA = "met", "missed", "n/a"


def bench_dir() -> Path:
    """Folder receiving the JSON/Markdown of every benchmark (``$WFLWV_BENCH_DIR`` or build/bench)."""
    return Path(os.environ.get("WFLWV_BENCH_DIR") or REPO / "build" / "bench")


def is_tty() -> bool:
    """True when both stdout and stderr are terminals (progress bars are then worth drawing)."""
    return sys.stdout.isatty() and sys.stderr.isatty()


def progress(iterable: Optional[Iterable] = None, **kw: Any):
    """A tqdm bar over ``iterable`` that is disabled when output is not a terminal."""
    from tqdm import tqdm

    kw.setdefault("leave", False)
    off = bool(kw.pop("disable", False)) or not is_tty()
    return tqdm(iterable, disable=off, **kw)


def quiet_progress_env() -> None:
    """Make wflwv's own bars silent in child code/processes when output is not a terminal."""
    if not is_tty():
        os.environ["WFLWV_NO_TQDM"] = "1"


@dataclass(frozen=True)
class Target:
    """A pass condition on one number: ``op`` in ``>= > <= < ~`` and a ``bound``.

    ``~`` means "about": ``|value - bound| <= tol`` (``tol`` defaults to 10 % of ``bound``);
    ``holds`` (see :meth:`holds`) is a yes/no check met by a true value (e.g. "outputs identical").
    """

    op: str
    bound: float
    tol: Optional[float] = None
    unit: str = ""

    def __post_init__(self) -> None:
        if self.op not in (">=", ">", "<=", "<", "~", "holds"):
            raise ValueError(f"target op must be one of >= > <= < ~ holds, got {self.op!r}")

    @classmethod
    def holds(cls) -> "Target":
        """A yes/no target: met when the row's value is true."""
        return cls("holds", 1.0)

    def met(self, value: Optional[float]) -> Optional[bool]:
        """Whether ``value`` meets the target (None when the value is missing or NaN)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if self.op == "holds":
            return bool(value)
        if self.op == "~":
            tol = abs(self.bound) * 0.1 if self.tol is None else self.tol
            return abs(value - self.bound) <= tol
        return {">=": value >= self.bound, ">": value > self.bound,
                "<=": value <= self.bound, "<": value < self.bound}[self.op]

    def __str__(self) -> str:
        if self.op == "holds":
            return "must hold"
        tol = "" if self.op != "~" else f" ±{abs(self.bound) * 0.1 if self.tol is None else self.tol:g}"
        return f"{self.op} {self.bound:g}{tol}{self.unit}"


@dataclass
class Timing:
    """Wall times of repeated runs of one measurement: best, median and spread."""

    times: List[float]
    result: Any = field(default=None, repr=False)

    @property
    def best(self) -> float:
        """Fastest run (seconds): the least disturbed by other load on the machine."""
        return min(self.times)

    @property
    def median(self) -> float:
        """Median run (seconds)."""
        return statistics.median(self.times)

    @property
    def spread(self) -> float:
        """(slowest - fastest) / fastest: how noisy the measurement was (0 for a single run)."""
        return (max(self.times) - self.best) / self.best if self.best > 0 else 0.0

    def rate(self, n: float) -> float:
        """``n`` items per second at the best time."""
        return n / self.best if self.best > 0 else float("nan")

    def cell(self, unit: str = "s") -> str:
        """``"1.234 s ±5%"`` (``±`` = spread over the runs; omitted for one run)."""
        scale = {"s": 1.0, "ms": 1e3, "us": 1e6}[unit]
        txt = f"{self.best * scale:.3f} {unit}" if self.best * scale < 100 else f"{self.best * scale:.1f} {unit}"
        return txt + (f" ±{100 * self.spread:.0f}%" if len(self.times) > 1 else "")

    def to_dict(self) -> Dict[str, Any]:
        """JSON form: every run, best, median, spread."""
        return {"best_s": self.best, "median_s": self.median, "spread": self.spread, "runs_s": self.times}


def best_of(fn: Callable[[], Any], repeat: int = 3, warmup: int = 0) -> Timing:
    """Run ``fn`` ``warmup`` + ``repeat`` times; time the last ``repeat`` (result of the fastest kept)."""
    for _ in range(warmup):
        fn()
    times, best_res, best_t = [], None, float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        res = fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        if dt < best_t:
            best_t, best_res = dt, res
    return Timing(times, best_res)


def _fmt(v: Any) -> str:
    if isinstance(v, Timing):
        return v.cell()
    if isinstance(v, bool) or v is None:
        return "" if v is None else ("yes" if v else "NO")
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        a = abs(v)
        return f"{v:.3g}" if a < 0.01 and a > 0 else f"{v:,.0f}" if a >= 1000 else f"{v:.2f}"
    return str(v)


def _jsonable(v: Any) -> Any:
    if isinstance(v, Timing):
        return v.to_dict()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item") and callable(v.item):   # numpy scalars
        return _jsonable(v.item())
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


class Table:
    """Rows of one benchmark table; rows with a :class:`Target` carry ``met`` / ``missed``."""

    def __init__(self, title: str, columns: Sequence[str], baseline: Optional[str] = None):
        self.title = title
        self.columns = list(columns)
        self.baseline = baseline
        self.rows: List[Dict[str, Any]] = []

    def row(self, cells: Sequence[Any], target: Optional[Target] = None, value: Optional[float] = None,
            note: str = "") -> Dict[str, Any]:
        """Add a row; with ``target``, ``value`` (default: the last numeric cell) is judged."""
        cells = list(cells)
        if len(cells) != len(self.columns):
            raise ValueError(f"row has {len(cells)} cells for {len(self.columns)} columns {self.columns}")
        if target is not None and value is None:
            nums = [c for c in cells if isinstance(c, (int, float)) and not isinstance(c, bool)]
            value = float(nums[-1]) if nums else None
        ok = target.met(value) if target is not None else None
        status = "" if target is None else (NA if ok is None else MET if ok else MISSED)
        r = {"cells": cells, "target": str(target) if target else "", "value": value,
             "status": status, "note": note}
        self.rows.append(r)
        return r

    def render(self) -> str:
        """The table as aligned Markdown (target/status columns only when some row has a target)."""
        has_t = any(r["target"] for r in self.rows)
        has_n = any(r["note"] for r in self.rows)
        head = self.columns + (["target", "status"] if has_t else []) + (["note"] if has_n else [])
        body = []
        for r in self.rows:
            line = [_fmt(c) for c in r["cells"]]
            if has_t:
                line += [r["target"], r["status"].upper() if r["status"] == MISSED else r["status"]]
            if has_n:
                line.append(r["note"])
            body.append(line)
        widths = [max([len(h)] + [len(b[i]) for b in body]) for i, h in enumerate(head)]

        def fmt(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                     for i, (c, w) in enumerate(zip(cells, widths))) + " |"

        out = [f"### {self.title}" + (f"  (baseline: {self.baseline})" if self.baseline else ""), "",
               fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [fmt(b) for b in body]
        return "\n".join(out)

    def to_dict(self) -> Dict[str, Any]:
        """JSON form of the table."""
        return {"title": self.title, "columns": self.columns, "baseline": self.baseline,
                "rows": [{**r, "cells": [_jsonable(c) for c in r["cells"]], "value": _jsonable(r["value"])}
                         for r in self.rows]}


class Report:
    """One benchmark run: tables, a legend of markers, parameters; printed and saved by ``finish``."""

    def __init__(self, name: str, title: str, params: Optional[Dict[str, Any]] = None):
        self.name = name
        self.title = title
        self.params = dict(params or {})
        self.tables: List[Table] = []
        self.legends: Dict[str, str] = {}
        self.notes: List[str] = []
        self.extra: Dict[str, Any] = {}
        self.t0 = time.perf_counter()
        quiet_progress_env()

    def table(self, columns: Sequence[str], title: Optional[str] = None,
              baseline: Optional[str] = None) -> Table:
        """Start a new table (printed in creation order)."""
        t = Table(title or self.title, columns, baseline)
        self.tables.append(t)
        return t

    def legend(self, marker: str, meaning: str) -> None:
        """Explain a marker used in any cell (printed under the tables)."""
        self.legends[marker] = meaning

    def note(self, text: str) -> None:
        """A free line printed under the tables (e.g. what a number does and does not mean)."""
        self.notes.append(text)

    @property
    def rows(self) -> List[Dict[str, Any]]:
        """Every row of every table."""
        return [r for t in self.tables for r in t.rows]

    def render(self) -> str:
        """Header, tables, legend and notes as Markdown text."""
        p = ", ".join(f"{k}={v}" for k, v in self.params.items())
        out = [f"## {self.name}: {self.title}", "", f"{_machine()}" + (f"; {p}" if p else ""), ""]
        for t in self.tables:
            out += [t.render(), ""]
        legend = dict(self.legends)
        if any(r["target"] for r in self.rows):
            legend.setdefault("met / MISSED", "the row's value against its target (n/a: not measured)")
        if any(isinstance(c, Timing) and len(c.times) > 1 for r in self.rows for c in r["cells"]):
            legend.setdefault("±N%", "spread of the repeated runs: (slowest - fastest) / fastest; "
                                     "the fastest run is reported")
        if legend:
            out.append("Legend: " + "; ".join(f"`{k}` {v}" for k, v in legend.items()))
        out += self.notes
        return "\n".join(out).rstrip() + "\n"

    def to_dict(self) -> Dict[str, Any]:
        """JSON form of the whole report."""
        return {"name": self.name, "title": self.title, "params": {k: _jsonable(v) for k, v in self.params.items()},
                "machine": _machine(), "legend": self.legends, "notes": self.notes,
                "tables": [t.to_dict() for t in self.tables],
                "extra": json.loads(json.dumps(self.extra, default=_jsonable)),
                "wall_s": time.perf_counter() - self.t0,
                "status": {"met": sum(r["status"] == MET for r in self.rows),
                           "missed": sum(r["status"] == MISSED for r in self.rows),
                           "n/a": sum(r["status"] == NA for r in self.rows)}}

    def finish(self, out_dir: Optional[Path] = None) -> Path:
        """Print the report and write ``<name>.json`` + ``<name>.md``; returns the JSON path."""
        text = self.render()
        print("\n" + text, flush=True)
        d = Path(out_dir) if out_dir is not None else bench_dir()
        d.mkdir(parents=True, exist_ok=True)
        sys.path.insert(0, str(REPO))
        from wflwv.io.atomic import atomic_write_json, atomic_write_text

        path = d / f"{self.name}.json"
        atomic_write_json(path, self.to_dict())
        atomic_write_text(d / f"{self.name}.md", text)
        print(f"(written {path} and {self.name}.md)", flush=True)
        return path


def _machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{os.cpu_count()} CPUs, load {load:.1f}, Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
