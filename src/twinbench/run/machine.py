"""What the run ran on: CPU, memory, OS, git commit, package versions. I/O, best effort.

Nothing here may fail a run: a missing /proc/cpuinfo or git gives "unknown", never an error.
"""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

import psutil

from twinbench.results.model import GitInfo, MachineInfo

# Every package whose version can move a number in a report.
PACKAGES = (
    "twinbench",
    "flask",
    "werkzeug",
    "flask-sock",
    "fastapi",
    "starlette",
    "pydantic",
    "pydantic-core",
    "jinja2",
    "gunicorn",
    "gevent",
    "greenlet",
    "waitress",
    "uvicorn",
    "uvicorn-worker",
    "uvloop",
    "httptools",
    "websockets",
    "httpx",
    "psycopg",
    "psycopg-pool",
    "asyncpg",
    "aiosqlite",
    "locust",
    "hdrhistogram",
    "psutil",
)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> MachineInfo:
    return MachineInfo(
        cpu_model=cpu_model(),
        logical_cpus=psutil.cpu_count(logical=True) or 0,
        physical_cpus=psutil.cpu_count(logical=False) or 0,
        memory_bytes=int(psutil.virtual_memory().total),
        os=platform.platform(),
        python=platform.python_version(),
    )


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_info(repo: Path) -> GitInfo:
    commit = _git(repo, "rev-parse", "HEAD")
    status = _git(repo, "status", "--porcelain", "--untracked-files=no")
    return GitInfo(commit=commit or "unknown", dirty=bool(status) if status is not None else True)
