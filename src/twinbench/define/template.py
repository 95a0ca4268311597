"""`twinbench init`: the commented twinbench.toml for a team's Flask app, FastAPI rewrite and
locustfile. Pure: the text only (twinbench.cli.init writes it; tests load it back).

Targets are the server configurations teams really run: for the Flask app gunicorn's sync,
gthread and gevent workers and waitress; for the FastAPI app uvicorn and gunicorn with
uvicorn workers. `MOD:create_app()` names an app factory (gunicorn's own syntax); uvicorn
then gets `--factory` and waitress `--call`.
"""

from __future__ import annotations

import json
import re

from twinbench.errors import UsageError

_APP = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*(\(\))?$")
_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def check_app(flag: str, spec: str) -> str:
    if not _APP.match(spec):
        raise UsageError(
            f"{flag} {spec!r}: give MODULE:ATTRIBUTE (e.g. orders.wsgi:app), or "
            "MODULE:FACTORY() for an app factory"
        )
    return spec


def scenario_name(locustfile: str) -> str:
    stem = locustfile.rsplit("/", 1)[-1].removesuffix(".py")
    name = _NAME.sub("-", stem).strip("-_") or "main"
    return "main" if name == "locustfile" else name


def _q(text: str) -> str:
    return json.dumps(text)  # a TOML basic string is a JSON string for these characters


def _argv(parts: list[str]) -> str:
    return "[" + ", ".join(_q(p) for p in parts) + "]"


_GUNICORN = ["{python}", "-m", "gunicorn", "--bind", "{host}:{port}", "--workers", "{workers}"]
_TAIL = ["--graceful-timeout", "5", "--timeout", "120"]


def prefix(spec: str) -> str:
    """Target names start with the app's top-level package (`orders-...`), so they never
    clash with twinbench's built-in targets (`fastapi-uvicorn`)."""
    return _NAME.sub("-", spec.split(".", 1)[0].split(":", 1)[0]).strip("-_") or "app"


def _flask(spec: str, health: str) -> list[str]:
    p = prefix(spec)
    factory = spec.endswith("()")
    bare = spec.removesuffix("()")
    waitress = ["{python}", "-m", "waitress", "--host={host}", "--port={port}"]
    waitress += ["--threads={threads}", *(["--call"] if factory else []), bare]
    return [
        _target(
            f"{p}-flask-gunicorn-sync",
            "flask",
            "gunicorn",
            "sync",
            [*_GUNICORN, "--worker-class", "sync", *_TAIL, spec],
            health,
            "gunicorn's default: one request at a time per process",
            "workers = 3                          # (2 × CPUs) + 1, gunicorn's advice, for 1 CPU",
        ),
        _target(
            f"{p}-flask-gunicorn-gthread",
            "flask",
            "gunicorn",
            "gthread",
            [*_GUNICORN, "--worker-class", "gthread", "--threads", "{threads}", *_TAIL, spec],
            health,
            "a thread pool in each process",
            "workers = 3\nthreads = 4",
        ),
        _target(
            f"{p}-flask-gunicorn-gevent",
            "flask",
            "gunicorn",
            "gevent",
            [*_GUNICORN, "--worker-class", "gevent", "--worker-connections", "1000", *_TAIL, spec],
            health,
            "greenlets: I/O-bound work without threads (one worker per CPU)",
        ),
        _target(
            f"{p}-flask-waitress",
            "flask",
            "waitress",
            "threadpool",
            waitress,
            health,
            "one process, a pool of threads",
            "workers = 1                          # waitress serves from one process\nthreads = 8",
        ),
    ]


def _fastapi(spec: str, health: str) -> list[str]:
    p = prefix(spec)
    factory = spec.endswith("()")
    bare = spec.removesuffix("()")
    uvicorn = ["{python}", "-m", "uvicorn", *(["--factory"] if factory else []), bare]
    uvicorn += ["--host", "{host}", "--port", "{port}", "--workers", "{workers}"]
    uvicorn += ["--no-access-log", "--timeout-graceful-shutdown", "5"]
    return [
        _target(
            f"{p}-fastapi-uvicorn",
            "fastapi",
            "uvicorn",
            "asyncio",
            uvicorn,
            health,
            "an event loop per process (one worker per CPU)",
        ),
        _target(
            f"{p}-fastapi-gunicorn-uvicorn",
            "fastapi",
            "gunicorn",
            "asyncio",
            [*_GUNICORN, "--worker-class", "uvicorn_worker.UvicornWorker", *_TAIL, spec],
            health,
            "gunicorn managing uvicorn workers (one per CPU)",
        ),
    ]


def _target(
    name: str,
    app: str,
    server: str,
    model: str,
    argv: list[str],
    health: str,
    what: str,
    extra: str = "",
) -> str:
    lines = [
        f"[[target]]                           # {what}",
        f"name = {_q(name)}",
        f"app = {_q(app)}{' ' * (8 - len(app))}                   # flask | fastapi | custom",
        f'server = "{server}"',
        f'worker_model = "{model}"',
        f"command = {_argv(argv)}",
        f"health = {_q(health)}                   # GET must answer 200 once the app is ready",
        'cwd = "."                            # where the command runs, relative to this file',
    ]
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def render(
    *, flask: str | None, fastapi: str | None, locustfile: str, health: str = "/health"
) -> str:
    """The config text; `locustfile` relative to the config file's folder."""
    if not flask and not fastapi:
        raise UsageError("twinbench init: give --flask MODULE:APP, --fastapi MODULE:APP or both")
    targets: list[str] = []
    if flask:
        targets += _flask(check_app("--flask", flask), health)
    if fastapi:
        targets += _fastapi(check_app("--fastapi", fastapi), health)
    name = scenario_name(locustfile)
    both = bool(flask and fastapi)
    claim = f"""# A claim of your migration plan, judged on every run (uncomment and adapt it). The
# factor counts only when the 95 % interval of FastAPI/Flask clears it; "depends on
# configuration" names the Flask configuration that flips it.
#
# [[claim]]
# id = "rewrite-2x"
# text = "The FastAPI rewrite serves twice the requests per second"
# scenario = {_q(name)}
# metric = "throughput"             # throughput | p50 | p99 | cpu_per_request | memory
# factor = 2.0
# baseline = "flask"        # an app (flask | fastapi | custom): its best target; or a target
# candidate = "fastapi"     # any other app, or a target (two targets of one app work too)
"""
    return f"""# twinbench.toml: your service, your workload (written by `twinbench init`).
#
#   twinbench run --config twinbench.toml          every target × every scenario below
#   twinbench report --latest -o report.html       headline, charts, capacities, claims
#
# Each target is pinned to its own CPU and Locust to another; targets alternate A B A B
# and every cell is repeated (--profile quick: 3 repeats; --profile full for longer
# windows). Commands are argv templates: {{python}} is this environment's interpreter,
# {{host}}, {{port}}, {{workers}} and {{threads}} are filled in by twinbench.

{chr(10).join(t + chr(10) for t in targets)}
[[scenario]]
name = {_q(name)}
locustfile = {_q(locustfile)}        # your plain locustfile, used unmodified
users = [8, 32, 128]                # closed model: concurrent users per level (a ladder); or
# rates = [100, 200, 400]           # open model: requests per second, latency from the
#                                   # intended send time (give users or rates, not both)
# main_request = "POST /orders"     # the request name the headline and claims use
#                                   # (default: all requests together)
# slo_p99_ms = 250                  # capacity: the highest level with p99 within this

{claim if both else ""}"""
