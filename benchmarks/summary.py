"""One table over every benchmark JSON of ``$WFLWV_BENCH_DIR``: each targeted row, met or missed.

``make bench`` runs every ``benchmarks/*.py`` (each writes ``<name>.json`` through
``benchtable.Report.finish``) and ends with this script. Exit status 0 even when targets are
missed (a benchmark reports; it does not fail a build). Run: ``python benchmarks/summary.py [DIR]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Sequence

sys.path.append(str(Path(__file__).resolve().parent))  # last: benchmarks/ray.py must not shadow ray

from benchtable import Report, bench_dir  # noqa: E402


def summarise(folder: Path, expect: Sequence[str] = ()) -> Report:
    """A report with one row per targeted row of every ``*.json`` in ``folder`` (+ one per file).

    A benchmark named in ``expect`` without a JSON (it crashed) gets a ``failed`` row.
    """
    rep = Report("summary", f"every benchmark target ({folder})")
    tab = rep.table(["benchmark", "row", "value", "target", "status"], title="all targets")
    files = sorted(p for p in folder.glob("*.json") if p.stem != "summary")
    for name in expect:
        if not (folder / f"{name}.json").is_file():
            tab.row([name, "no JSON written: the benchmark failed (see its output above)", None, "", "failed"])
    for p in files:
        try:
            d = json.loads(p.read_text())
        except (OSError, ValueError) as exc:
            tab.row([p.stem, f"unreadable JSON: {exc}", None, "", "n/a"])
            continue
        n = 0
        for t in d.get("tables", []):
            for r in t.get("rows", []):
                if not r.get("target"):
                    continue
                label = " / ".join(str(c) for c in r["cells"][:2] if c not in (None, ""))
                tab.row([d.get("name", p.stem), label[:60], r.get("value"), r["target"], r["status"]])
                n += 1
        if n == 0:
            tab.row([d.get("name", p.stem), "(no targets: information only)", None, "", ""])
    if not files:
        rep.note(f"no benchmark JSON under {folder}: run `make bench` or a benchmarks/*.py script first")
    st = [r["cells"][4] for r in tab.rows]
    rep.note(f"\n{st.count('met')} met, {st.count('missed')} missed, {st.count('n/a')} not measured, "
             f"{st.count('failed')} failed over {len(files)} benchmark(s).")
    rep.legend("met / missed", "the benchmark's own verdict for that row (see its table for details)")
    rep.legend("failed", "the benchmark exited before writing its JSON")
    return rep


def main() -> None:
    """Parse ``[DIR] [--expect "a b c"]`` and print/write the summary."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=None)
    ap.add_argument("--expect", default="", help="space-separated benchmark names that must have a JSON")
    a = ap.parse_args()
    folder = a.folder or bench_dir()
    summarise(folder, a.expect.split()).finish(folder)


if __name__ == "__main__":
    main()
