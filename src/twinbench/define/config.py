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
    "url",
    "pid_file",
}
# Keys that only mean something for a target twinbench starts itself.
_COMMAND_ONLY = ("workers", "threads", "env", "access_log_args")
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


def _target(raw: Any, where: str, source: str) -> Target:
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
