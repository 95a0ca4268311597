"""`twinbench compose`: docker-compose.yml (and compose-targets.toml) from the target registry."""

from __future__ import annotations

from pathlib import Path

import click

from twinbench.define.compose import compose_yaml, targets_toml
from twinbench.define.targets import default_registry


def _write(path: str, text: str) -> None:
    if path == "-":
        click.echo(text, nl=False)
        return
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    click.echo(f"twinbench: wrote {target}", err=True)


@click.command()
@click.option("--targets", help="Comma-separated target names [default: every target].")
@click.option(
    "-o",
    "--out",
    default="docker-compose.yml",
    show_default=True,
    help="The compose file to write ('-': standard output).",
)
@click.option(
    "--targets-out",
    default="compose-targets.toml",
    show_default=True,
    help="The target services as external targets, for `twinbench run --config` ('' : none).",
)
def compose(targets: str | None, out: str, targets_out: str) -> None:
    """Write a docker-compose.yml that runs the twins side by side in containers.

    \b
    One image (docker/Dockerfile), used by every service: PostgreSQL, the mock upstream,
    one service per target running `twinbench serve TARGET` (healthy when /health answers;
    one CPU and 1 GB each, CPU 0, as a local run pins targets), and a Locust master and
    workers under the profile `load`. Then:
      docker compose up -d
      twinbench run --config compose-targets.toml --targets compose-fastapi-uvicorn,...
      docker compose --profile load up --scale locust-worker=4   # WORKERS=4 too
    """
    registry = default_registry()
    names = [n.strip() for n in targets.split(",") if n.strip()] if targets else registry.names
    chosen = registry.select(names)
    _write(out, compose_yaml(chosen))
    if targets_out:
        _write(targets_out, targets_toml(chosen))
