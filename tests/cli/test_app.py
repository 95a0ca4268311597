"""The CLI as a user meets it: real subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from twinbench.apps.common.settings import DatabaseURL
from twinbench.run.ports import free_port

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
    # SSE is served, within a limit that is stated (gunicorn's --timeout cuts long streams).
    assert "sse" in sync["features"] and "120 s" in sync["limits"]["sse"]
    assert out.stdout.splitlines()[0].endswith("; no websocket; sse limited")


def test_targets_name_the_antipatterns() -> None:
    as_json = json.loads(run("targets", "--json").stdout)
    marked = {t["name"]: t["antipattern"] for t in as_json if t["antipattern"]}
    assert set(marked) == {"fastapi-naive-blocking", "fastapi-naive-sync"}
    assert all(t["antipattern"] == "" for t in as_json if t["name"] not in marked)
    lines = {line.split()[0]: line for line in run("targets").stdout.splitlines()}
    assert "ANTI-PATTERN: async def endpoints make blocking" in lines["fastapi-naive-blocking"]
    assert "ANTI-PATTERN" not in lines["fastapi-uvicorn"]


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
        # urlsplit's ValueError ("Invalid IPv6 URL") was a traceback.
        (("db", "init", "--database", "postgresql://[bad"), "postgresql://[bad"),
        (
            ("serve", "fastapi-uvicorn", "--port", "{port}", "--database", "postgresql://[bad"),
            "postgresql://[bad",
        ),
        # sqlite3.DatabaseError from a file that is not a database was a traceback.
        (("db", "init", "--database", "sqlite:///{notadb}"), "file is not a database"),
        (
            ("serve", "fastapi-uvicorn", "--port", "{port}", "--database", "sqlite:///{notadb}"),
            "file is not a database",
        ),
        # "port 8000 ... is busy (Name or service not known)" named the wrong problem.
        (("serve", "fastapi-uvicorn", "--host", "nosuchhost.invalid"), "'nosuchhost.invalid'"),
        # --threads was silently ignored where there is no thread pool.
        (("serve", "fastapi-uvicorn", "--port", "{port}", "--threads", "4"), "--threads 4"),
        (("serve", "flask-gunicorn-sync", "--port", "{port}", "--threads", "2"), "no thread pool"),
        # --upstream was not validated at all.
        (("serve", "fastapi-uvicorn", "--upstream", "http://10.1.2.3:8100"), "loopback"),
        (("serve", "fastapi-uvicorn", "--upstream", "https://127.0.0.1:8100"), "http://"),
        (("serve", "fastapi-uvicorn", "--upstream", "127.0.0.1:8100"), "'127.0.0.1:8100'"),
        (("serve", "fastapi-uvicorn", "--upstream", "http://127.0.0.1:x"), "http://127.0.0.1:x"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: tuple[str, ...], needle: str, tmp_path: Path
) -> None:
    notadb = tmp_path / "notes.txt"
    notadb.write_text("this is not an SQLite database, just some text\n" * 200)
    out = run(*(a.format(port=free_port(), notadb=notadb) for a in args))
    assert_one_line_exit_2(out, needle)


def assert_one_line_exit_2(out: subprocess.CompletedProcess[str], needle: str) -> None:
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("twinbench: error:"), out.stderr
    assert needle in lines[0]
    assert "Traceback" not in out.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("command", ["db", "serve"])
def test_database_refusing_the_work_is_one_line_and_exit_2(
    pg_database: DatabaseURL, command: str
) -> None:
    """Reachable, but every write fails (a read-only server): psycopg.Error after connecting
    was a traceback."""
    read_only = pg_database.url + "?options=-c%20default_transaction_read_only%3Don"
    args = (
        ("db", "init", "--database", read_only)
        if command == "db"
        else ("serve", "fastapi-uvicorn", "--port", str(free_port()), "--database", read_only)
    )
    assert_one_line_exit_2(run(*args), "read-only transaction")


def test_no_arguments_prints_the_usage_and_exits_2() -> None:
    out = run()
    assert out.returncode == 2
    text = out.stdout + out.stderr
    assert "Usage: twinbench" in text and "Commands:" in text and "serve" in text
    assert "error:" not in text


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
    # Read stderr as it comes: serve announces itself only once its own health check passed,
    # which can be after /json first answers; signalling before that would race the line.
    lines: list[str] = []
    stderr = proc.stderr
    assert stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("serving" in x for x in lines):
            assert proc.poll() is None, "".join(lines)
            time.sleep(0.1)
        assert any("serving flask-gunicorn-sync on http://127.0.0.1" in x for x in lines), lines
        body = httpx.get(f"http://127.0.0.1:{port}/json", timeout=5).json()
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
    reader.join(5)
    assert any("stopping" in x for x in lines), lines
