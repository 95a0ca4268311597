"""How heavy and how slow is the report? Prints size and generation time; fails past the budget.

    .venv/bin/python scripts/report_bench.py [RESULTS_DIR ...] [-o reports/bench.html]

With no folder, the newest under results/ is used. Budget (the quick profile's report):
at most 5 MB and 20 s. Time is wall clock for the whole `twinbench report` path (loading the
folder and its histograms, the charts, rendering, writing), in this process after imports.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

MAX_BYTES = 5 * 1000 * 1000
MAX_SECONDS = 20.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path)
    parser.add_argument("-o", "--out", type=Path, default=Path("reports/bench.html"))
    args = parser.parse_args(argv)

    t_import = time.perf_counter()
    from twinbench.report.build import latest_results_dir, write_report

    imported = time.perf_counter() - t_import
    dirs = args.dirs or [latest_results_dir()]
    t0 = time.perf_counter()
    model = write_report(dirs, args.out)
    took = time.perf_counter() - t0
    size = args.out.stat().st_size
    cells = sum(len(v.results.cells) for v in model.runs)
    charts = sum(len(s.charts) for v in model.runs for s in v.charts)
    charts += sum(len(v.capacity_charts) for v in model.runs)
    print(f"report: {args.out}")
    print(f"from:   {', '.join(map(str, dirs))} ({cells} cells, {charts} charts)")
    print(f"size:   {size / 1e6:.2f} MB (budget {MAX_BYTES / 1e6:.0f} MB)")
    print(f"time:   {took:.1f} s (budget {MAX_SECONDS:.0f} s; imports {imported:.1f} s more)")
    over = [what for what, bad in (("size", size > MAX_BYTES), ("time", took > MAX_SECONDS)) if bad]
    if over:
        print(f"over budget: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
