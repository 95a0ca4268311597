"""The command line: a thin layer over the registry, the server launcher and the runner.

Errors become one line on stderr (`twinbench: error: ...`) and an exit code: 2 for a bad
value, 1 for a failure while working, 130 for Ctrl-C.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import ClassVar

import click

from twinbench import __version__
from twinbench.define.targets import Feature, Target, default_registry
from twinbench.errors import ServerStartError, TwinbenchError
from twinbench.run.cpus import check_available, format_cpu_list, parse_cpu_list
from twinbench.run.database import check_reachable, init_database, resolve_database
from twinbench.run.ports import check_loopback_http_url, check_port_free, free_port
from twinbench.run.servers import ServeConfig, target_process, upstream_process


def _say(message: str) -> None:
    click.echo(message, err=True)


class _LazyGroup(click.Group):
    """Commands named in LAZY are imported when they are run (or listed by --help), not at
    start-up: `report`, `summary` and `gate` pull in scipy.stats and matplotlib (about 5 s of
    imports on a busy 2-core machine, against under 1 s for everything else), and every
    `twinbench targets`, `serve`, `db init` or `run` paid for them. The test suite alone
    starts the command line dozens of times."""

    LAZY: ClassVar[Mapping[str, str]] = {
        "init": "twinbench.cli.init:init",
        "run": "twinbench.cli.run:run",
        "report": "twinbench.cli.report:report",
        "summary": "twinbench.cli.report:summary",
        "compose": "twinbench.cli.compose:compose",
        "gate": "twinbench.cli.gate:gate",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.LAZY:
            module, _, attr = self.LAZY[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command), command
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="twinbench")
def cli() -> None:
    """Honest Flask vs FastAPI benchmarks.

    \b
    Start here:
      twinbench targets                    the server configurations you can measure
      twinbench run --profile smoke        measure them (quick is the default; full ≤ 45 min)
      twinbench summary --latest           the headline table of the newest results
      twinbench report --latest -o r.html  one self-contained HTML report, claims judged
      twinbench serve fastapi-uvicorn      run one target in the foreground (Ctrl-C stops it)
      twinbench db init                    create and seed the tables (SQLite by default)

    Every target serves the same endpoint contract (apps/CONTRACT.md). With no --database,
    an SQLite file under .twinbench/ is used, so nothing needs installing first. Every
    figure is printed beside the configuration that produced it.
    """


# -- targets -------------------------------------------------------------------------------
def _target_record(t: Target, cpus: int) -> dict[str, object]:
    return {
        "name": t.name,
        "app": t.app.value,
        "server": t.server.value,
        "worker_model": t.worker_model.value,
        "default_workers": t.default_workers(cpus),
        "threads": t.threads,
        "features": [f.value for f in Feature if t.supports(f)],
        "unsupported": {f.value: why for f, why in t.unsupported.items()},
        "limits": {f.value: note for f, note in t.limits.items()},
        "description": t.description,
        "antipattern": t.antipattern,
    }


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable list (a JSON array).")
@click.option(
    "--cpus",
    "ncpus",
    type=click.IntRange(1, 1024),
    default=1,
    show_default=True,
    help="Number of CPUs the target will be pinned to; default worker counts follow it.",
)
def targets(as_json: bool, ncpus: int) -> None:
    """List the targets: one line each, beginning with its name.

    A target is an app served by one server configuration (server, worker model, default
    workers). Features a target cannot serve are named ("no ..."), and features it serves
    only within a limit too ("... limited"); --json gives the reasons.
    """
    records = [_target_record(t, ncpus) for t in default_registry()]
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    width = max(len(str(r["name"])) for r in records)
    for t, r in zip(default_registry(), records, strict=True):
        workers = f"{r['default_workers']} worker{'s' if r['default_workers'] != 1 else ''}"
        line = f"{t.name:<{width}}  {t.label}, {workers} on {ncpus} CPU"
        if t.unsupported:
            line += "; no " + ", ".join(f.value for f in t.unsupported)
        if t.limits:
            line += "; " + ", ".join(f.value for f in t.limits) + " limited"
        if t.antipattern:
            line += "; ANTI-PATTERN: " + t.antipattern
        click.echo(line)


# -- serve ---------------------------------------------------------------------------------
class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


@cli.command()
@click.argument("target")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to bind.")
@click.option("--workers", type=int, help="Worker processes [default: the target's, per CPU].")
@click.option(
    "--threads",
    type=click.IntRange(1, 1024),
    help="Threads per worker, for targets with a thread pool (gthread, waitress).",
)
@click.option("--cpus", "cpu_list", help="Pin the server to these CPUs, e.g. 0 or 0,1 or 0-3.")
@click.option(
    "--database",
    envvar="TWINBENCH_DATABASE_URL",
    help="postgresql://user@host:port/db or sqlite:///path [default: .twinbench/ SQLite file].",
)
@click.option(
    "--upstream",
    help="Base URL of a running mock upstream, http:// on a loopback host "
    "[default: start one on a free loopback port].",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow an --upstream on another host (e.g. a compose service); loopback otherwise.",
)
@click.option(
    "--access-log",
    is_flag=True,
    help="Log every request in the server's stdout log (in the logs folder it prints).",
)
def serve(
    target: str,
    host: str,
    port: int,
    workers: int | None,
    threads: int | None,
    cpu_list: str | None,
    database: str | None,
    upstream: str | None,
    allow_remote: bool,
    access_log: bool,
) -> None:
    """Run TARGET in the foreground until Ctrl-C or SIGTERM.

    Creates and seeds the database if needed, starts the mock upstream (unless --upstream),
    starts the server pinned to --cpus, waits until /health answers, and prints the full
    configuration. On Ctrl-C or SIGTERM every child process is stopped.

    \b
    Example:
      twinbench serve flask-gunicorn-gevent --port 8001 --cpus 0 --database \\
          postgresql://root@127.0.0.1:5432/test
    """
    tgt = default_registry().get(target)
    cpus = check_available(parse_cpu_list(cpu_list)) if cpu_list else None
    nworkers = (
        workers
        if workers is not None
        else tgt.default_workers(len(cpus or os.sched_getaffinity(0)))
    )
    tgt.check_workers(nworkers)
    tgt.check_threads(threads)
    if upstream is not None:
        upstream = check_loopback_http_url(upstream, "--upstream", allow_remote)
    check_port_free(host, port)
    db = resolve_database(database)
    check_reachable(db)

    # SIGINT explicitly too: a shell that starts us in the background without job control
    # leaves SIGINT ignored, and Python then never raises KeyboardInterrupt.
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    log_dir = Path(tempfile.mkdtemp(prefix=f"twinbench-{tgt.name}-"))
    up = None
    proc = None
    try:
        report = init_database(db, progress=lambda m: _say(f"db: {m}"))
        _say(f"db: {report.database} ready ({report.fortunes} fortunes, {report.items} items)")
        if upstream is None:
            up = upstream_process("127.0.0.1", free_port(), log_dir).start()
            up.wait_healthy(20)
            upstream = f"http://127.0.0.1:{up.spec.argv[-1]}"
            _say(f"upstream: mock started on {upstream}")
        config = ServeConfig(
            target=tgt,
            host=host,
            port=port,
            workers=nworkers,
            threads=threads or tgt.threads,
            cpus=cpus,
            database=db,
            upstream_url=upstream,
            access_log=access_log,
        )
        proc = target_process(config, log_dir).start()
        took = proc.wait_healthy(60)
        _say(
            f"serving {tgt.name} on {config.base_url} in {took:.1f} s: {tgt.label}, "
            f"{nworkers} worker(s), CPUs {format_cpu_list(cpus)}, "
            f"db pool {config.pool_size}/worker, "
            f"{db.display}; logs in {log_dir}. Ctrl-C stops it."
        )
        while True:
            time.sleep(0.5)
            proc.check_alive()
            if up is not None:
                up.check_alive()
    except (KeyboardInterrupt, _Stop):
        _say("stopping...")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for p in (proc, up):
            if p is not None:
                p.stop()


# -- db ------------------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """Database set-up."""


@db.command("init")
@click.option(
    "--database",
    envvar="TWINBENCH_DATABASE_URL",
    help="postgresql://user@host:port/db or sqlite:///path [default: .twinbench/ SQLite file].",
)
def db_init(database: str | None) -> None:
    """Create the World, Fortune and items tables and seed them.

    World gets 10,000 rows, Fortune TechEmpower's 12. Running it again is harmless: tables
    are kept, World is re-seeded only if it does not hold exactly 10,000 rows, and items
    are left as they are.
    """
    report = init_database(resolve_database(database), progress=lambda m: _say(f"db: {m}"))
    seeded = "seeded" if report.world_seeded else "already seeded"
    click.echo(
        f"{report.database}: world {seeded}, {report.fortunes} fortunes, {report.items} items"
    )


# -- entry point ---------------------------------------------------------------------------
# click >= 8.2 raises this (a UsageError whose message is the whole help) for a group called
# without a command; click 8.1 printed the help itself and exited 0.
_NO_ARGS_IS_HELP: tuple[type[Exception], ...] = tuple(
    cls for cls in (getattr(click.exceptions, "NoArgsIsHelpError", None),) if cls is not None
)


def main(argv: list[str] | None = None) -> int:
    try:
        # A command that exits with a code (`twinbench gate`: 0, 1 or 3) comes back here as
        # the return value: click returns ctx.exit()'s code when not in standalone mode.
        code = cli.main(args=argv, prog_name="twinbench", standalone_mode=False)
        if isinstance(code, int):
            return code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except _NO_ARGS_IS_HELP as exc:
        # `twinbench` (or `twinbench db`) alone: the help is the answer, as click prints it
        # by default; it is not an error message, so it does not get the one-line prefix.
        assert isinstance(exc, click.UsageError)
        exc.show()
        return 2
    except click.Abort:
        _say("twinbench: interrupted")
        return 130
    except click.ClickException as exc:
        # Click's usage errors, made one line: "twinbench: error: Invalid value for ..."
        _say(f"twinbench: error: {exc.format_message()}")
        return 2
    except ServerStartError as exc:
        _say(f"twinbench: error: {exc}")
        if exc.stderr_tail:
            _say("--- last lines of its stderr ---\n" + exc.stderr_tail)
        return exc.exit_code
    except TwinbenchError as exc:
        _say(f"twinbench: error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        _say("twinbench: interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
