"""The load generator's own ceiling: requests/s one Locust process makes on one core.

`make loader-ceiling` (or `python scripts/loader_ceiling.py [--targets a,b]`). It runs the
plaintext scenario (the cheapest request there is) with many users against each target with
`twinbench run` (the target pinned to CPU 0, Locust to CPU 1), then prints per target the
throughput, how busy Locust and the target were, and the ceiling: throughput / Locust's CPU
share, i.e. what Locust would reach with its core to itself. Where Locust was at ≥ 90 % the
figure is measured; below, the target was the bottleneck and the figure is an extrapolation
(printed as such). Cells of any run above about this rate are generator-bound (marked invalid).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from twinbench.results.store import load_run  # noqa: E402

DEFAULT_TARGETS = "fastapi-uvicorn,flask-gunicorn-gevent"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=DEFAULT_TARGETS)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="twinbench-ceiling-") as tmp:
        out = Path(tmp) / "run"
        cmd = [
            sys.executable, "-m", "twinbench", "run", "--no-progress",
            "--scenarios", "plaintext", "--targets", args.targets,
            "--users", str(args.users), "--repeats", str(args.repeats),
            "--warmup-s", "0.5", "--measure-s", "2.25", "--out", str(out),
        ]  # fmt: skip
        done = subprocess.run(cmd, cwd=ROOT, text=True, capture_output=True, timeout=300)
        if done.returncode != 0:
            print(done.stderr.strip().splitlines()[-1] if done.stderr else "run failed")
            return done.returncode
        results = load_run(out)
    per: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in results.metrics:
        if row.request == "total" and row.value is not None:
            per[row.target][row.metric].append(row.value)
    print(
        f"Locust ceiling on one core, GET /plaintext, {args.users} users, "
        f"{args.repeats} repeats ({results.run.machine.cpu_model})"
    )
    for target, m in per.items():
        rps = statistics.median(m["throughput"])
        loader = statistics.median(m["loader_cpu_util"])
        tgt = statistics.median(m["target_cpu_util"])
        ceiling = rps / loader if loader > 0 else float("nan")
        kind = "measured (Locust saturated)" if loader >= 0.9 else "extrapolated"
        print(
            f"  {target:26s} {rps:8.0f} req/s  Locust CPU {loader:4.0%}  target CPU {tgt:4.0%}"
            f"  → ceiling ≈ {ceiling:,.0f} req/s ({kind})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
