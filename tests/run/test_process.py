from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from twinbench.errors import ServerDiedError, ServerStartError
from twinbench.run.process import ManagedProcess, ProcessSpec

# A "server" that forks a worker, like gunicorn does, and ignores SIGTERM in the worker:
# stop() must still leave nothing behind.
FORKING = """
import os, signal, sys, time
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(60)
    sys.exit(0)
print(os.sched_getaffinity(0), flush=True)
time.sleep(60)
"""


def _spec(tmp_path: Path, code: str, **kw: object) -> ProcessSpec:
    return ProcessSpec(name="p", argv=(sys.executable, "-c", code), log_dir=tmp_path, **kw)  # type: ignore[arg-type]


def test_stop_kills_the_whole_tree_even_a_stubborn_worker(tmp_path: Path) -> None:
    proc = ManagedProcess(_spec(tmp_path, FORKING)).start()
    deadline = time.monotonic() + 10
    while len(proc.tree()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = [p.pid for p in proc.tree()]
    assert len(pids) == 2
    proc.stop(timeout=2)
    time.sleep(0.2)
    assert not any(
        psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in pids
    )


def test_pinning_is_applied_before_the_program_starts(tmp_path: Path) -> None:
    cpu = sorted(os.sched_getaffinity(0))[-1]
    with ManagedProcess(_spec(tmp_path, FORKING, cpus=(cpu,))) as proc:
        deadline = time.monotonic() + 10
        while not proc.stdout_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.stdout_path.read_text().strip() == str({cpu})
        assert all(p.cpu_affinity() == [cpu] for p in proc.tree())


def test_start_failure_carries_stderr_tail(tmp_path: Path) -> None:
    code = "import sys; sys.stderr.write('boom: bad config\\n'); sys.exit(3)"
    proc = ManagedProcess(_spec(tmp_path, code, health_url="http://127.0.0.1:9/health")).start()
    with pytest.raises(ServerStartError, match="exited with code 3") as info:
        proc.wait_healthy(10)
    assert "boom: bad config" in info.value.stderr_tail


def test_health_timeout_stops_the_process(tmp_path: Path) -> None:
    code = "import time; time.sleep(30)"
    proc = ManagedProcess(_spec(tmp_path, code, health_url="http://127.0.0.1:9/health")).start()
    with pytest.raises(ServerStartError, match="did not answer 200"):
        proc.wait_healthy(0.5)
    assert not proc.alive


def test_check_alive_reports_a_death(tmp_path: Path) -> None:
    proc = ManagedProcess(_spec(tmp_path, "import time; time.sleep(30)")).start()
    proc.check_alive()
    os.kill(proc.pid, signal.SIGKILL)
    proc._popen.wait(5)  # type: ignore[union-attr]
    with pytest.raises(ServerDiedError, match="exited with code -9"):
        proc.check_alive()
    proc.stop()


def test_children_die_with_a_killed_harness(tmp_path: Path) -> None:
    """SIGKILL the harness: PDEATHSIG from twinbench.run.pin must take the child down."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from twinbench.run.process import ManagedProcess, ProcessSpec\n"
        "argv = (sys.executable, '-c', 'import time; time.sleep(60)')\n"
        f"p = ManagedProcess(ProcessSpec('c', argv, Path({str(tmp_path)!r}))).start()\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    harness = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert harness.stdout is not None
    child = int(harness.stdout.readline())
    time.sleep(0.3)  # let _pin set PDEATHSIG and exec
    harness.kill()
    harness.wait(5)
    deadline = time.monotonic() + 5
    while psutil.pid_exists(child) and time.monotonic() < deadline:
        with_status = psutil.Process(child).status() if psutil.pid_exists(child) else "gone"
        if with_status == "zombie":
            break
        time.sleep(0.05)
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == "zombie"


SLOW_SERVER = """
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(float(sys.argv[2]))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


@pytest.mark.slow
@pytest.mark.parametrize(("delay_s", "prompt"), [(0.0, True), (0.5, False)])
def test_answers_promptly_tells_a_backlogged_server(
    tmp_path: Path, delay_s: float, prompt: bool
) -> None:
    from twinbench.run.ports import free_port

    port = free_port("127.0.0.1")
    spec = ProcessSpec(
        name="slow",
        argv=(sys.executable, "-c", SLOW_SERVER, str(port), str(delay_s)),
        log_dir=tmp_path,
        health_url=f"http://127.0.0.1:{port}/health",
    )
    with ManagedProcess(spec).start() as proc:
        proc.wait_healthy(20)
        assert proc.answers_promptly(0.1) is prompt
