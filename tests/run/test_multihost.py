"""Locust across hosts, for real: network namespaces stand in for four machines.

- 10.200.0.2 (namespace `tb-target`): the target and its mock upstream (`twinbench serve`);
- 10.200.0.1 (this, the root namespace): `twinbench run` and the Locust master;
- 10.200.0.3 and 10.200.0.4 (`tb-w1`, `tb-w2`): one Locust worker loop each.

Each namespace has its own address on a veth pair whose other end is on a bridge here, so
every request crosses namespaces. The commands are README's "More load generators" ones,
read from README.md (the test adds only `--access-log` to the server, and `--out` and
`--no-progress` to the run). The run has two scenarios: `json` runs with both workers, and
its counts are checked against the server's access log; in `plaintext` one worker's machine
is killed (SIGKILL to its whole loop) after the first cell, and the cells it missed must be
invalid with `loader-lost`, the run complete, and nothing left behind.

Needs root (ip netns); it skips with that reason otherwise (CI runs as root).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from twinbench.analysis import histograms as hist
from twinbench.results.model import CellStatus, ReasonKind
from twinbench.results.store import load_histograms, load_run

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
HERE_IP, TARGET_IP, WORKER_IPS = "10.200.0.1", "10.200.0.2", ("10.200.0.3", "10.200.0.4")
NAMESPACES = {"tb-target": TARGET_IP, "tb-w1": WORKER_IPS[0], "tb-w2": WORKER_IPS[1]}
BRIDGE = "tb-br0"
LOCK = "/tmp/twinbench-multihost.lock"  # the addresses are fixed: one such test at a time


# -- README's commands ---------------------------------------------------------------------
@dataclass(frozen=True)
class Commands:
    serve: list[str]
    hosts_toml: str
    run: list[str]
    worker_loop: str


def readme_commands() -> Commands:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("**More load generators.**")
    section = text[start : text.index("\n## ", start)]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
    assert [lang for lang, _ in blocks] == ["sh", "toml", "sh"], "README section changed shape"
    (serve,) = [ln for ln in blocks[0][1].splitlines() if ln and not ln.startswith("#")]
    run_lines, loop_lines, in_loop = [], [], False
    for ln in blocks[2][1].splitlines():
        if ln.startswith("cd loadtests"):
            in_loop = True
        if in_loop:
            loop_lines.append(ln)
        elif ln and not ln.startswith("#"):
            run_lines.append(ln.rstrip("\\").strip())
    return Commands(
        serve=_local(shlex.split(serve)),
        hosts_toml=blocks[1][1],
        run=_local(shlex.split(" ".join(run_lines))),
        worker_loop="\n".join(loop_lines),
    )


def _local(argv: list[str]) -> list[str]:
    """README's `.venv/bin/twinbench` is this interpreter's twinbench."""
    assert argv[0] == ".venv/bin/twinbench", argv
    return [str(BIN / "twinbench"), *argv[1:]]


def test_readme_names_the_addresses_this_test_builds() -> None:
    cmds = readme_commands()
    assert cmds.serve[1:] == [
        "serve", "fastapi-uvicorn", "--host", TARGET_IP, "--port", "8000", "--cpus", "0",
    ]  # fmt: skip
    assert f'url = "http://{TARGET_IP}:8000"' in cmds.hosts_toml
    assert cmds.run[cmds.run.index("--master-bind") + 1] == HERE_IP
    assert cmds.run[cmds.run.index("--remote-workers") + 1] == "2"
    assert f"--master-host {HERE_IP} --master-port 5557" in cmds.worker_loop


# -- the hosts -----------------------------------------------------------------------------
def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _teardown_net() -> None:
    for ns in NAMESPACES:
        for pid in subprocess.run(
            ["ip", "netns", "pids", ns], capture_output=True, text=True, timeout=10
        ).stdout.split():
            with_suppress_kill(int(pid))
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, timeout=10)


def with_suppress_kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def hosts() -> Iterator[None]:
    if os.geteuid() != 0:
        pytest.skip("network namespaces (ip netns, veth pairs) need root; CI runs as root")
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _teardown_net()  # what a killed earlier run may have left
        try:
            _ip("link", "add", BRIDGE, "type", "bridge")
            _ip("addr", "add", f"{HERE_IP}/24", "dev", BRIDGE)
            _ip("link", "set", BRIDGE, "up")
            for i, (ns, addr) in enumerate(NAMESPACES.items()):
                _ip("netns", "add", ns)
                _ip(
                    "link",
                    "add",
                    f"tb-veth{i}",
                    "type",
                    "veth",
                    "peer",
                    "name",
                    "eth0",
                    "netns",
                    ns,
                )
                _ip("link", "set", f"tb-veth{i}", "master", BRIDGE, "up")
                _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
                _ip("-n", ns, "link", "set", "eth0", "up")
                _ip("-n", ns, "link", "set", "lo", "up")
            yield
        finally:
            _teardown_net()
            left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
            assert not any(ns in left for ns in NAMESPACES), left


def _start(ns: str | None, argv: list[str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    prefix = ["ip", "netns", "exec", ns] if ns else []
    with log.open("wb") as fh:
        return subprocess.Popen(
            [*prefix, *argv], cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )


def _kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        except ProcessLookupError:
            pass


def _net_ns(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return ""


def _workers_alive() -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if "--worker" in cmd and f"--master-host {HERE_IP}" in cmd:
            found.append(p)
    return found


def _locust_total(log_dir: Path, scenario: str, name: str) -> int:
    text = "".join(p.read_text(errors="replace") for p in log_dir.glob(f"locust-{scenario}-*"))
    found = re.findall(rf"^GET\s+{re.escape(name)}\s+(\d+)\s+\d+\(", text, re.M)
    assert found, f"no Locust summary line for {name} in {scenario}"
    return int(found[-1])


def _server_counts(log: Path, path: str) -> Counter[str]:
    text = log.read_text(errors="replace")
    return Counter(re.findall(rf'(\d+\.\d+\.\d+\.\d+):\d+ - "GET {re.escape(path)} HTTP', text))


# -- the run -------------------------------------------------------------------------------
@pytest.mark.timeout(420)
def test_remote_workers_across_namespaces(hosts: None, tmp_path: Path) -> None:
    cmds = readme_commands()
    (tmp_path / "target").mkdir()
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "hosts.toml").write_text(cmds.hosts_toml)
    root_ns = _net_ns(os.getpid())
    procs: list[subprocess.Popen[bytes]] = []
    try:
        serve_log = tmp_path / "serve.log"
        server = _start("tb-target", [*cmds.serve, "--access-log"], tmp_path / "target", serve_log)
        procs.append(server)
        deadline = time.monotonic() + 90
        while "serving fastapi-uvicorn" not in serve_log.read_text(errors="replace"):
            assert server.poll() is None, serve_log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the server never became healthy"
            time.sleep(0.3)
        logs_in = re.search(r"logs in (\S+)\. Ctrl-C", serve_log.read_text()).group(1)  # type: ignore[union-attr]
        access_log = Path(logs_in) / "fastapi-uvicorn.stdout.log"
        # reachable from here, across the bridge
        assert httpx.get(f"http://{TARGET_IP}:8000/health", timeout=5).status_code == 200

        loops = [
            _start(ns, ["bash", "-c", cmds.worker_loop], ROOT, tmp_path / f"{ns}.log")
            for ns in ("tb-w1", "tb-w2")
        ]
        procs += loops
        out = tmp_path / "here" / "run"
        run = _start(
            None, [*cmds.run, "--out", str(out), "--no-progress"], tmp_path / "here",
            tmp_path / "run.log",
        )  # fmt: skip
        procs.append(run)

        # Watch the run: the worker processes (in their namespaces), and kill the second
        # worker's machine once the first plaintext cell is in.
        worker_ns: dict[int, str] = {}
        killed_after = ""
        deadline = time.monotonic() + 360
        while run.poll() is None:
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()[-3000:]
            for p in _workers_alive():
                worker_ns.setdefault(p.pid, _net_ns(p.pid))
            cells = out / "cells.jsonl"
            if not killed_after and cells.exists():
                done = [json.loads(x)["cell_id"] for x in cells.read_text().splitlines() if x]
                first = [c for c in done if c.startswith("plaintext.")]
                if first:
                    killed_after = first[0]
                    _kill_group(loops[1], signal.SIGKILL)
            time.sleep(0.2)
        assert run.returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
        assert killed_after, "the run ended before a plaintext cell was written"
    finally:
        for p in reversed(procs):
            _kill_group(p)

    # Nothing left behind: no worker, no server in the namespaces (the fixture removes them).
    assert not _workers_alive()
    for ns in NAMESPACES:
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        assert not pids.stdout.split(), (ns, pids.stdout)

    results = load_run(out)
    assert results.complete and results.summary is not None
    by_scenario: dict[str, list] = {"json": [], "plaintext": []}
    for c in results.cells:
        by_scenario[c.config.scenario].append(c)

    # Three Locust processes: the master here, two workers in their own namespaces.
    assert list((out / "logs").glob("locust-json-master.stderr.log"))
    namespaces = set(worker_ns.values())
    assert len(namespaces) >= 2 and root_ns not in namespaces, worker_ns

    # json: both workers, and the merged histograms count what the server counted.
    served = _server_counts(access_log, "/json")
    assert set(served) == set(WORKER_IPS), served  # every /json came from the two workers
    sent = _locust_total(out / "logs", "json", "/json")
    in_flight = sum(c.config.users or 0 for c in by_scenario["json"])
    assert sent <= sum(served.values()) <= sent + in_flight, (sent, served)
    assert len(by_scenario["json"]) == 3
    figures = []
    for c in by_scenario["json"]:
        assert c.status in (CellStatus.OK, CellStatus.INVALID), (c.cell_id, c.reason)
        assert c.reason_kind is not ReasonKind.LOADER_LOST
        assert c.loader_processes == 2 and len(c.loader_counts) == 2
        assert all(n > 0 for n in c.loader_counts)
        total = c.requests[0].count
        assert sum(c.loader_counts) == total
        hists = load_histograms(out, c.cell_id)
        assert hists is not None and hist.decode(hists.total).get_total_count() == total
        assert c.window is not None
        figures.append((c.cell_id, total, total / c.window.measure_s, c.loader_counts))
    assert sum(f[1] for f in figures) <= sum(served.values())

    # plaintext: the cell before the kill had both workers; the ones after lost one.
    plain = sorted(by_scenario["plaintext"], key=lambda c: c.cell_id)
    before = next(c for c in plain if c.cell_id == killed_after)
    assert before.loader_processes == 2, before
    after = [c for c in plain if c.cell_id != killed_after]
    assert after
    for c in after:
        assert c.status is CellStatus.INVALID and c.reason_kind is ReasonKind.LOADER_LOST, (
            c.cell_id,
            c.status,
            c.reason,
        )
        assert c.reason.startswith("loader-lost: 1 of 2 Locust workers reported this window")
        assert c.requests[0].count > 0 and c.loader_processes == 1

    report = {
        "json_cells": [
            {"cell": cid, "requests": n, "rps": round(rps, 1), "per_worker": list(per)}
            for cid, n, rps, per in figures
        ],
        "server_json_by_client": dict(served),
        "locust_json_total": sent,
        "plaintext": [
            {"cell": c.cell_id, "status": c.status.value, "reason": c.reason,
             "requests": c.requests[0].count, "loader_processes": c.loader_processes}
            for c in plain
        ],
    }  # fmt: skip
    print("multihost figures: " + json.dumps(report, indent=1))
    (Path(os.environ.get("TWINBENCH_MULTIHOST_FIGURES", tmp_path / "f.json"))).write_text(
        json.dumps(report, indent=1)
    )
