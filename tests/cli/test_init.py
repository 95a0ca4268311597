"""`twinbench init`: a commented twinbench.toml that loads, the servers teams run, never an
overwrite without --force, and one line for every bad option."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from twinbench.define.config import parse_config
from twinbench.define.targets import BUILTIN_TARGETS, App, Registry, WorkerModel
from twinbench.inputs import load_config

TWINBENCH = [sys.executable, "-m", "twinbench", "init"]


def init(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TWINBENCH, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "locustfile.py").write_text("# the team's\n")
    return tmp_path


ARGS = ("--flask", "orders.wsgi:app", "--fastapi", "orders.asgi:create_app()")


def test_writes_a_config_that_loads(project: Path) -> None:
    done = init(project, *ARGS, "--locustfile", "load/locustfile.py")
    assert done.returncode == 0, done.stderr
    config = load_config(project / "twinbench.toml")
    Registry((*BUILTIN_TARGETS, *config.targets))  # no clash with the built-in names
    flask = {t.worker_model for t in config.targets if t.app is App.FLASK}
    assert flask == {
        WorkerModel.SYNC,
        WorkerModel.GTHREAD,
        WorkerModel.GEVENT,
        WorkerModel.THREADS,
    }
    servers = {t.server.value for t in config.targets if t.app is App.FASTAPI}
    assert servers == {"uvicorn", "gunicorn"}
    uvicorn = next(t for t in config.targets if t.server.value == "uvicorn")
    assert "--factory" in uvicorn.argv and "orders.asgi:create_app" in uvicorn.argv
    assert all(t.cwd == str(project) for t in config.targets)
    (scenario,) = config.scenarios
    assert scenario.locustfile == str(project / "load" / "locustfile.py")
    assert scenario.users and not scenario.rates
    assert config.claims == ()  # the example claim is commented out ...
    text = (project / "twinbench.toml").read_text()
    lines = text.splitlines()
    start = lines.index("# [[claim]]")
    claim = "\n".join(ln.removeprefix("# ") for ln in lines[start:])
    uncommented = parse_config(text + "\n" + claim, "t.toml", str(project))
    assert [c.id for c in uncommented.claims] == ["rewrite-2x"]  # ... and valid once it is not


def test_refuses_to_overwrite_without_force(project: Path) -> None:
    (project / "twinbench.toml").write_text("# mine\n")
    done = init(project, *ARGS, "--locustfile", "load/locustfile.py")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "twinbench: error: twinbench.toml exists; pass --force to overwrite it"
    )
    assert (project / "twinbench.toml").read_text() == "# mine\n"
    done = init(project, *ARGS, "--locustfile", "load/locustfile.py", "--force")
    assert done.returncode == 0 and "[[target]]" in (project / "twinbench.toml").read_text()


def test_output_elsewhere_keeps_the_locustfile_path_right(project: Path) -> None:
    (project / "conf").mkdir()
    done = init(project, *ARGS, "--locustfile", "load/locustfile.py", "-o", "conf/tb.toml")
    assert done.returncode == 0, done.stderr
    (scenario,) = load_config(project / "conf" / "tb.toml").scenarios
    assert scenario.locustfile == str(project / "load" / "locustfile.py")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--flask", "orders.wsgi", "--locustfile", "load/locustfile.py"), "--flask 'orders"),
        (("--fastapi", "a:b:c", "--locustfile", "load/locustfile.py"), "--fastapi 'a:b:c'"),
        (("--locustfile", "load/locustfile.py"), "give --flask MODULE:APP"),
        (("--flask", "a:app", "--locustfile", "nope.py"), "--locustfile nope.py: no such"),
        (("--flask", "a:app", "--locustfile", "load"), "no such file"),
        (("--flask", "a:app", "--locustfile", "load/locustfile.py", "--health", "x"), "--health"),
        (("--flask", "a:app", "--locustfile", "load/locustfile.py", "-o", "load"), "exists"),
        (("--flask", "a:app", "--locustfile", "load/locustfile.py", "-o", "x/y/t.toml"), "-o"),
    ],
)
def test_bad_options_are_one_line(project: Path, args: tuple[str, ...], message: str) -> None:
    done = init(project, *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
