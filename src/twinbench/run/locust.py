"""Locust as child processes: one, or a master and N workers, pinned to the loader CPUs.

The harness never imports locust (it monkey-patches the interpreter with gevent); it writes
a plan file, starts `python -m locust -f loadtests/<scenario>.py --headless --tb-plan ...
--tb-out ...` and tails the output file, one JSON line per finished phase.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import psutil

from twinbench.run.ports import free_port
from twinbench.run.process import ManagedProcess, ProcessSpec


class LocustRun:
    def __init__(
        self,
        *,
        scenario: str,
        locustfile: Path,
        plan: dict[str, Any],
        work_dir: Path,
        log_dir: Path,
        cpus: tuple[int, ...],
        workers: int,
        remote_workers: int = 0,
        master_bind: str = "127.0.0.1",
        master_port: int | None = None,
    ) -> None:
        self.remote_workers = remote_workers  # started by hand on other machines (README)
        self.master_bind = master_bind
        self.master_port = master_port
        self.scenario = scenario
        self.locustfile = locustfile
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
        argv = (sys.executable, "-m", "locust", "-f", str(self.locustfile), *args)
        return ProcessSpec(name=name, argv=argv, log_dir=self.log_dir, cpus=self.cpus or None)

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
