"""Bring your own apps: targets from a TOML file (e.g. twinbench.toml) → registry Targets.

```toml
[[target]]
name = "shop-gunicorn"            # unique; letters, digits, - and _
app = "flask"                     # flask | fastapi | custom
command = ["{python}", "-m", "gunicorn", "--bind", "{host}:{port}",
           "--workers", "{workers}", "shop.wsgi:app"]
health = "/health"                # GET must answer 200 once ready (default /health)
server = "gunicorn"               # optional: gunicorn | uvicorn | waitress | custom
worker_model = "sync"             # optional: sync | gthread | gevent | threadpool | asyncio
workers = 2                       # optional: fixed worker count (default: one per CPU)
threads = 1                       # optional
env = { SHOP_DB = "sqlite:///shop.db" }
unsupported = { websocket = "no WebSocket routes" }   # features it does not serve
access_log_args = ["--access-logfile", "-"]           # optional

[[target]]                        # an external target: started by something else
name = "shop-compose"
app = "flask"
url = "http://127.0.0.1:8001"     # instead of command: measured, never started or stopped
pid_file = "/run/shop.pid"        # optional: its main process id here, to read CPU and memory
```

A target may also say `cwd = "."`: the folder its command runs in, relative to the file
(default: the file's folder). The same file may declare the team's own scenarios and claims:

```toml
[[scenario]]
name = "checkout"                 # letters, digits, - and _; not a built-in scenario's name
locustfile = "locustfile.py"      # the team's plain locustfile, relative to this file
users = [8, 32, 128]              # closed-model levels; or
rates = [200, 400, 800]           # open-model levels (requests per second)
main_request = "POST /orders"     # optional: the request the headline and claims use
slo_p99_ms = 250                  # optional: capacity's SLO for this scenario
description = "..."               # optional

[[claim]]
id = "orders-3x"
text = "The FastAPI rewrite serves three times the orders per second"
scenario = "checkout"             # one of the file's scenarios or a built-in one
metric = "throughput"             # throughput | p50 | p99 | cpu_per_request | memory
factor = 3.0
baseline = "flask"                # an app (flask | fastapi | custom): its best target; or a target
candidate = "fastapi"             # any app or target but the baseline's (or two targets of one app)
```

Every mistake is a UsageError naming the file and the key, so the CLI prints one line.
Pure: twinbench.inputs reads the files (and hashes the locustfiles).
"""

from __future__ import annotations

import math
import posixpath
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from twinbench.define import scenarios as catalogue
from twinbench.define.claims import Check, CheckKind, Claim
from twinbench.define.scenarios import Scenario
from twinbench.define.targets import BUILTIN_TARGETS, App, Feature, Server, Target, WorkerModel
from twinbench.errors import UsageError
from twinbench.results.metrics import Metric

_KNOWN = {
    "name",
    "app",
    "command",
    "health",
    "server",
    "worker_model",
    "workers",
    "threads",
    "env",
    "unsupported",
    "access_log_args",
    "description",
    "url",
    "pid_file",
    "cwd",
}
# Keys that only mean something for a target twinbench starts itself.
_COMMAND_ONLY = ("workers", "threads", "env", "access_log_args", "cwd")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def _enum(kind: type[Any], value: Any, where: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(m.value for m in kind)
        raise UsageError(f"{where}: {value!r} is not one of {known}") from None


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{where}: must be a list of strings")
    return tuple(value)


def _health(raw: Any, where: str) -> str:
    health = raw.get("health", "/health")
    if not isinstance(health, str) or not health.startswith("/"):
        raise UsageError(f"{where}.health: must be a path starting with /")
    return health


def _unsupported(raw: Any, where: str) -> dict[Feature, str]:
    unsupported_raw = raw.get("unsupported", {})
    if not isinstance(unsupported_raw, dict):
        raise UsageError(f"{where}.unsupported: must be a table of feature = reason")
    return {_enum(Feature, k, f"{where}.unsupported"): str(v) for k, v in unsupported_raw.items()}


_BASE_URL = re.compile(r"^http://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]*))?/?$")


def parse_base_url(url: Any, where: str) -> str:
    """An external target's `url` as "http://host:port" (one line naming the value if not)."""
    if not isinstance(url, str):
        raise UsageError(f'{where}: must be a string like "http://127.0.0.1:8001"')
    if not url.startswith("http://"):
        raise UsageError(f"{where}: {url!r} must be an http:// URL, e.g. http://127.0.0.1:8001")
    m = _BASE_URL.match(url)
    if m is None:
        raise UsageError(f"{where}: {url!r} must be a base URL: http://host:port, nothing after")
    host, port = m.group(1), m.group(2)
    if not port:
        raise UsageError(f"{where}: {url!r} must name its port, e.g. http://127.0.0.1:8001")
    if not 1 <= int(port) <= 65535:
        raise UsageError(f"{where}: {url!r} is not a URL (port {port} is not 1-65535)")
    return f"http://{host}:{int(port)}"


def _external(raw: Any, where: str, source: str) -> Target:
    if "command" in raw:
        raise UsageError(f"{where}: give command (twinbench starts it) or url (it runs), not both")
    for key in _COMMAND_ONLY:
        if key in raw:
            raise UsageError(
                f"{where}.{key}: only for a target twinbench starts (command); "
                "an external target (url) runs as it was started"
            )
    pid_file = raw.get("pid_file", "")
    if not isinstance(pid_file, str):
        raise UsageError(f"{where}.pid_file: must be a path (a string)")
    url = parse_base_url(raw["url"], f"{where}.url")
    return Target(
        name=raw["name"],
        app=_enum(App, raw.get("app", "custom"), f"{where}.app"),
        server=_enum(Server, raw.get("server", "custom"), f"{where}.server"),
        worker_model=_enum(
            WorkerModel, raw.get("worker_model", "asyncio"), f"{where}.worker_model"
        ),
        argv=(),
        description=str(raw.get("description", f"from {source}: external, at {url}")),
        workers_per_cpu=0,  # unknown: twinbench did not start it
        unsupported=_unsupported(raw, where),
        health_path=_health(raw, where),
        url=url,
        pid_file=pid_file,
    )


def _path(base: str, value: str) -> str:
    """`value` relative to the config file's folder `base` (absolute), normalised."""
    return posixpath.normpath(posixpath.join(base, value))


def _target(raw: Any, where: str, source: str, base: str = "") -> Target:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: must be a table ([[target]])")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise UsageError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(_KNOWN))})")
    if "name" not in raw:
        raise UsageError(f"{where}.name: missing")
    name = raw["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsageError(f"{where}.name: {name!r} must be letters, digits, - and _")
    where = f"{where} ({name})"
    if "url" in raw:
        return _external(raw, where, source)
    if "command" not in raw:
        raise UsageError(f'{where}.command: missing (or give url = "http://host:port")')
    if "pid_file" in raw:
        raise UsageError(f"{where}.pid_file: only for an external target (url = ...)")
    argv = _strings(raw["command"], f"{where}.command")
    if not argv or not any("{port}" in a for a in argv):
        raise UsageError(f"{where}.command: must bind to the {{port}} placeholder")
    health = _health(raw, where)
    workers = raw.get("workers")
    threads = raw.get("threads", 1)
    for key, val in (("workers", workers), ("threads", threads)):
        if val is not None and (not isinstance(val, int) or isinstance(val, bool) or val < 1):
            raise UsageError(f"{where}.{key}: must be a whole number >= 1")
    env = raw.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise UsageError(f"{where}.env: must be a table of strings")
    unsupported = _unsupported(raw, where)
    return Target(
        name=name,
        app=_enum(App, raw.get("app", "custom"), f"{where}.app"),
        server=_enum(Server, raw.get("server", "custom"), f"{where}.server"),
        worker_model=_enum(
            WorkerModel, raw.get("worker_model", "asyncio"), f"{where}.worker_model"
        ),
        argv=argv,
        description=str(raw.get("description", f"from {source}")),
        # A fixed count: workers_per_cpu 0 + extra N, so default_workers() returns N.
        workers_per_cpu=0 if workers else 1,
        workers_extra=workers or 0,
        threads=threads,
        unsupported=unsupported,
        health_path=health,
        env=dict(env),
        access_log_argv=_strings(raw.get("access_log_args", []), f"{where}.access_log_args"),
        cwd=_cwd(raw.get("cwd", "."), where, base),
    )


def _cwd(value: Any, where: str, base: str) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError(f"{where}.cwd: must be a folder (a string), relative to the file")
    return _path(base, value) if base else value


_SCENARIO_KEYS = {
    "name",
    "locustfile",
    "users",
    "rates",
    "main_request",
    "slo_p99_ms",
    "description",
}
_CLAIM_KEYS = {"id", "text", "scenario", "metric", "factor", "baseline", "candidate"}
# The claim metrics a config file may name, and the stored metric each one is.
CLAIM_METRICS = {
    "throughput": Metric.THROUGHPUT,
    "p50": Metric.LATENCY_P50,
    "p99": Metric.LATENCY_P99,
    "cpu_per_request": Metric.CPU_PER_REQUEST,
    "memory": Metric.TARGET_RSS_MAX,
}


@dataclass(frozen=True)
class Config:
    """A config file's contents: the team's targets, scenarios and claims."""

    path: str
    targets: tuple[Target, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    claims: tuple[Claim, ...] = ()


def _table(raw: Any, where: str, kind: str, known: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: must be a table ([[{kind}]])")
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UsageError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")
    return raw


def _levels(raw: Any, where: str, whole: bool) -> tuple[float, ...]:
    kind = "whole numbers" if whole else "numbers"
    if not isinstance(raw, list) or not raw:
        raise UsageError(f"{where}: must be a non-empty list of {kind} above 0, e.g. [8, 32]")
    out = []
    for v in raw:
        number = isinstance(v, int) if whole else isinstance(v, int | float)
        if isinstance(v, bool) or not number or not math.isfinite(v) or v <= 0:
            raise UsageError(f"{where}: {v!r} is not a {kind[:-1]} above 0")
        out.append(v)
    if sorted(out) != out or len(set(out)) != len(out):
        raise UsageError(f"{where}: levels must climb (each above the last), not {raw!r}")
    return tuple(out)


def _scenario(raw: Any, where: str, source: str, base: str) -> Scenario:
    raw = _table(raw, where, "scenario", _SCENARIO_KEYS)
    for key in ("name", "locustfile"):
        if key not in raw:
            raise UsageError(f"{where}.{key}: missing")
    name = raw["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsageError(f"{where}.name: {name!r} must be letters, digits, - and _")
    where = f"{where} ({name})"
    if name in catalogue.scenario_names():
        raise UsageError(f"{where}.name: {name!r} is a built-in scenario; choose another name")
    locustfile = raw["locustfile"]
    if not isinstance(locustfile, str) or not locustfile.endswith(".py"):
        raise UsageError(f"{where}.locustfile: must be a .py file, relative to {source}")
    has_users, has_rates = "users" in raw, "rates" in raw
    if has_users == has_rates:
        raise UsageError(
            f"{where}: give `users = [...]` (closed model) or `rates = [...]` (open model)"
            + (", not both" if has_users else "")
        )
    users = (
        tuple(int(u) for u in _levels(raw["users"], f"{where}.users", True)) if has_users else ()
    )
    rates = (
        tuple(float(r) for r in _levels(raw["rates"], f"{where}.rates", False)) if has_rates else ()
    )
    main = raw.get("main_request")
    if main is not None and (not isinstance(main, str) or not main.strip()):
        raise UsageError(
            f"{where}.main_request: must be a Locust request name, e.g. 'POST /orders'"
        )
    slo = raw.get("slo_p99_ms")
    if slo is not None and (
        isinstance(slo, bool)
        or not isinstance(slo, int | float)
        or not math.isfinite(slo)
        or slo <= 0
    ):
        raise UsageError(f"{where}.slo_p99_ms: must be a number of milliseconds above 0")
    description = raw.get("description", f"{posixpath.basename(locustfile)} from {source}")
    if not isinstance(description, str):
        raise UsageError(f"{where}.description: must be a string")
    return Scenario(
        name=name,
        locustfile=_path(base, locustfile) if base else locustfile,
        feature=Feature.LOCUSTFILE,
        merit=Metric.THROUGHPUT,
        description=description,
        main_request=main.strip() if main else None,
        source=source,
        users=users,
        rates=rates,
        slo_p99_ms=float(slo) if slo is not None else None,
    )


def _side(value: Any, where: str, targets: dict[str, Target]) -> tuple[App, tuple[str, ...]]:
    """A claim's baseline or candidate: an app (every target of it measured; the best one
    counts) or a target name; returns the app and the named targets (none for an app)."""
    apps = " | ".join(a.value for a in App)
    if not isinstance(value, str) or not value:
        raise UsageError(f"{where}: must be a target name or an app ({apps})")
    if value in {a.value for a in App}:
        return App(value), ()
    if value in targets:
        return targets[value].app, (value,)
    known = ", ".join(targets)
    raise UsageError(f"{where}: unknown target {value!r} (an app: {apps}; or one of: {known})")


def _claim(
    raw: Any, where: str, source: str, scenarios: Iterable[str], targets: dict[str, Target]
) -> Claim:
    raw = _table(raw, where, "claim", _CLAIM_KEYS)
    missing = [k for k in sorted(_CLAIM_KEYS) if k not in raw]
    if missing:
        raise UsageError(f"{where}.{missing[0]}: missing")
    cid = raw["id"]
    if not isinstance(cid, str) or not _NAME.match(cid):
        raise UsageError(f"{where}.id: {cid!r} must be letters, digits, - and _")
    where = f"{where} ({cid})"
    text = raw["text"]
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"{where}.text: must be the claim's wording")
    scenario = raw["scenario"]
    known = [*catalogue.scenario_names(), *scenarios]
    if scenario not in known:
        raise UsageError(
            f"{where}.scenario: unknown scenario {scenario!r}; known: {', '.join(known)}"
        )
    metric = CLAIM_METRICS.get(raw["metric"]) if isinstance(raw["metric"], str) else None
    if metric is None:
        raise UsageError(
            f"{where}.metric: {raw['metric']!r} is not one of {', '.join(CLAIM_METRICS)}"
        )
    factor = raw["factor"]
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not factor > 0:
        raise UsageError(f"{where}.factor: must be a number above 0, e.g. 3.0")
    if not math.isfinite(factor):
        raise UsageError(f"{where}.factor: must be a finite number")
    base_app, base_named = _side(raw["baseline"], f"{where}.baseline", targets)
    cand_app, cand_named = _side(raw["candidate"], f"{where}.candidate", targets)
    if base_app is cand_app and not (base_named and cand_named and base_named != cand_named):
        # Both sides would draw on the same targets: the "best" of each is the same figure.
        raise UsageError(
            f"{where}: baseline {raw['baseline']!r} and candidate {raw['candidate']!r} are the "
            f"same {cand_app.value} targets; name two different apps, or two target names"
        )
    check = Check(
        what=f"{raw['metric']} in {scenario}",
        kind=CheckKind.RATIO,
        scenario=scenario,
        metric=metric,
        better=metric.better,
        factor=float(factor),
        baseline_app=base_app,
        candidate_app=cand_app,
        baseline_targets=base_named,
        candidate_targets=cand_named,
        config=source,
    )
    return Claim(cid, source, f"{raw['baseline']} → {raw['candidate']}", text.strip(), (check,))


def _tables(data: dict[str, Any], key: str, path: str) -> list[Any]:
    raw = data.get(key, [])
    if not isinstance(raw, list):
        raise UsageError(f"{path}: `{key}` must be an array of tables ([[{key}]])")
    return raw


def parse_config(text: str, path: str, base: str = "") -> Config:
    """A config file's text → its targets, scenarios and claims. `path` names it in every
    message; `base` is its folder (absolute), which relative paths in it are taken from."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--config {path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"target", "scenario", "claim"})
    if unknown:
        raise UsageError(
            f"{path}: unknown top-level key {unknown[0]!r} (expected [[target]], [[scenario]], "
            "[[claim]])"
        )
    raw_targets = _tables(data, "target", path)
    raw_scenarios = _tables(data, "scenario", path)
    if not raw_targets and not raw_scenarios:
        raise UsageError(f"{path}: no [[target]] tables")
    targets = tuple(
        _target(t, f"{path}: target[{i}]", path, base) for i, t in enumerate(raw_targets)
    )
    scenarios = tuple(
        _scenario(s, f"{path}: scenario[{i}]", path, base) for i, s in enumerate(raw_scenarios)
    )
    for kind, names in (
        ("target", [t.name for t in targets]),
        ("scenario", [s.name for s in scenarios]),
    ):
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise UsageError(f"{path}: duplicate {kind} name {dupes[0]!r}")
    registry = {t.name: t for t in (*BUILTIN_TARGETS, *targets)}
    claims = tuple(
        _claim(c, f"{path}: claim[{i}]", path, [s.name for s in scenarios], registry)
        for i, c in enumerate(_tables(data, "claim", path))
    )
    ids = [c.id for c in claims]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise UsageError(f"{path}: duplicate claim id {dupes[0]!r}")
    return Config(path, targets, scenarios, claims)


def parse_targets(text: str, path: str, base: str = "") -> tuple[Target, ...]:
    """The [[target]] tables of a config file's text; `path` names it in every message."""
    config = parse_config(text, path, base)
    if not config.targets:
        raise UsageError(f"{path}: no [[target]] tables")
    return config.targets
