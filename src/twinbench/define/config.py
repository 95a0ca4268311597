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
```

Every mistake is a UsageError naming the file and the key, so the CLI prints one line.
Pure: twinbench.inputs reads the file.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from twinbench.define.targets import App, Feature, Server, Target, WorkerModel
from twinbench.errors import UsageError

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
}
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


def _target(raw: Any, where: str, source: str) -> Target:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: must be a table ([[target]])")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise UsageError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(_KNOWN))})")
    for key in ("name", "command"):
        if key not in raw:
            raise UsageError(f"{where}.{key}: missing")
    name = raw["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsageError(f"{where}.name: {name!r} must be letters, digits, - and _")
    where = f"{where} ({name})"
    argv = _strings(raw["command"], f"{where}.command")
    if not argv or not any("{port}" in a for a in argv):
        raise UsageError(f"{where}.command: must bind to the {{port}} placeholder")
    health = raw.get("health", "/health")
    if not isinstance(health, str) or not health.startswith("/"):
        raise UsageError(f"{where}.health: must be a path starting with /")
    workers = raw.get("workers")
    threads = raw.get("threads", 1)
    for key, val in (("workers", workers), ("threads", threads)):
        if val is not None and (not isinstance(val, int) or isinstance(val, bool) or val < 1):
            raise UsageError(f"{where}.{key}: must be a whole number >= 1")
    env = raw.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise UsageError(f"{where}.env: must be a table of strings")
    unsupported_raw = raw.get("unsupported", {})
    if not isinstance(unsupported_raw, dict):
        raise UsageError(f"{where}.unsupported: must be a table of feature = reason")
    unsupported = {
        _enum(Feature, k, f"{where}.unsupported"): str(v) for k, v in unsupported_raw.items()
    }
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
    )


def parse_targets(text: str, path: str) -> tuple[Target, ...]:
    """The [[target]] tables of a config file's text; `path` names it in every message."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--config {path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"target"})
    if unknown:
        raise UsageError(f"{path}: unknown top-level key {unknown[0]!r} (expected [[target]])")
    raw_targets = data.get("target", [])
    if not isinstance(raw_targets, list) or not raw_targets:
        raise UsageError(f"{path}: no [[target]] tables")
    return tuple(_target(t, f"{path}: target[{i}]", path) for i, t in enumerate(raw_targets))
