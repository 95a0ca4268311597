"""How heavy and how slow is the report? Prints size and generation time; fails past the budget.

    .venv/bin/python scripts/report_bench.py [RESULTS_DIR ...] [-o reports/bench.html]
    .venv/bin/python scripts/report_bench.py --trend 10 [RESULTS_DIR] [-o reports/bench-trend.html]

With no folder, the newest under results/ is used, or, when there is none, the recorded
quick-profile run of the tests (tests/data/quick-postgres), and the output says so.
Budgets: the quick profile's report at most 5 MB and 20 s; a trend over 10 quick runs at most
10 MB and 60 s. `--trend N` builds the trend from N copies of one quick run (in a temporary
folder, each with its own start time, run id and commit, a package version changed halfway):
the same figures N times, but the same work as N real runs (every folder loaded, analysed,
tabulated and charted). Time is wall clock for the whole `twinbench report` path (loading the
folders and their histograms, the charts, rendering, writing), in this process after imports.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

MB = 1000 * 1000
BUDGETS = {False: (5 * MB, 20.0), True: (10 * MB, 60.0)}  # trend? → (bytes, seconds)
RECORDED = Path(__file__).resolve().parents[1] / "tests" / "data" / "quick-postgres"


def _default_dir() -> tuple[Path, str]:
    from twinbench.errors import UsageError
    from twinbench.report.build import latest_results_dir

    try:
        return latest_results_dir(), ""
    except UsageError:
        return RECORDED, " (no folder under results/: the recorded quick run of the tests)"


def copies(src: Path, n: int, root: Path) -> list[Path]:
    """n copies of one run, an hour apart, a new commit every third, FastAPI bumped halfway."""
    out = []
    for i in range(n):
        dst = root / f"run-{i:02d}"
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("logs", "locust"))
        run = json.loads((dst / "run.json").read_text())
        run["started_utc"] = f"2026-01-01T{i:02d}:00:00Z"
        run["run_id"] = f"20260101T{i:02d}0000Z-b{i:03d}"
        run["git"]["commit"] = f"{i // 3:x}" * 40
        if i >= n // 2 and "fastapi" in run.get("packages", {}):
            run["packages"]["fastapi"] += ".post1"
        (dst / "run.json").write_text(json.dumps(run))
        out.append(dst)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path)
    parser.add_argument("-o", "--out", type=Path)
    parser.add_argument("--trend", type=int, metavar="N", help="a trend over N copies of a run")
    args = parser.parse_args(argv)

    t_import = time.perf_counter()
    from twinbench.report.build import write_report

    imported = time.perf_counter() - t_import
    trend = args.trend is not None
    if trend and args.trend < 3:
        parser.error(f"--trend {args.trend}: a trend needs at least 3 runs")
    note = ""
    dirs = list(args.dirs)
    if not dirs:
        found, note = _default_dir()
        dirs = [found]
    out = args.out or Path("reports/bench-trend.html" if trend else "reports/bench.html")
    with tempfile.TemporaryDirectory(prefix="twinbench-report-bench-") as tmp:
        if trend:
            if len(dirs) != 1:
                parser.error("--trend N copies one results folder")
            note += f"; {args.trend} copies of it (start time, run id, commit, a package varied)"
            source = f"{dirs[0]}{note}"
            dirs = copies(dirs[0], args.trend, Path(tmp))
        else:
            source = ", ".join(map(str, dirs)) + note
        t0 = time.perf_counter()
        model = write_report(dirs, out)
        took = time.perf_counter() - t0
    size = out.stat().st_size
    cells = sum(len(v.results.cells) for v in model.runs)
    charts = sum(len(s.charts) for v in model.runs for s in v.charts)
    charts += sum(len(v.capacity_charts) for v in model.runs) + len(model.trend_charts)
    charts += model.summary_chart is not None
    max_bytes, max_seconds = BUDGETS[trend]
    print(f"report: {out}")
    print(f"from:   {source} ({len(model.runs)} run(s), {cells} cells, {charts} charts)")
    print(f"size:   {size / MB:.2f} MB (budget {max_bytes / MB:.0f} MB)")
    print(f"time:   {took:.1f} s (budget {max_seconds:.0f} s; imports {imported:.1f} s more)")
    over = [w for w, bad in (("size", size > max_bytes), ("time", took > max_seconds)) if bad]
    if over:
        print(f"over budget: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
