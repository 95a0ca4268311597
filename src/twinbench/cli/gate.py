"""`twinbench gate`: options → GateOptions (every check before anything runs) → run.gate."""

from __future__ import annotations

import math
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import click

from twinbench.define.gate import Design, GateRule, parse_percent, with_thresholds
from twinbench.errors import UsageError
from twinbench.results.gate import SUMMARY_FILE, verdict_lines, write_gate
from twinbench.results.store import check_out_dir
from twinbench.run.cpus import check_available, format_cpu_list, parse_cpu_list
from twinbench.run.database import check_reachable, resolve_database
from twinbench.run.gate import GateOptions, execute_gate, to_record

DEFAULT_TARGETS = "fastapi-uvicorn"


def _split(flag: str, text: str) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in text.split(",") if p.strip())
    if not parts:
        raise UsageError(f"{flag} {text!r}: names no target or scenario")
    return parts


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _finite(flag: str, value: float | None) -> float | None:
    if value is not None and (not math.isfinite(value) or value <= 0):
        raise UsageError(f"{flag} {value}: must be a finite number above 0")
    return value


@click.command()
@click.option("--baseline", required=True, help="Git revision (e.g. main) or folder.")
@click.option("--candidate", required=True, help="Git revision (e.g. HEAD) or folder.")
@click.option(
    "--targets",
    default=DEFAULT_TARGETS,
    show_default=True,
    help="Comma-separated targets; each must exist on both sides.",
)
@click.option(
    "--scenarios",
    help="Comma-separated request/response scenarios (the open model): built-in ones or the "
    "--config file's [[scenario]] names, each taken from each side's own config copy "
    "[the config's scenarios both sides define, else json].",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="TOML config, relative to each side's root (each side uses its own copy).",
)
@click.option("--baseline-python", help="Interpreter of the baseline [this one].")
@click.option("--candidate-python", help="Interpreter of the candidate [this one].")
@click.option("--out", type=click.Path(path_type=Path), help="Gate folder [results/<id>-gate].")
@click.option("--rate", type=float, help="Requests/s per run [found by a probe of the baseline].")
@click.option(
    "--min-effect",
    default="5%",
    show_default=True,
    help="Smallest CPU-per-request slowdown that fails the gate.",
)
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    metavar="METRIC=MIN[/DETECT]",
    help="Another metric's thresholds, e.g. p99=30%/90% (metrics: cpu, p50, p99, errors).",
)
@click.option("--design", type=click.Choice([d.value for d in Design]), default=Design.DUET.value,
              show_default=True,
              help="duet: both sides of a pair at once, each its own server on the same "
              "target CPUs (the machine's drift cancels); abba: one after the other, "
              "A B B A ..., each server alone on the target CPUs.")  # fmt: skip
@click.option("--pairs", type=int, default=GateRule().first_pairs, show_default=True,
              help="Pairs before the first look.")  # fmt: skip
@click.option("--confirm-pairs", type=int, default=GateRule().confirm_pairs, show_default=True,
              help="Fresh pairs a flagged slowdown must survive.")  # fmt: skip
@click.option("--max-pairs", type=int, default=GateRule().max_pairs, show_default=True,
              help="Pairs at most while the noise is too large (then: inconclusive).")  # fmt: skip
@click.option("--max-seconds", type=float, default=600.0, show_default=True,
              help="Hard time limit of the whole gate.")  # fmt: skip
@click.option("--max-discards", type=click.IntRange(0, 1000), default=6, show_default=True,
              help="Runs (duet: pairs) discarded (loader saturated, rate missed, requests "
              "failed) before the gate stops.")  # fmt: skip
@click.option("--measure-s", type=float, default=5.0, show_default=True,
              help="Measured seconds per run.")  # fmt: skip
@click.option("--warmup-s", type=float, default=2.0, show_default=True,
              help="Warm-up seconds per run (never counted).")  # fmt: skip
@click.option("--saturation-runs", type=click.IntRange(0, 4), default=4, show_default=True,
              help="Closed-model runs after the verdict (ABBA) for throughput at saturation: "
              "reported, never gated; 0 skips them.")  # fmt: skip
@click.option("--saturation-users", type=click.IntRange(1, 10_000), default=64,
              show_default=True, help="Users of those runs.")  # fmt: skip
@click.option("--database", envvar="TWINBENCH_DATABASE_URL",
              help="As for twinbench run [the .twinbench/ SQLite file].")  # fmt: skip
@click.option("--target-cpus", help="CPUs of the servers [first half].")
@click.option("--loader-cpus", help="CPUs of Locust and the upstream [the rest].")
@click.pass_context
def gate(
    ctx: click.Context,
    baseline: str,
    candidate: str,
    targets: str,
    scenarios: str | None,
    config_path: Path | None,
    baseline_python: str | None,
    candidate_python: str | None,
    out: Path | None,
    rate: float | None,
    min_effect: str,
    thresholds: tuple[str, ...],
    pairs: int,
    confirm_pairs: int,
    max_pairs: int,
    max_seconds: float,
    max_discards: int,
    design: str,
    measure_s: float,
    warmup_s: float,
    saturation_runs: int,
    saturation_users: int,
    database: str | None,
    target_cpus: str | None,
    loader_cpus: str | None,
) -> None:
    """Fail a build only on a real slowdown: baseline against candidate, in one job.

    \b
    Each side is a git revision (checked out into a temporary worktree, removed afterwards)
    or a folder, served by its own Python (--baseline-python/--candidate-python). Each pair
    runs both sides at once (--design duet), a fresh server each, at a fixed arrival rate:
    on a shared machine that cancels its drift (A/A pairs ±2 % apart, against ±22 % one
    after the other). Per target and scenario, CPU time per request (primary), p50, p99
    and the error rate are judged by a one-sided paired test on log(candidate/baseline)
    with a minimum effect, and a slowdown is confirmed on fresh pairs before it fails
    anything. Then, time permitting, each side runs saturated in the closed model: its
    throughput is reported, never gated.

    \b
    Exit codes (one verdict line per metric is printed first):
      0  no regression (improvements are reported)
      1  a confirmed regression
      2  a usage error (bad option, unknown revision, target missing on a side)
      3  inconclusive: the noise was too large to detect the requested effect within
         --max-pairs (or --max-seconds came first)

    \b
    Examples:
      twinbench gate --baseline main --candidate HEAD
      twinbench gate --baseline ../base --candidate . --baseline-python ../base/.venv/bin/python
      twinbench gate --baseline v1.2 --candidate HEAD --config twinbench.toml --targets shop
      twinbench gate --baseline main --candidate HEAD --config twinbench.toml \\
          --targets shop --scenarios checkout,json
    """
    _finite("--rate", rate)
    for flag, v in (("--max-seconds", max_seconds), ("--measure-s", measure_s)):
        _finite(flag, v)
    if not math.isfinite(warmup_s) or warmup_s < 0:
        raise UsageError(f"--warmup-s {warmup_s}: must be a finite number, 0 or more")
    overrides: dict[str, str] = {}
    for spec in thresholds:
        name, eq, value = spec.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise UsageError(f"--threshold {spec!r}: expected METRIC=MIN or METRIC=MIN/DETECT")
        overrides[name.strip()] = value.strip()
    rule = with_thresholds(
        GateRule(first_pairs=pairs, confirm_pairs=confirm_pairs, max_pairs=max_pairs),
        parse_percent("--min-effect", min_effect),
        overrides,
    )
    chosen_scenarios = _split("--scenarios", scenarios) if scenarios is not None else None
    names = _split("--targets", targets)
    from twinbench.cli.run import default_cpus

    default_t, default_l = default_cpus()
    t_cpus = check_available(parse_cpu_list(target_cpus)) if target_cpus else default_t
    l_cpus = check_available(parse_cpu_list(loader_cpus)) if loader_cpus else default_l
    shared = sorted(set(t_cpus) & set(l_cpus))
    if shared:
        raise UsageError(
            f"--target-cpus {format_cpu_list(t_cpus)} and --loader-cpus "
            f"{format_cpu_list(l_cpus)} overlap on CPU {shared[0]}: they must be disjoint"
        )
    db = resolve_database(database)
    check_reachable(db)
    gate_id = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-gate"
    out_dir = out or Path("results") / gate_id
    opts = GateOptions(
        baseline=baseline,
        candidate=candidate,
        targets=names,
        scenarios=chosen_scenarios,
        out_dir=out_dir,
        gate_id=gate_id,
        database=db,
        target_cpus=t_cpus,
        loader_cpus=l_cpus,
        repo=Path.cwd(),
        rule=rule,
        baseline_python=baseline_python,
        candidate_python=candidate_python,
        config=config_path,
        rate=rate,
        max_seconds=max_seconds,
        max_discards=max_discards,
        design=Design(design),
        saturation_runs=saturation_runs,
        saturation_users=saturation_users,
        warmup_s=warmup_s,
        measure_s=measure_s,
        command=("twinbench", *sys.argv[1:]),
    )
    if (out_dir / "gate.json").exists():
        raise UsageError(f"--out {out_dir}: it already holds a gate; choose a new folder")
    check_out_dir(out_dir)
    say = lambda text: click.echo(text, err=True)  # noqa: E731
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = execute_gate(opts, say)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    record, elapsed = to_record(result)
    a = result.assessment
    for line in verdict_lines(a):
        click.echo(line)
    for figure in record.saturation_figures:  # after the verdicts: reported, not gated
        click.echo(f"throughput at saturation: {figure.text}")
    write_gate(out_dir, record, a, elapsed)
    say(
        f"twinbench gate: {a.verdict.value} (exit {a.exit_code}), {a.pairs} pairs, "
        f"{a.discarded} discarded, {result.elapsed_s:.0f} s; {out_dir / SUMMARY_FILE}"
    )
    ctx.exit(a.exit_code)
