"""twinbench as a team installs it: the wheel built from this checkout, installed into a fresh
virtual environment outside the repository, run from an empty folder.

Every command after the install runs under strace, which records each file any process of
the tree opens (the harness, the servers, Locust): none may lie in the checkout. Results,
reports and the SQLite database must land in the working folder, nothing in site-packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
UV = Path(sys.executable).with_name("uv")
TIMEOUT_S = 300


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    assert done.returncode == 0, f"{argv}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def build_and_install(base: Path) -> Path:
    """The wheel built from this checkout, installed into a fresh venv under `base` (outside
    the repository); the venv's folder. tests/test_example.py uses it too."""
    assert ROOT not in base.parents
    dist = base / "dist"
    subprocess.run(
        [str(UV), "build", "--wheel", "-o", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=TIMEOUT_S,
    )  # fmt: skip
    (wheel,) = dist.glob("twinbench-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        tops = {name.split("/")[0] for name in zf.namelist()}
    # No generic top-level names (an `apps` package would collide with a team's own).
    assert all(t.startswith("twinbench") for t in tops), tops
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=TIMEOUT_S)
    subprocess.run(
        [str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         str(wheel)],
        check=True, timeout=TIMEOUT_S,
    )  # fmt: skip
    return venv


def clean_env(venv: Path) -> dict[str, str]:
    """The environment of a shell with only the venv's bin on PATH before the rest."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("TWINBENCH_DATABASE_URL", None)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (outside the repository) with the wheel built from this checkout."""
    if shutil.which("strace") is None:
        message = "strace is missing (scripts/system-deps.sh installs it as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(reason=f"unsupported here (feature needs strace): {message}")
    return build_and_install(tmp_path_factory.mktemp("install"))


def _site_files(venv: Path) -> set[str]:
    site = next((venv / "lib").glob("python3*/site-packages"))
    return {
        str(p.relative_to(site))
        for p in site.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def _opened(log: Path) -> list[str]:
    """Paths that processes opened or executed, from strace's log (failed opens included:
    looking for a file in the checkout is as wrong as finding it)."""
    paths = []
    for line in log.read_text(errors="replace").splitlines():
        if '"' in line:
            paths.append(line.split('"', 2)[1])
    return paths


def test_the_wheel_runs_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "project"
    work.mkdir()
    bin_ = installed / "bin"
    env = clean_env(installed)
    site_before = _site_files(installed)
    log = tmp_path / "strace.log"
    trace = ["strace", "-f", "-A", "--seccomp-bpf", "-e", "trace=open,openat,openat2,execve",
             "-o", str(log)]  # fmt: skip

    where = _run([str(bin_ / "python"), "-c", "import twinbench; print(twinbench.__file__)"],
                 work, env)  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(installed)
    targets = _run([*trace, str(bin_ / "twinbench"), "targets"], work, env)
    assert "fastapi-uvicorn" in targets.stdout
    version = _run([*trace, str(bin_ / "python"), "-m", "twinbench", "--version"], work, env)
    assert "twinbench" in version.stdout
    _run([*trace, str(bin_ / "twinbench"), "db", "init"], work, env)
    run = _run(
        [*trace, str(bin_ / "twinbench"), "run", "--profile", "smoke", "--no-progress",
         "--targets", "fastapi-uvicorn,flask-gunicorn-gevent", "--scenarios", "json,db",
         "--out", "results/smoke"],
        work, env,
    )  # fmt: skip
    assert "results/smoke" in run.stdout
    report = _run(
        [*trace, str(bin_ / "twinbench"), "report", "results/smoke", "-o", "report.html"],
        work, env,
    )  # fmt: skip
    assert "report.html" in report.stdout

    # Everything the run made is in the working folder ...
    assert (work / ".twinbench" / "twinbench.sqlite3").is_file()
    cells = [json.loads(x) for x in (work / "results/smoke/cells.jsonl").read_text().splitlines()]
    assert len(cells) == 4
    # Measured (ok, or invalid on a busy machine): Locust found its locustfiles and plugin,
    # the servers their apps, from the installed package alone.
    assert {c["status"] for c in cells} <= {"ok", "invalid"}, [c["reason"] for c in cells]
    assert (work / "results/smoke/complete.json").is_file()
    html = (work / "report.html").read_text(encoding="utf-8")
    assert "Claims ledger" in html and "json-rps-5x" in html
    # ... nothing in site-packages ...
    assert _site_files(installed) == site_before
    # ... and no process opened (or looked for) anything in the checkout.
    opened = _opened(log)
    assert any("/locust" in p for p in opened)  # the trace saw the children
    from_checkout = sorted({p for p in opened if Path(p).is_relative_to(ROOT)})
    assert from_checkout == [], from_checkout[:20]
