"""Fixtures for the Locust plugin tests: real servers and real Locust subprocesses, loopback
only, every process bounded by a timeout and killed at the end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LOCUST = str(VENV_BIN / "locust")
LOADTESTS = ROOT / "loadtests"
TINY = Path(__file__).with_name("tinyserver.py")
LOCUST_TIMEOUT_S = 60


def locustfile(scenario: str) -> str:
    """The scenario's locustfile, by the name the catalogue gives it (`json` is
    json_serialization.py: a locustfile must not take a standard module's name)."""
    from twinbench.define.scenarios import get

    return str(LOADTESTS / get(scenario).locustfile)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except Exception:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout}s")


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def start_tiny(*extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(TINY), str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/json")
    except TimeoutError:
        stop(proc)
        raise
    return proc, url


@pytest.fixture(scope="module")
def tiny() -> Iterator[str]:
    proc, url = start_tiny("--sse-drop-after", "3")
    try:
        yield url
    finally:
        stop(proc)


def run_locust(
    scenario: str, *args: str, timeout: float = LOCUST_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    cmd = [LOCUST, "-f", locustfile(scenario), "--headless", "--only-summary", *args]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT), check=False
    )


def write_plan(
    path: Path, scenario: str, model: str, phases: list[dict[str, Any]], **params: Any
) -> Path:
    path.write_text(
        json.dumps(
            {"schema": 1, "scenario": scenario, "model": model, "phases": phases, "params": params}
        )
    )
    return path


def phase(
    pid: str,
    host: str,
    users: int | None = 2,
    rate: float | None = None,
    warmup: float = 0.3,
    measure: float = 1.5,
) -> dict[str, Any]:
    return {
        "id": pid,
        "host": host,
        "users": users,
        "rate": rate,
        "warmup_s": warmup,
        "measure_s": measure,
    }


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def env_with_pythonpath() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env
