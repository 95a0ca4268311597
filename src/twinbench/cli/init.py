"""`twinbench init`: write a commented twinbench.toml for a team's apps and locustfile."""

from __future__ import annotations

import os
from pathlib import Path

import click

from twinbench.define.template import render
from twinbench.errors import UsageError


@click.command()
@click.option("--flask", "flask_app", help="The Flask app: MODULE:APP, or MODULE:FACTORY().")
@click.option("--fastapi", "fastapi_app", help="The FastAPI app: MODULE:APP or MODULE:FACTORY().")
@click.option(
    "--locustfile",
    type=click.Path(path_type=Path),
    required=True,
    help="Your plain locustfile (used unmodified).",
)
@click.option(
    "--health",
    default="/health",
    show_default=True,
    help="A path both apps answer with 200 once ready.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    default=Path("twinbench.toml"),
    show_default=True,
    help="The file to write.",
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def init(
    flask_app: str | None,
    fastapi_app: str | None,
    locustfile: Path,
    health: str,
    out: Path,
    force: bool,
) -> None:
    """Write a commented twinbench.toml: targets for the servers teams run (Flask: gunicorn
    sync, gthread, gevent and waitress; FastAPI: uvicorn and gunicorn with uvicorn workers),
    one scenario with your locustfile, and an example claim.

    \b
    Example:
      twinbench init --flask orders.wsgi:app --fastapi orders.asgi:app --locustfile locustfile.py
      twinbench run --config twinbench.toml
      twinbench report --latest -o report.html
    """
    if not health.startswith("/"):
        raise UsageError(f"--health {health!r}: must be a path starting with /")
    if not locustfile.is_file():
        raise UsageError(f"--locustfile {locustfile}: no such file")
    if locustfile.suffix != ".py":
        raise UsageError(f"--locustfile {locustfile}: must be a .py file")
    if out.exists() and not force:
        raise UsageError(f"{out} exists; pass --force to overwrite it")
    if out.is_dir():
        raise UsageError(f"-o {out}: is a folder")
    folder = out.resolve().parent
    relative = Path(os.path.relpath(locustfile.resolve(), folder)).as_posix()
    text = render(flask=flask_app, fastapi=fastapi_app, locustfile=relative, health=health)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"-o {out}: cannot write it ({exc.strerror})") from None
    click.echo(f"twinbench: wrote {out}; next: twinbench run --config {out}", err=True)
