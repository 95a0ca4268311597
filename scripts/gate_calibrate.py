"""`make gate-calibrate`: does `twinbench gate` work on this machine? (a benchmark, not a test)

Measures, and prints:
- the false-alarm rate of A/A gates (the same code on both sides): target ≤ 5 %;
- the detection rate of a planted slowdown of +15 % CPU per request: target ≥ 95 %, and of
  +10 % (reported);
- the wall time of one gate with its default settings: target ≤ 10 minutes.

How: real end-to-end gates, each `twinbench gate` with its default rule and design (a duet:
both sides of a pair at once), taken in turns
(A/A, +15 %, A/A, +10 %, ...) until --budget-s is spent, each under the exclusive CPU lock
(/tmp/twinbench-cpu.lock) so other work can run between them. Every pair every gate measured
goes into a pool per kind (the server restarted per run, the pairs spread over the whole
sitting); the rates then also come from applying the gate's decision rule
(analysis.gate.decide_pairs) to --resamples resampled sequences of each pool's pairs.

The planted slowdown lives only here: the sides are folders made under --out, each serving
the FastAPI twin through `calib_app.py`, an ASGI wrapper that burns CALIB_BURN_US µs of
thread CPU time per request before the twin answers; the baseline burns 0, the planted
candidates burn 10 % or 15 % of the baseline's CPU per request (measured first). The twins
themselves are never changed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from twinbench.analysis.gate import CellFigures, GateRun, Subject, decide_pairs
from twinbench.define.gate import GateRule, Side
from twinbench.results.metrics import Metric

ROOT = Path(__file__).resolve().parents[1]
TWINBENCH = [sys.executable, "-m", "twinbench"]
LOCK = "/tmp/twinbench-cpu.lock"
SUBJECT = Subject("calib", "json")
GATED_KEYS = ("cpu_per_request", "latency_p50", "latency_p99")
NOMINAL = {"p15": 1.15, "p10": 1.10}
NO_SATURATION = ["--saturation-runs", "0"]

CALIB_APP = '''"""Calibration only: the FastAPI twin, plus CALIB_BURN_US µs of CPU per request."""
import os
import time

from twinbench.apps.fastapi_app import create_app

BURN_S = float(os.environ.get("CALIB_BURN_US", "0")) / 1e6
_inner = create_app()


async def app(scope, receive, send):
    if BURN_S and scope["type"] == "http" and scope.get("path") != "/health":
        end = time.thread_time() + BURN_S
        while time.thread_time() < end:
            pass
    await _inner(scope, receive, send)
'''


def side(folder: Path, burn_us: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "calib_app.py").write_text(CALIB_APP)
    (folder / "twinbench.toml").write_text(
        "[[target]]\n"
        'name = "calib"\n'
        'app = "fastapi"\n'
        'server = "uvicorn"\n'
        'command = ["{python}", "-m", "uvicorn", "calib_app:app", "--host", "{host}", '
        '"--port", "{port}", "--workers", "{workers}", "--loop", "uvloop", "--http", '
        '"httptools", "--no-access-log"]\n'
        f'env = {{ CALIB_BURN_US = "{burn_us:.1f}" }}\n'
        'description = "calibration only: the FastAPI twin + a fixed CPU burn per request"\n'
    )
    return folder


def gate(out: Path, base: Path, cand: Path, extra: list[str]) -> dict:
    """One real `twinbench gate` under the exclusive CPU lock; its verdict, time and pairs."""
    t0 = time.monotonic()
    done = subprocess.run(
        ["flock", LOCK, *TWINBENCH, "gate", "--baseline", str(base), "--candidate", str(cand),
         "--config", "twinbench.toml", "--targets", "calib", "--scenarios", "json",
         "--out", str(out), *extra],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.monotonic() - t0
    record = {"out": str(out), "exit": done.returncode, "wall_s": round(wall, 1)}
    if (out / "verdict.json").exists():
        v = json.loads((out / "verdict.json").read_text())
        g = json.loads((out / "gate.json").read_text())
        record.update(
            verdict=v["verdict"],
            pairs=v["pairs"],
            discarded=v["discarded_runs"],
            elapsed_s=v["elapsed_s"],
            rate=v["rate_rps"],
            cpu=next(m for m in v["metrics"] if m["metric"] == "cpu"),
            runs=g["runs"],
        )
    else:
        record["stderr"] = done.stderr[-2000:]
    return record


def pool_pairs(records: list[dict]) -> list[tuple[dict, dict]]:
    """(baseline cell, candidate cell) of every complete pair of these gates."""
    out = []
    for rec in records:
        kept: dict[tuple[int, str], dict] = {}
        for r in rec.get("runs", []):
            if r["kept"]:
                kept[(r["pair"], r["side"])] = r["cells"][SUBJECT.key]
        for p in sorted({p for p, _ in kept}):
            if (p, "baseline") in kept and (p, "candidate") in kept:
                out.append((kept[(p, "baseline")], kept[(p, "candidate")]))
    return out


def _cell(c: dict) -> CellFigures:
    return CellFigures(
        {Metric(k): float(v) for k, v in c["values"].items()}, c["requests"], c["failures"]
    )


def centred(pairs: list[tuple[dict, dict]], cpu_ratio: float = 1.0) -> list[tuple[dict, dict]]:
    """The pool with each gated metric's mean ln(candidate/baseline) moved to 0: the null
    hypothesis made exact. An A/A pool's mean is 0 only up to its sampling error (±noise/√n);
    resampled as it is, a small pool's chance offset acts like a real slowdown.
    `cpu_ratio` != 1 (a planted pool): only CPU per request is moved, to exactly that mean
    ratio (the burn is a share of the setup's CPU per request, so the measured effect
    differs from the nominal one); latency keeps its measured effect."""
    shift = {}
    metrics = ("cpu_per_request",) if cpu_ratio != 1.0 else GATED_KEYS
    for m in metrics:
        d = [np.log(c["values"][m] / b["values"][m]) for b, c in pairs if m in b["values"]]
        shift[m] = float(cpu_ratio * np.exp(-np.mean(d))) if d else 1.0
    out = []
    for b, c in pairs:
        vals = {m: v * shift.get(m, 1.0) for m, v in c["values"].items()}
        out.append((b, {**c, "values": vals}))
    return out


def resample(pairs: list[tuple[dict, dict]], rule: GateRule, trials: int, seed: int) -> dict:
    """The decision rule on `trials` sequences of pairs drawn (with replacement) from the pool."""
    rng = np.random.default_rng(seed)
    n = rule.max_pairs + rule.confirm_pairs
    verdicts: dict[str, int] = {}
    cpu: dict[str, int] = {}
    used = []
    for _ in range(trials):
        runs = []
        for i, k in enumerate(rng.integers(0, len(pairs), n)):
            b, c = pairs[int(k)]
            runs.append(GateRun(Side.BASELINE, 2 * i + 1, i + 1, True, "", {SUBJECT.key: _cell(b)}))
            runs.append(
                GateRun(Side.CANDIDATE, 2 * i + 2, i + 1, True, "", {SUBJECT.key: _cell(c)})
            )
        a = decide_pairs([SUBJECT], runs, rule)
        verdicts[a.verdict.value] = verdicts.get(a.verdict.value, 0) + 1
        v = next(o.verdict for o in a.outcomes if o.threshold.name == "cpu")
        cpu[v.value] = cpu.get(v.value, 0) + 1
        used.append(a.pairs)
    return {
        "trials": trials,
        "pool_pairs": len(pairs),
        "overall": {k: v / trials for k, v in sorted(verdicts.items())},
        "cpu": {k: v / trials for k, v in sorted(cpu.items())},
        "mean_pairs_used": float(np.mean(used)),
    }


def pool_stats(pairs: list[tuple[dict, dict]]) -> dict:
    d = [np.log(c["values"]["cpu_per_request"] / b["values"]["cpu_per_request"]) for b, c in pairs]
    base = [b["values"]["cpu_per_request"] for b, _ in pairs]
    return {
        "pairs": len(d),
        "cpu_ratio_geomean": float(np.exp(np.mean(d))) if d else None,
        "cpu_log_ratio_sd": float(np.std(d, ddof=1)) if len(d) > 1 else None,
        "baseline_cpu_us_median": statistics.median(base) if base else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=Path("results") / time.strftime("%Y%m%dT%H%M%SZ-calibrate", time.gmtime()),
    )
    ap.add_argument("--budget-s", type=float, default=3000.0, help="stop starting gates after this")
    ap.add_argument(
        "--order",
        default="aa,p15,aa,p15,aa,p10",
        help="the turn of gate kinds (aa, p15, p10; '-pool' after one: pairs for its pool only)",
    )
    ap.add_argument("--rounds", type=int, default=1000, help="times through --order at most")
    ap.add_argument("--pool-pairs", type=int, default=12, help="pairs of a '-pool' gate")
    ap.add_argument(
        "--no-saturation",
        action="store_true",
        help="real gates skip the saturation runs (reported, never gated) to save time",
    )
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument(
        "--analyse-only", action="store_true", help="resample the gates already in --out"
    )
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    log = out / "gates.jsonl"
    cal = out / "calibration.json"
    started = time.monotonic()
    if not args.analyse_only:
        settings = json.loads(cal.read_text()) if cal.exists() else {}
        base = side(out / "sides" / "base", 0.0)
        base2 = side(out / "sides" / "base2", 0.0)
        if "cpu_us" not in settings:
            # A short A/A gate: the rate (its probe) and the baseline's CPU per request.
            rec = gate(out / "gates" / "000-setup", base, base2,
                       ["--pairs", "2", "--confirm-pairs", "2", "--max-pairs", "2"])  # fmt: skip
            if "runs" not in rec:
                print(f"setup gate failed:\n{rec.get('stderr', '')}", file=sys.stderr)
                return 1
            cpu = [r["cells"][SUBJECT.key]["values"]["cpu_per_request"] for r in rec["runs"]
                   if r["kept"]]  # fmt: skip
            settings = {"cpu_us": statistics.median(cpu), "rate": rec["rate"]}
            cal.write_text(json.dumps(settings, indent=1))
            print(f"setup: {settings['cpu_us']:.0f} µs/request at {settings['rate']:g} req/s")
        planted = {
            "p15": side(out / "sides" / "slow15", 0.15 * settings["cpu_us"]),
            "p10": side(out / "sides" / "slow10", 0.10 * settings["cpu_us"]),
        }
        order = args.order.split(",")
        k = len(list((out / "gates").glob("[0-9]*"))) if (out / "gates").exists() else 0
        turn = 0
        while time.monotonic() - started < args.budget_s and turn < len(order) * args.rounds:
            kind = order[turn % len(order)]
            turn += 1
            plain = kind.removesuffix("-pool")
            cand = base2 if plain == "aa" else planted[plain]
            k += 1
            # A "-pool" gate only adds pairs to its kind's pool: at least --pool-pairs of
            # them before the first look, no saturation runs. Every other gate is a real
            # gate with the default settings (--no-saturation: without the saturation runs
            # after the verdict, which never change it), counted in the verdict rates.
            pool = ["--pairs", str(args.pool_pairs), "--max-pairs", str(args.pool_pairs),
                    "--max-seconds", str(60 + 35 * args.pool_pairs)]  # fmt: skip
            if kind.endswith("-pool"):
                extra = pool + NO_SATURATION
            else:
                extra = NO_SATURATION if args.no_saturation else []
            rec = gate(out / "gates" / f"{k:03d}-{kind}", base, cand, extra)
            rec["kind"] = kind
            rec["args"] = extra
            with log.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            print(f"gate {k} {kind}: {rec.get('verdict', 'error')} (exit {rec['exit']}), "
                  f"{rec.get('pairs', 0)} pairs, {rec['wall_s']:.0f} s", flush=True)  # fmt: skip
    records = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
    rule = GateRule()
    summary: dict = {"gates": {}, "pools": {}, "resampled": {}}
    for kind in ("aa", "p15", "p10"):
        pooled = [r for r in records if r.get("kind") in (kind, f"{kind}-pool") and "verdict" in r]
        recs = [r for r in pooled if r.get("kind") == kind]
        if not pooled:
            continue
        counts: dict[str, int] = {}
        for r in recs:
            counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        own = [r["elapsed_s"] for r in recs]  # the gate's own clock (no wait for the lock)
        if recs:
            summary["gates"][kind] = {
                "n": len(recs),
                "verdicts": counts,
                "pairs_used": [r["pairs"] for r in recs],
                "gate_s_max": max(own),
                "gate_s_median": statistics.median(own),
                "wall_s_max_with_lock_wait": max(r["wall_s"] for r in recs),
            }
        pairs = pool_pairs(pooled)
        summary["pools"][kind] = pool_stats(pairs)
        if len(pairs) >= 2:
            summary["resampled"][kind] = resample(pairs, rule, args.resamples, seed=20261202)
            if kind == "aa":
                summary["resampled"]["aa_centred"] = resample(
                    centred(pairs), rule, args.resamples, seed=20261203
                )
            else:  # the planted pool moved to exactly its nominal effect on CPU per request
                summary["resampled"][f"{kind}_nominal"] = resample(
                    centred(pairs, NOMINAL[kind]), rule, args.resamples, seed=20261204
                )
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))
    aa = summary["resampled"].get("aa", {}).get("overall", {})
    aac = summary["resampled"].get("aa_centred", {}).get("overall", {})
    p15 = summary["resampled"].get("p15", {}).get("overall", {})
    p10 = summary["resampled"].get("p10", {}).get("overall", {})
    p15n = summary["resampled"].get("p15_nominal", {}).get("overall", {})
    p10n = summary["resampled"].get("p10_nominal", {}).get("overall", {})
    longest = max((g["gate_s_max"] for g in summary["gates"].values()), default=0)
    print(
        f"\nA/A false alarms (resampled): {aa.get('regression', 0):.1%} as pooled, "
        f"{aac.get('regression', 0):.1%} centred on 0 (target ≤ 5 %); "
        f"+15 % detected: {p15.get('regression', 0):.1%} as measured, "
        f"{p15n.get('regression', 0):.1%} at exactly +15 % (target ≥ 95 %); "
        f"+10 % detected: {p10.get('regression', 0):.1%} as measured, "
        f"{p10n.get('regression', 0):.1%} at exactly +10 %; "
        f"longest gate: {longest:.0f} s "
        "(target ≤ 600 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
