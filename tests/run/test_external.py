"""External targets: a server something else started is measured, never started or stopped.

The test starts a real server (`twinbench serve`) itself, then runs twinbench against its URL
twice over: once by URL alone (CPU and memory "not measured (external target)", never zero),
once with a pid file naming the server process (CPU and memory read from its tree).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from runner_support import run_cli

from twinbench.analysis.derive import analyse
from twinbench.results.model import NOT_MEASURED_EXTERNAL, CellStatus
from twinbench.results.store import load_run
from twinbench.run.ports import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """`twinbench serve fastapi-uvicorn` on a free port: (base URL, the uvicorn process id)."""
    tmp = tmp_path_factory.mktemp("external-server")
    port = free_port()
    argv = [sys.executable, "-m", "twinbench", "serve", "fastapi-uvicorn", "--port", str(port)]
    argv += ["--cpus", "0", "--database", f"sqlite:///{tmp / 'db.sqlite3'}"]
    proc = subprocess.Popen(argv, cwd=tmp, start_new_session=True, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "twinbench serve exited"
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "twinbench serve never became healthy"
            time.sleep(0.2)
        kids = psutil.Process(proc.pid).children(recursive=True)
        uvicorn = [p for p in kids if "uvicorn" in " ".join(p.cmdline())]
        assert uvicorn, "no uvicorn process under twinbench serve"
        yield url, min(p.pid for p in uvicorn)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _config(tmp: Path, text: str) -> Path:
    path = tmp / "external.toml"
    path.write_text(text)
    return path


@pytest.mark.timeout(240)
def test_external_target_is_measured_not_started(server: tuple[str, int], tmp_path: Path) -> None:
    url, pid = server
    (tmp_path / "server.pid").write_text(f"{pid}\n")
    config = _config(
        tmp_path,
        f'[[target]]\nname = "ext"\napp = "fastapi"\nserver = "uvicorn"\nurl = "{url}"\n\n'
        f'[[target]]\nname = "ext-pid"\napp = "fastapi"\nurl = "{url}"\n'
        f'pid_file = "{tmp_path / "server.pid"}"\n',
    )
    done = run_cli(
        tmp_path,
        *("--config", str(config), "--targets", "ext,ext-pid", "--scenarios", "json"),
        *("--users", "4", "--repeats", "2", "--warmup-s", "0.5", "--measure-s", "2"),
        timeout=200,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert psutil.pid_exists(pid), "twinbench stopped a server it did not start"
    assert httpx.get(url + "/health", timeout=2).status_code == 200

    results = load_run(tmp_path / "run")
    targets = {t.name: t for t in results.run.targets}
    assert targets["ext"].url == url and targets["ext"].pid_file == ""
    assert not targets["ext"].resources_measured and targets["ext-pid"].resources_measured
    index = analyse(results)
    assert len(results.cells) == 4
    for cell in results.cells:
        assert cell.status in (CellStatus.OK, CellStatus.INVALID), (cell.cell_id, cell.reason)
        assert cell.requests[0].count > 0
        cpu = index.value(cell, "cpu_per_request")
        rss = index.value(cell, "target_rss_max")
        if cell.config.target == "ext":
            assert cpu is None and rss is None  # not measured: never read as zero
        else:
            assert cpu is not None and cpu > 0 and rss is not None and rss > 10e6

    from twinbench.report.build import write_report

    out = tmp_path / "report.html"
    write_report([tmp_path / "run"], out)
    html = out.read_text()
    assert NOT_MEASURED_EXTERNAL in html
    assert f"external at {url}" in html


def test_unreachable_external_target_is_one_line(tmp_path: Path) -> None:
    port = free_port()
    config = _config(tmp_path, f'[[target]]\nname = "gone"\nurl = "http://127.0.0.1:{port}"\n')
    done = run_cli(tmp_path, "--config", str(config), "--targets", "gone", timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"target gone: http://127.0.0.1:{port}/health did not answer 200" in lines[0]
    assert not (tmp_path / "run").exists()


def test_remote_external_target_needs_allow_remote(tmp_path: Path) -> None:
    config = _config(tmp_path, '[[target]]\nname = "far"\nurl = "http://10.9.8.7:80"\n')
    done = run_cli(tmp_path, "--config", str(config), "--targets", "far", timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "twinbench: error: target far: url http://10.9.8.7:80 is not loopback; pass --allow-remote"
    )


def test_stale_pid_file_is_one_line(server: tuple[str, int], tmp_path: Path) -> None:
    url, _ = server
    (tmp_path / "stale.pid").write_text("999999999\n")
    config = _config(
        tmp_path,
        f'[[target]]\nname = "ext"\nurl = "{url}"\npid_file = "{tmp_path / "stale.pid"}"\n',
    )
    done = run_cli(tmp_path, "--config", str(config), "--targets", "ext", timeout=60)
    assert done.returncode == 2
    assert "pid_file" in done.stderr and "does not name a running process" in done.stderr
