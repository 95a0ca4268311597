"""`twinbench run` refuses bad options with one line and exit code 2, before starting anything."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from twinbench.cli.app import main

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
        (["--rates", "100,inf"], "'inf' must be a finite number above 0"),
        (["--rates", "nan"], "'nan' must be a finite number above 0"),
        (["--users", "8,x"], "'x' is not a number"),
        (["--users", "1,2", "--rates", "1,2,3"], "one per rate"),
        (["--scenarios", "sse", "--rates", "10"], "runs closed only"),
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


def test_window_options_keep_each_scenarios_other_window() -> None:
    from twinbench.cli.run import parse_levels, with_windows
    from twinbench.define import profiles

    quick = profiles.get("quick")
    longer = with_windows(quick, None, 5.0)
    assert longer.timing_for("json") == profiles.Timing(quick.warmup_s, 5.0)
    # upstream keeps its own, longer warm-up (its waits take 500 ms)
    assert longer.timing_for("upstream") == profiles.Timing(0.6, 5.0)
    assert with_windows(quick, 2.0, None).timing_for("upstream") == profiles.Timing(2.0, 2.2)
    assert parse_levels("8,64", None) == (profiles.Level(8), profiles.Level(64))
    assert parse_levels("100", "50,200") == (
        profiles.Level(100, 50.0),
        profiles.Level(100, 200.0),
    )
    assert parse_levels(None, None) is None


def _out_cases(tmp: Path) -> list[tuple[Path, str]]:
    a_file = tmp / "a-file"
    a_file.write_text("x")
    held = tmp / "held"
    held.mkdir()
    (held / "run.json").write_text("{}")
    return [
        (a_file, "it exists and is not a folder"),
        (a_file / "below", "cannot create a results folder there (Not a directory)"),
        (Path("/proc/twinbench-no"), "cannot create a results folder there"),
        (tmp / ("n" * 300), "cannot create a results folder there (File name too long)"),
        (held, "it already holds a run"),
    ]


def test_an_unusable_out_folder_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every way --out can be wrong is caught before anything starts: one line, exit 2."""
    for out, message in _out_cases(tmp_path):
        code = main(["run", "--profile", "smoke", "--scenarios", "json", "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2, (out, err)
        assert err.startswith(f"twinbench: error: --out {out}"), err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
