"""Locust as child processes: one, or a master and N workers, pinned to the loader CPUs.

The harness never imports locust (it monkey-patches the interpreter with gevent); it writes
a plan file, starts `python -m locust -f loadtests/<scenario>.py --headless --tb-plan ...
--tb-out ...` and tails the output file, one JSON line per finished phase.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from twinbench import packaged
from twinbench.define.scenarios import Scenario
from twinbench.errors import UsageError
from twinbench.run.ports import free_port
from twinbench.run.process import ManagedProcess, ProcessSpec

# Loaded before a team's own locustfile (`-f twinbench_plugin.py,theirs.py`): it attaches the
# twinload plugin to the User classes of the other file, which stays unmodified.
PLUGIN = "twinbench_plugin.py"
CHECK_TIMEOUT_S = 60.0


def locustfiles(sc: Scenario) -> tuple[Path, ...]:
    """What `-f` loads for a scenario: its built-in locustfile, or the plugin and the team's."""
    if sc.builtin:
        return (packaged.locustfile(sc.locustfile),)
    return (packaged.locustfile(PLUGIN), Path(sc.locustfile))


def locust_cwd(sc: Scenario) -> Path | None:
    """A team's locustfile runs from its own folder (its imports, its relative paths)."""
    return None if sc.builtin else Path(sc.locustfile).parent


@dataclass(frozen=True)
class LocustfileInfo:
    users: tuple[str, ...]  # the User classes Locust found
    open_model: bool  # their tasks are plain functions: the open model can draw them
    open_problem: str  # why not, when not


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def check_locustfile(sc: Scenario) -> LocustfileInfo:
    """Load a team's locustfile in Locust, as a run will, and say what it defines; a file that
    does not import, or defines no User class, is a UsageError with Locust's own error. Locust
    runs as a child process: the harness never imports it."""
    where = f"{sc.source}: scenario {sc.name}: locustfile {sc.locustfile}"
    files = ",".join(str(p) for p in locustfiles(sc))
    with tempfile.TemporaryDirectory(prefix="twinbench-check-") as tmp:
        out = Path(tmp) / "check.json"
        argv = [sys.executable, "-m", "locust", "-f", files, "--headless", "--tb-check", str(out)]
        try:
            proc = subprocess.run(
                argv,
                cwd=locust_cwd(sc),
                capture_output=True,
                text=True,
                timeout=CHECK_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise UsageError(
                f"{where}: Locust did not load it within {CHECK_TIMEOUT_S:g} s"
            ) from None
        if not out.exists():
            err = proc.stderr + proc.stdout
            if "No User class found" in err:
                raise UsageError(f"{where}: defines no User class (HttpUser or FastHttpUser)")
            raise UsageError(f"{where}: Locust cannot load it: {_last_line(err)}")
        raw = json.loads(out.read_text(encoding="utf-8"))
    if not raw.get("users"):
        raise UsageError(f"{where}: defines no User class (HttpUser or FastHttpUser)")
    return LocustfileInfo(
        tuple(raw["users"]), bool(raw.get("open_model")), str(raw.get("open_problem", ""))
    )


class LocustRun:
    def __init__(
        self,
        *,
        scenario: str,
        locustfile: Path | tuple[Path, ...],
        plan: dict[str, Any],
        work_dir: Path,
        log_dir: Path,
        cpus: tuple[int, ...],
        workers: int,
        remote_workers: int = 0,
        master_bind: str = "127.0.0.1",
        master_port: int | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.remote_workers = remote_workers  # started by hand on other machines (README)
        self.master_bind = master_bind
        self.master_port = master_port
        self.scenario = scenario
        self.locustfiles = locustfile if isinstance(locustfile, tuple) else (locustfile,)
        self.cwd = cwd
        work_dir = work_dir.resolve()  # Locust may run in another folder (cwd)
        self.plan_path = work_dir / f"{scenario}.plan.json"
        self.out_path = work_dir / f"{scenario}.out.jsonl"
        self.log_dir = log_dir
        self.cpus = cpus
        self.workers = workers
        self.procs: list[ManagedProcess] = []
        self._offset = 0
        work_dir.mkdir(parents=True, exist_ok=True)
        self.plan_path.write_text(json.dumps(plan, indent=1), encoding="utf-8")

    def _spec(self, name: str, args: list[str]) -> ProcessSpec:
        files = ",".join(str(p) for p in self.locustfiles)
        argv = (sys.executable, "-m", "locust", "-f", files, *args)
        return ProcessSpec(
            name=name, argv=argv, log_dir=self.log_dir, cpus=self.cpus or None, cwd=self.cwd
        )

    def start(self) -> LocustRun:
        common = [
            "--headless",
            "--only-summary",
            "--exit-code-on-error",
            "0",
            "--tb-plan",
            str(self.plan_path),
            "--tb-out",
            str(self.out_path),
        ]
        if self.workers + self.remote_workers <= 0:
            self.procs.append(ManagedProcess(self._spec(f"locust-{self.scenario}", common)))
        else:
            port = self.master_port or free_port()
            master = [
                *common,
                "--master",
                "--expect-workers",
                str(self.workers + self.remote_workers),
                "--master-bind-host",
                self.master_bind,
                "--master-bind-port",
                str(port),
            ]
            self.procs.append(ManagedProcess(self._spec(f"locust-{self.scenario}-master", master)))
            for i in range(self.workers):
                worker = ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
                name = f"locust-{self.scenario}-worker{i + 1}"
                self.procs.append(ManagedProcess(self._spec(name, worker)))
        for p in self.procs:
            p.start()
        return self

    @property
    def alive(self) -> bool:
        return bool(self.procs) and self.procs[0].alive

    def tree(self) -> list[psutil.Process]:
        return [member for p in self.procs for member in p.tree()]

    def stderr_tail(self) -> str:
        return self.procs[0].stderr_tail() if self.procs else ""

    def new_lines(self) -> list[dict[str, Any]]:
        """Complete lines appended since the last call (a partial last line waits)."""
        try:
            with self.out_path.open("rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self._offset += end + 1
        lines = []
        for raw in data[: end + 1].splitlines():
            if raw.strip():
                try:
                    lines.append(json.loads(raw))
                except json.JSONDecodeError:
                    continue
        return lines

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop(timeout=10)
