"""`twinbench report` and `twinbench summary`: thin commands over twinbench.report.build."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.table import Table

from twinbench.analysis.ceiling import loader_ceiling
from twinbench.analysis.derive import analyse
from twinbench.analysis.figures import judge_claims
from twinbench.analysis.headline import HeadlineRow, headline
from twinbench.analysis.stats import RatioCI, format_interval
from twinbench.analysis.summary import summarise
from twinbench.errors import UsageError
from twinbench.inputs import load_claims
from twinbench.report.build import (
    latest_results_dir,
    load_with_histograms,
    write_gate_report,
    write_report,
)
from twinbench.report.model import claims_for
from twinbench.report.render import num
from twinbench.results.gate import is_gate_dir

DEFAULT_OUT = Path("reports/latest.html")


@click.command()
@click.argument("results_dirs", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="The HTML file to write (replaced atomically).",
)
@click.option("--latest", is_flag=True, help="Report on the newest folder under results/.")
@click.option(
    "--claims",
    "claims_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Claims ledger (TOML) [default: the seed claims that ship with twinbench].",
)
def report(
    results_dirs: tuple[Path, ...], out: Path, latest: bool, claims_path: Path | None
) -> None:
    """Write one self-contained HTML report of RESULTS_DIR(s).

    \b
    One folder: headline, claims ledger, charts, every cell, methods.
    Two or more (oldest first): also the changes from the first to the last.
    Example:
      twinbench report results/20250101T120000Z-3f9a -o reports/jan.html
      twinbench report --latest
    """
    dirs = list(results_dirs)
    if latest:
        dirs.append(latest_results_dir())
    if not dirs:
        raise UsageError("give a results folder (or --latest)")
    t0 = time.perf_counter()
    if any(is_gate_dir(d) for d in dirs):  # a `twinbench gate` folder: its own report
        if len(dirs) != 1:
            raise UsageError("a gate folder is reported on its own: give only that folder")
        write_gate_report(dirs[0], out)
        click.echo(f"{out} ({out.stat().st_size / 1e6:.2f} MB, {time.perf_counter() - t0:.1f} s)")
        return
    write_report(dirs, out, claims_path)
    took = time.perf_counter() - t0
    click.echo(f"{out} ({out.stat().st_size / 1e6:.2f} MB, {took:.1f} s)")


def short_significance(ci: RatioCI | None) -> str:
    """The significance column in a dozen characters, so a table fits 80 columns."""
    if ci is None:
        return "–"
    if not ci.has_interval:
        return "too few reps"
    return "yes" if ci.significant else "no sig. diff."


def headline_table(row: HeadlineRow) -> Table:
    """One small table per scenario: ≤ 80 columns and no cell ever wraps (the configuration,
    which would, is printed below it as text)."""
    table = Table(
        title=f"[bold]{row.scenario}[/] at {row.load}"
        + ("" if row.request == "total" else f", per {row.request}"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("figure", no_wrap=True)
    for name in ("Flask", "FastAPI", "ratio", "95 % CI"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("significant", no_wrap=True)
    for v in row.values:
        ci = v.ci
        interval = (
            format_interval(ci.low, ci.high)
            if ci and ci.low is not None and ci.high is not None
            else "–"
        )
        mark = "≈" if v.estimate else ""
        table.add_row(
            f"{'est. capacity' if v.estimate else v.metric.label} ({v.metric.shown_unit})",
            mark + num(v.flask),
            mark + num(v.fastapi),
            f"{ci.ratio:.2f}×" if ci else "–",
            interval,
            short_significance(ci),
        )
    return table


@click.command()
@click.argument("results_dir", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--latest", is_flag=True, help="The newest folder under results/.")
@click.option(
    "--claims",
    "claims_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Claims ledger (TOML) [default: the seed claims that ship with twinbench].",
)
def summary(results_dir: Path | None, latest: bool, claims_path: Path | None) -> None:
    """Print the verdict, then the headline table of RESULTS_DIR: best Flask vs best FastAPI
    per scenario."""
    if results_dir is None:
        if not latest:
            raise UsageError("give a results folder (or --latest)")
        results_dir = latest_results_dir()
    results = load_with_histograms(results_dir)
    index = analyse(results)
    rows = headline(index)
    claims = claims_for([results], load_claims(claims_path))
    verdict = summarise(index, rows, judge_claims(claims, index))
    run = results.run
    console = Console()
    # The report's first paragraph, word for word (markup off: intervals are in brackets).
    console.print(f"Verdict ({run.run_id}): {verdict.text}", markup=False)
    console.print()
    console.print(
        f"[bold]{run.run_id}[/]: {run.machine.cpu_model}, {run.machine.logical_cpus} CPUs, "
        f"{run.database_kind}, git {run.git.commit[:10]}, profile {run.profile}. "
        "ratio = FastAPI / Flask of the means, with its 95 % bootstrap interval across "
        "repeats; 'no sig. diff.': the interval spans 1 (no significant difference)."
    )
    for row in rows:
        if not row.values:
            console.print(f"[bold]{row.scenario}[/]: [dim]{row.note}[/]")
            continue
        console.print(headline_table(row))
        console.print(f"Flask: {row.flask_target} ({row.flask_config})")
        console.print(f"FastAPI: {row.fastapi_target} ({row.fastapi_config})")
        if row.estimated:
            console.print(f"[italic]{row.note}[/]")
    caps = index.capacities
    for scenario in dict.fromkeys(c.scenario for c in caps):
        mine = [c for c in caps if c.scenario == scenario]
        console.print(f"[bold]{scenario}: capacity at the SLO[/] ({mine[0].slo}):")
        for cap in mine:
            console.print(f"  {cap.target}: {cap.text}")
    ceiling = loader_ceiling(index)
    if ceiling is not None:
        console.print(f"Load generator ceiling: {ceiling.text}.")
    invalid = [c for c in results.cells if not c.valid]
    if invalid:
        click.echo(f"{len(invalid)} cell(s) not valid (not counted):")
        for c in invalid:
            click.echo(f"  {c.cell_id}: {c.status.value}: {c.reason}")
