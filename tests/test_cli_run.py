"""`twinbench run` refuses bad options with one line and exit code 2, before starting anything."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from twinbench.cli import main

TWINBENCH = [sys.executable, "-m", "twinbench"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target-cpus", "0", "--loader-cpus", "0"], "overlap on CPU 0"),
        (["--targets", "nope"], "unknown target 'nope'"),
        (["--scenarios", "nope"], "unknown scenario 'nope'"),
        (["--profile", "huge"], "Invalid value for '--profile'"),
        (["--database", "postgresql://u@10.1.2.3/db"], "not loopback; pass --allow-remote"),
        (["--master-bind", "0.0.0.0"], "--master-bind 0.0.0.0 is not loopback"),
        (["--remote-workers", "2"], "needs --master-port"),
        (["--database", "mysql://x"], "unsupported database URL"),
        (["--config", "/nonexistent/twinbench.toml"], "cannot read it"),
    ],
)
def test_bad_option_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["run", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("twinbench: error:")


def test_unreachable_database_exit_2(capsys: pytest.CaptureFixture) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["run", "--database", f"postgresql://u@127.0.0.1:{port}/x"]) == 2
    assert "cannot reach" in capsys.readouterr().err


def test_busy_port_exit_2(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        done = subprocess.run(
            [*TWINBENCH, "run", "--profile", "smoke", "--base-port", str(port), "--out",
             str(tmp_path / "r")],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"twinbench: error: port {port} on 127.0.0.1 is busy (Address already in use)"
    ]
    assert not (tmp_path / "r").exists()  # nothing was started or written


def test_help_teaches(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    for word in ("A CELL is", "invalid", "unsupported", "Examples:", "--loader-workers"):
        assert word in out
