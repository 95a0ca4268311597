"""The target registry: app × server × worker model, as data.

A target's command is an argv *template* (placeholders `{python}`, `{host}`, `{port}`,
`{workers}`, `{threads}`), so built-in targets and a team's own targets from a config file
are the same kind of thing. An *external* target has a `url` instead of a command: something
else started it (docker compose, another machine), and twinbench only measures it. Pure: no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from twinbench.errors import UnknownTargetError, UsageError

# PostgreSQL's default max_connections is 100; all workers of one target share this budget,
# leaving room for psql, `db init` and a second target during interleaved runs.
DB_CONNECTION_BUDGET = 40
DB_POOL_CAP = 16  # per worker: beyond this a pool only adds connection churn on 2 cores


class App(enum.Enum):
    FLASK = "flask"
    FASTAPI = "fastapi"
    CUSTOM = "custom"


class Server(enum.Enum):
    GUNICORN = "gunicorn"
    WAITRESS = "waitress"
    UVICORN = "uvicorn"
    CUSTOM = "custom"


class WorkerModel(enum.Enum):
    SYNC = "sync"  # one request per process at a time
    GTHREAD = "gthread"  # a thread pool in each process
    GEVENT = "gevent"  # greenlets, monkey-patched I/O
    THREADS = "threadpool"  # waitress: one process, a thread pool
    ASYNCIO = "asyncio"  # an event loop per process (uvloop)


class Feature(enum.Enum):
    TECHEMPOWER = "techempower"  # /json /plaintext /db /queries /updates /fortunes /cached-queries
    API = "api"  # /api/items CRUD
    UPSTREAM = "upstream"  # /api/upstream
    CPU = "cpu"  # /api/cpu
    SSE = "sse"  # /sse/stream
    WEBSOCKET = "websocket"  # /ws/echo, /ws/broadcast
    LOCUSTFILE = "locustfile"  # a team's own locustfile ([[scenario]] in a config file)


@dataclass(frozen=True)
class Target:
    name: str
    app: App
    server: Server
    worker_model: WorkerModel
    argv: tuple[str, ...]
    description: str
    workers_per_cpu: int = 1  # default workers = workers_per_cpu * cpus + workers_extra
    workers_extra: int = 0
    max_workers: int | None = None  # waitress serves from one process
    threads: int = 1  # per worker, for thread-pool models
    # Feature → why this target cannot serve it. Anything not listed is served.
    unsupported: Mapping[Feature, str] = field(default_factory=dict)
    # Feature → a limit on how this target serves it (served, but not without bound).
    limits: Mapping[Feature, str] = field(default_factory=dict)
    health_path: str = "/health"
    env: Mapping[str, str] = field(default_factory=dict)
    # Access logs are off when measuring (they cost the same in both twins but are noise);
    # tests that count requests on the server side switch them on.
    access_log_argv: tuple[str, ...] = ()
    no_access_log_argv: tuple[str, ...] = ()
    # Non-empty: this target is a known anti-pattern, kept to be measured (a sentence saying
    # what is wrong). No profile runs it by default; name it in --targets.
    antipattern: str = ""
    # Non-empty: an external target at this base URL ("http://host:port"), started by something
    # else; twinbench never starts or stops it, and `argv` is empty.
    url: str = ""
    # External targets only: a file holding the server's main process id on this machine,
    # whose process tree is sampled for CPU and memory. Without it those figures are not
    # measured (there is no process tree to read), never estimated.
    pid_file: str = ""
    # The folder the command runs in ("": the harness's): a config file's `cwd` (absolute);
    # `twinbench gate` runs each side's targets in that side's root, so a team's
    # `shop.wsgi:app` is the side's own code.
    cwd: str = ""

    @property
    def external(self) -> bool:
        return bool(self.url)

    @property
    def resources_measured(self) -> bool:
        """Whether twinbench can read this target's CPU time and memory."""
        return not self.external or bool(self.pid_file)

    def supports(self, feature: Feature) -> bool:
        return feature not in self.unsupported

    def default_workers(self, cpus: int) -> int:
        n = self.workers_per_cpu * max(cpus, 1) + self.workers_extra
        return min(n, self.max_workers) if self.max_workers else n

    def check_workers(self, workers: int) -> None:
        if workers < 1:
            raise UsageError(f"--workers must be at least 1, not {workers}")
        if self.max_workers is not None and workers > self.max_workers:
            raise UsageError(
                f"--workers {workers}: {self.name} serves from at most {self.max_workers} process"
            )

    @property
    def takes_threads(self) -> bool:
        """Whether --threads changes anything: its command has a {threads} placeholder."""
        return any("{threads}" in part for part in self.argv)

    def check_threads(self, threads: int | None) -> None:
        """--threads on a target without a thread pool would be silently ignored: refuse it."""
        if threads is None:
            return
        if threads < 1:
            raise UsageError(f"--threads must be at least 1, not {threads}")
        if not self.takes_threads:
            raise UsageError(
                f"--threads {threads}: {self.name} has no thread pool "
                f"({self.worker_model.value} workers); it would be ignored"
            )

    def concurrency_per_worker(self, threads: int | None = None) -> int | None:
        """Requests one worker process handles at once; None means unbounded (async)."""
        if self.worker_model is WorkerModel.SYNC:
            return 1
        if self.worker_model in (WorkerModel.GTHREAD, WorkerModel.THREADS):
            return threads or self.threads
        return None

    def pool_size(self, workers: int, threads: int | None = None) -> int:
        """Database connections per worker process: what it can use, within the budget."""
        share = max(1, DB_CONNECTION_BUDGET // max(workers, 1))
        wanted = self.concurrency_per_worker(threads) or DB_POOL_CAP
        return max(1, min(wanted, share, DB_POOL_CAP))

    def render_argv(
        self,
        *,
        python: str,
        host: str,
        port: int,
        workers: int,
        threads: int | None = None,
        access_log: bool = False,
    ) -> list[str]:
        values = {
            "python": python,
            "host": host,
            "port": str(port),
            "workers": str(workers),
            "threads": str(threads or self.threads),
        }
        if self.external:
            raise UsageError(f"target {self.name}: external (url {self.url}), nothing to start")
        try:
            argv = [part.format(**values) for part in self.argv]
        except (KeyError, IndexError, ValueError) as exc:
            raise UsageError(f"target {self.name}: bad placeholder in command ({exc})") from exc
        return argv + list(self.access_log_argv if access_log else self.no_access_log_argv)

    @property
    def label(self) -> str:
        """Server configuration in words, for every printed figure."""
        if self.external:
            return f"{self.app.value} at {self.url} (external: not started by twinbench)"
        threads = f", {self.threads} threads" if self.threads > 1 else ""
        return f"{self.app.value} on {self.server.value} ({self.worker_model.value}{threads})"


_NO_WS_SYNC = (
    "a sync worker serves one request at a time; a WebSocket would hold it until closed, "
    "so the handshake is answered with 501"
)
_NO_WS_WAITRESS = "waitress is a pure WSGI server and cannot upgrade connections to WebSocket"

_GUNICORN = ("{python}", "-m", "gunicorn", "--bind", "{host}:{port}", "--workers", "{workers}")
# Shared by every gunicorn target: shutdown within 5 s; the default 30 s worker timeout would
# kill sync workers holding a 10 s upstream wait or a long SSE stream.
GUNICORN_TIMEOUT_S = 120
_GUNICORN_TAIL = ("--graceful-timeout", "5", "--timeout", str(GUNICORN_TIMEOUT_S))
# A sync worker only tells the arbiter it is alive between requests, so a stream that lasts
# longer than --timeout is cut: the worker is killed and restarted mid-stream.
_SSE_SYNC_LIMIT = (
    "a sync worker holds an SSE stream for its whole length, one stream per worker; "
    f"streams longer than gunicorn's --timeout ({GUNICORN_TIMEOUT_S} s) are cut when the "
    "worker is killed"
)
_GUNICORN_ACCESS_LOG = ("--access-logfile", "-")
_FLASK_APP = "twinbench.apps.flask_app:create_app()"
_FASTAPI_APP = "twinbench.apps.fastapi_app:create_app()"


def _uvicorn(factory: str) -> tuple[str, ...]:
    return (
        "{python}",
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "{host}",
        "--port",
        "{port}",
        "--workers",
        "{workers}",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--ws",
        "websockets",
        "--timeout-graceful-shutdown",
        "5",
    )


_NOT_PORTED = "not ported: the naive ports cover the request/response endpoints only"

BUILTIN_TARGETS: tuple[Target, ...] = (
    Target(
        name="flask-gunicorn-sync",
        app=App.FLASK,
        server=Server.GUNICORN,
        worker_model=WorkerModel.SYNC,
        argv=(*_GUNICORN, "--worker-class", "sync", *_GUNICORN_TAIL, _FLASK_APP),
        description="Flask under gunicorn's default sync workers, (2 × CPUs) + 1 of them",
        access_log_argv=_GUNICORN_ACCESS_LOG,
        workers_per_cpu=2,
        workers_extra=1,
        unsupported={Feature.WEBSOCKET: _NO_WS_SYNC},
        limits={Feature.SSE: _SSE_SYNC_LIMIT},
    ),
    Target(
        name="flask-gunicorn-gthread",
        app=App.FLASK,
        server=Server.GUNICORN,
        worker_model=WorkerModel.GTHREAD,
        argv=(
            *_GUNICORN,
            "--worker-class",
            "gthread",
            "--threads",
            "{threads}",
            *_GUNICORN_TAIL,
            _FLASK_APP,
        ),
        description="Flask under gunicorn gthread workers, (2 × CPUs) + 1 of them × 4 threads",
        access_log_argv=_GUNICORN_ACCESS_LOG,
        workers_per_cpu=2,
        workers_extra=1,
        threads=4,
    ),
    Target(
        name="flask-gunicorn-gevent",
        app=App.FLASK,
        server=Server.GUNICORN,
        worker_model=WorkerModel.GEVENT,
        argv=(
            *_GUNICORN,
            "--worker-class",
            "gevent",
            "--worker-connections",
            "1000",
            *_GUNICORN_TAIL,
            _FLASK_APP,
        ),
        description="Flask under gunicorn gevent workers (1,000 connections each), one per CPU",
        access_log_argv=_GUNICORN_ACCESS_LOG,
        workers_per_cpu=1,
    ),
    Target(
        name="flask-waitress",
        app=App.FLASK,
        server=Server.WAITRESS,
        worker_model=WorkerModel.THREADS,
        argv=(
            "{python}",
            "-m",
            "waitress",
            "--host={host}",
            "--port={port}",
            "--threads={threads}",
            "--call",
            "twinbench.apps.flask_app:create_app",
        ),
        description="Flask under waitress: one process, a pool of 8 threads (no access log exists)",
        max_workers=1,
        threads=8,
        unsupported={Feature.WEBSOCKET: _NO_WS_WAITRESS},
    ),
    Target(
        name="fastapi-uvicorn",
        app=App.FASTAPI,
        server=Server.UVICORN,
        worker_model=WorkerModel.ASYNCIO,
        argv=_uvicorn("twinbench.apps.fastapi_app:create_app"),
        no_access_log_argv=("--no-access-log",),
        description="FastAPI under uvicorn (uvloop, httptools), one worker per CPU",
    ),
    Target(
        name="fastapi-gunicorn-uvicorn",
        app=App.FASTAPI,
        server=Server.GUNICORN,
        worker_model=WorkerModel.ASYNCIO,
        argv=(
            *_GUNICORN,
            "--worker-class",
            "uvicorn_worker.UvicornWorker",
            *_GUNICORN_TAIL,
            _FASTAPI_APP,
        ),
        description="FastAPI under gunicorn with uvicorn workers, one per CPU",
        access_log_argv=_GUNICORN_ACCESS_LOG,
    ),
    # The naive migration (apps/fastapi_naive): anti-patterns, measured on purpose.
    Target(
        name="fastapi-naive-blocking",
        app=App.FASTAPI,
        server=Server.UVICORN,
        worker_model=WorkerModel.ASYNCIO,
        argv=_uvicorn("twinbench.apps.fastapi_naive:create_blocking_app"),
        no_access_log_argv=("--no-access-log",),
        description="the Flask twin ported as `async def` endpoints that keep its blocking "
        "sqlite3/psycopg and urllib3 calls, under uvicorn, one worker per CPU",
        unsupported={Feature.SSE: _NOT_PORTED, Feature.WEBSOCKET: _NOT_PORTED},
        antipattern="async def endpoints make blocking database and HTTP calls: each call "
        "stalls the event loop, so a worker serves one request at a time and a slow "
        "upstream stalls every connection it holds",
    ),
    Target(
        name="fastapi-naive-sync",
        app=App.FASTAPI,
        server=Server.UVICORN,
        worker_model=WorkerModel.ASYNCIO,
        argv=_uvicorn("twinbench.apps.fastapi_naive:create_sync_app"),
        no_access_log_argv=("--no-access-log",),
        description="the Flask twin ported as plain `def` endpoints (Starlette's thread pool) "
        "over its synchronous drivers, under uvicorn, one worker per CPU",
        unsupported={Feature.SSE: _NOT_PORTED, Feature.WEBSOCKET: _NOT_PORTED},
        antipattern="the 'safe' naive port: plain def endpoints with synchronous drivers run "
        "in Starlette's thread pool, so every request pays a thread hop and at most 40 "
        "(anyio's default) run at once per worker",
    ),
)


class Registry:
    """Targets by name, in a stable order."""

    def __init__(self, targets: tuple[Target, ...] = BUILTIN_TARGETS) -> None:
        names = [t.name for t in targets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise UsageError(f"duplicate target name(s): {', '.join(dupes)}")
        self._targets = {t.name: t for t in targets}

    def __iter__(self) -> Iterator[Target]:
        return iter(self._targets.values())

    def __len__(self) -> int:
        return len(self._targets)

    @property
    def names(self) -> list[str]:
        return list(self._targets)

    @property
    def standard_names(self) -> list[str]:
        """Every target but the anti-patterns: what "every target" means for a profile."""
        return [t.name for t in self._targets.values() if not t.antipattern]

    def get(self, name: str) -> Target:
        try:
            return self._targets[name]
        except KeyError:
            raise UnknownTargetError(
                f"unknown target {name!r}; known: {', '.join(self._targets)}"
            ) from None

    def select(self, names: list[str]) -> list[Target]:
        return [self.get(n) for n in names]


def default_registry() -> Registry:
    return Registry()
