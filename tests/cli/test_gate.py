"""`twinbench gate` refuses bad input with one line and exit code 2, before measuring."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinbench.cli.app import main


def side(root: Path, target: str) -> Path:
    root.mkdir(parents=True)
    (root / "twinbench.toml").write_text(
        f'[[target]]\nname = "{target}"\n'
        'command = ["{python}", "-m", "http.server", "{port}"]\n'
    )
    return root


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--baseline", "no-such-revision-xyz"],
            "--baseline no-such-revision-xyz: neither a folder",
        ),
        (["--candidate", "/nonexistent/folder"], "--candidate /nonexistent/folder: neither"),
        (["--rate", "nan"], "--rate nan: must be a finite number above 0"),
        (["--rate", "-5"], "--rate -5.0: must be a finite number above 0"),
        (["--rate", "x"], "Invalid value for '--rate'"),
        (["--design", "parallel"], "Invalid value for '--design': 'parallel' is not one of"),
        (["--min-effect", "abc"], "--min-effect 'abc': not a percentage"),
        (["--min-effect", "0%"], "--min-effect '0%': must be a percentage above 0"),
        (["--pairs", "1"], "--pairs 1: at least 2 pairs"),
        (["--max-pairs", "3"], "--max-pairs 3: must be at least --pairs"),
        (["--confirm-pairs", "1"], "--confirm-pairs 1: must be at least 2"),
        (["--threshold", "p98=5%"], "unknown metric 'p98'"),
        (["--threshold", "p99"], "expected METRIC=MIN"),
        (["--threshold", "p99=30%/10%"], "must exceed the minimum effect"),
        (["--max-seconds", "0"], "--max-seconds 0.0: must be a finite number above 0"),
        (["--measure-s", "inf"], "--measure-s inf: must be a finite number above 0"),
        (["--warmup-s", "-1"], "--warmup-s -1.0"),
        (["--scenarios", "nope"], "--scenarios nope: not defined on the baseline side"),
        (["--scenarios", "sse"], "--scenarios sse: cannot run at a fixed arrival rate"),
        (["--targets", ","], "names no target"),
        (["--targets", "nope"], "--targets: nope (baseline) is not defined on that side"),
        (["--config", "/abs/twinbench.toml"], "must be relative to each side's root"),
        (["--config", "missing.toml"], "--config missing.toml: not found in"),
        (["--baseline-python", "/nope/python"], "--baseline-python /nope/python: no such"),
        (["--target-cpus", "0", "--loader-cpus", "0"], "overlap on CPU 0"),
    ],
)
def test_bad_input_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    base = ["gate", "--baseline", "HEAD", "--candidate", "HEAD", "--out", str(tmp_path / "g")]
    assert main([*base, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err, err
    assert len(err.splitlines()) == 1 and err.startswith("twinbench: error:")
    assert not (tmp_path / "g" / "runs").exists()  # nothing was measured


def test_a_target_missing_on_one_side_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = side(tmp_path / "a", "shop")
    b = side(tmp_path / "b", "store")
    code = main(
        ["gate", "--baseline", str(a), "--candidate", str(b), "--config", "twinbench.toml",
         "--targets", "shop", "--out", str(tmp_path / "g")]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "twinbench: error: --targets: shop (candidate) is not defined on that side"


def test_an_out_folder_holding_a_gate_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "gate.json").write_text("{}")
    assert (
        main(["gate", "--baseline", "HEAD", "--candidate", "HEAD", "--out", str(tmp_path / "g")])
        == 2
    )
    assert "already holds a gate" in capsys.readouterr().err


LOCUSTFILE = (
    "from locust import HttpUser, task\n"
    "class Shopper(HttpUser):\n"
    "    @task\n"
    "    def home(self):\n"
    "        self.client.get('/')\n"
)
TASKSET = (
    "from locust import HttpUser, TaskSet, task\n"
    "class Browse(TaskSet):\n"
    "    @task\n"
    "    def home(self):\n"
    "        self.client.get('/')\n"
    "class Visitor(HttpUser):\n"
    "    tasks = [Browse]\n"
)


def scenario_side(root: Path, scenarios: dict[str, str]) -> Path:
    """A side folder whose twinbench.toml has one target and these [[scenario]]s (name →
    locustfile text)."""
    side(root, "shop")
    with (root / "twinbench.toml").open("a") as f:
        for name, text in scenarios.items():
            (root / f"{name}_load.py").write_text(text)
            f.write(f'[[scenario]]\nname = "{name}"\nlocustfile = "{name}_load.py"\n')
            f.write("rates = [50]\n")
    return root


def gate_args(tmp_path: Path, a: Path, b: Path, *more: str) -> list[str]:
    return ["gate", "--baseline", str(a), "--candidate", str(b), "--config", "twinbench.toml",
            "--targets", "shop", "--out", str(tmp_path / "g"), *more]  # fmt: skip


@pytest.mark.parametrize(
    ("more", "message"),
    [
        (["--scenarios", "checkout"], "--scenarios checkout: not defined on the candidate side"),
        (["--scenarios", "orders,nope"], "--scenarios nope: not defined on the baseline side"),
    ],
)
def test_a_scenario_missing_on_one_side_is_exit_2(
    more: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    a = scenario_side(tmp_path / "a", {"orders": LOCUSTFILE, "checkout": LOCUSTFILE})
    b = scenario_side(tmp_path / "b", {"orders": LOCUSTFILE})
    assert main(gate_args(tmp_path, a, b, *more)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err, err
    assert "checkout" in err  # names what the side does define
    assert len(err.splitlines()) == 1 and err.startswith("twinbench: error:")
    assert not (tmp_path / "g" / "gate.json").exists()


def test_no_shared_config_scenario_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = scenario_side(tmp_path / "a", {"checkout": LOCUSTFILE})
    b = scenario_side(tmp_path / "b", {"orders": LOCUSTFILE})
    assert main(gate_args(tmp_path, a, b)) == 2
    err = capsys.readouterr().err.strip()
    assert "share no [[scenario]] name (checkout (baseline only), orders (candidate only))" in err
    assert len(err.splitlines()) == 1


@pytest.mark.slow  # loads the locustfile in Locust (a few seconds)
def test_a_taskset_scenario_cannot_be_gated(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = scenario_side(tmp_path / "a", {"orders": LOCUSTFILE})
    b = scenario_side(tmp_path / "b", {"orders": TASKSET})  # the pull request's locustfile
    assert main(gate_args(tmp_path, a, b)) == 2  # the default: the config's scenarios
    err = capsys.readouterr().err.strip()
    assert "--scenarios orders (candidate side, " in err, err
    assert "cannot run at a fixed arrival rate" in err and "plain @task functions" in err
    assert len(err.splitlines()) == 1
