"""The CLI as a user meets it: real subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from twinbench.ports import free_port

TWINBENCH = [sys.executable, "-m", "twinbench"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TWINBENCH, *args], capture_output=True, text=True, timeout=timeout)


def test_targets_prints_one_line_per_target_beginning_with_its_name() -> None:
    out = run("targets")
    assert out.returncode == 0
    names = [line.split()[0] for line in out.stdout.splitlines()]
    as_json = json.loads(run("targets", "--json").stdout)
    assert names == [t["name"] for t in as_json]
    assert "fastapi-uvicorn" in names and "flask-waitress" in names
    sync = next(t for t in as_json if t["name"] == "flask-gunicorn-sync")
    assert "websocket" in sync["unsupported"] and "websocket" not in sync["features"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("serve", "nope"), "unknown target 'nope'"),
        (("serve", "flask-waitress", "--workers", "2"), "--workers 2"),
        (("serve", "fastapi-uvicorn", "--cpus", "0-x"), "bad CPU list '0-x'"),
        (("serve", "fastapi-uvicorn", "--port", "abc"), "'abc' is not a valid integer"),
        (("serve", "fastapi-uvicorn", "--database", "mysql://x/y"), "mysql://x/y"),
        (("db", "init", "--database", "postgresql://root@127.0.0.1:9/x"), "cannot reach"),
        (("targets", "--bogus"), "--bogus"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], needle: str) -> None:
    out = run(*args)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("twinbench: error:"), out.stderr
    assert needle in lines[0]
    assert "Traceback" not in out.stderr


def test_busy_port_is_exit_2() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        out = run("serve", "fastapi-uvicorn", "--port", str(sock.getsockname()[1]))
    assert out.returncode == 2 and "is busy" in out.stderr


def test_help_teaches() -> None:
    out = run("serve", "--help")
    assert out.returncode == 0
    for word in ("--cpus", "--database", "Ctrl-C", "Example"):
        assert word in out.stdout


def test_db_init_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    assert "world seeded" in run("db", "init", "--database", url).stdout
    assert "already seeded" in run("db", "init", "--database", url).stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "ignored_by_parent"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["SIGINT", "SIGTERM", "SIGINT-after-background-start"],
)
def test_serve_runs_and_stops_cleanly_with_all_children(
    tmp_path: Path, sig: int, ignored_by_parent: bool
) -> None:
    """`ignored_by_parent`: started as `cmd &` from a script, SIGINT arrives ignored."""
    port = free_port()

    def preexec() -> None:
        if ignored_by_parent:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen(
        [
            *TWINBENCH,
            "serve",
            "flask-gunicorn-sync",
            "--port",
            str(port),
            "--workers",
            "2",
            "--database",
            f"sqlite:///{tmp_path}/db.sqlite3",
        ],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/json", timeout=1).json()
            except httpx.HTTPError:
                time.sleep(0.2)
        assert body == {"message": "Hello, World!"}
        tree = psutil.Process(proc.pid).children(recursive=True)
        assert len(tree) >= 4  # upstream + gunicorn master + 2 workers
        os.kill(proc.pid, sig)
        assert proc.wait(30) == 0
        _, alive = psutil.wait_procs(tree, timeout=5)
        assert alive == [], f"orphans left: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.stderr is not None
    assert "serving flask-gunicorn-sync on http://127.0.0.1" in proc.stderr.read()
