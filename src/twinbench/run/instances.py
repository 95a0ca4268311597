"""The servers a run measures: started on demand, watched, restarted after a crash, stopped.

A server keeps its port for the whole run, because a scenario's Locust plan names each
target's URL once: after a crash the runner restarts the server on the same port and the
plan's later phases find it again. Every start gets its own log files (`<target>.w<N>.<k>`),
so a crashed server's stderr is never overwritten by its successor's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from twinbench.apps.common.settings import DatabaseURL
from twinbench.define.plan import Instance
from twinbench.errors import ServerStartError
from twinbench.run.ports import free_port
from twinbench.run.process import ManagedProcess
from twinbench.run.sampler import Sampler
from twinbench.run.servers import ServeConfig, target_process

HEALTH_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Outage:
    """A server was down (or restarting) from `down_ns` to `up_ns` (None: still restarting);
    when the restart failed, `up_ns` is when it was given up and the server is not running."""

    key: tuple[str, int, int]
    target: str
    down_ns: int
    restart_ns: int  # when the replacement began starting (it uses the target CPUs)
    up_ns: int | None
    exit: str
    stderr_tail: str


@dataclass
class Running:
    instance: Instance
    config: ServeConfig
    proc: ManagedProcess
    starts: int = 1
    last_alive_ns: int = field(default_factory=time.time_ns)

    @property
    def sampler_key(self) -> str:
        name, workers, threads = self.instance.key
        return f"target:{name}.w{workers}.t{threads}"


class Servers:
    def __init__(
        self,
        *,
        host: str,
        cpus: tuple[int, ...],
        database: DatabaseURL,
        upstream_url: str,
        log_dir: Path,
        sampler: Sampler,
        access_log: bool = False,
        ports: dict[tuple[str, int, int], int] | None = None,
    ) -> None:
        self.ports = ports or {}  # fixed ports (--base-port); others get a free one
        self.host = host
        self.cpus = cpus
        self.database = database
        self.upstream_url = upstream_url
        self.log_dir = log_dir
        self.sampler = sampler
        self.access_log = access_log
        self.running: dict[tuple[str, int, int], Running] = {}
        self.outages: list[Outage] = []
        # Starts per server across stops and restarts: each start logs to its own files.
        self.starts: dict[tuple[str, int, int], int] = {}

    def _spawn(self, run: Running) -> None:
        name, workers, _ = run.instance.key
        run.starts = self.starts[run.instance.key] = self.starts.get(run.instance.key, 0) + 1
        run.proc = target_process(run.config, self.log_dir, f"{name}.w{workers}.{run.starts}")
        run.proc.start()
        self.sampler.watch_tree(run.sampler_key, run.proc.tree)

    def _launch(self, run: Running) -> None:
        self._spawn(run)
        run.proc.wait_healthy(HEALTH_TIMEOUT_S)
        run.last_alive_ns = time.time_ns()

    def ensure_all(self, instances: list[Instance]) -> dict[str, ServerStartError]:
        """Start every missing server at once, then wait for each: start-ups overlap their
        waits (imports, database pools). Returns the failures by target name."""
        fresh = [self._new(i) for i in instances if i.key not in self.running]
        for run in fresh:
            self._spawn(run)
        failed = {}
        for run in fresh:
            try:
                run.proc.wait_healthy(HEALTH_TIMEOUT_S)
                run.last_alive_ns = time.time_ns()
                self.running[run.instance.key] = run
            except ServerStartError as exc:
                run.proc.stop()
                self.sampler.unwatch(run.sampler_key)
                failed[run.instance.target.name] = exc
        return failed

    def ensure(self, inst: Instance) -> Running:
        """The running server for `inst`, started if needed. Raises ServerStartError."""
        failed = self.ensure_all([inst])
        if failed:
            raise next(iter(failed.values()))
        return self.running[inst.key]

    def _new(self, inst: Instance) -> Running:
        config = ServeConfig(
            target=inst.target,
            host=self.host,
            port=self.ports.get(inst.key) or free_port(self.host),
            workers=inst.workers,
            threads=inst.threads,
            cpus=self.cpus,
            database=self.database,
            upstream_url=self.upstream_url,
            access_log=self.access_log,
        )
        return Running(inst, config, target_process(config, self.log_dir))

    def poll(self) -> list[Outage]:
        """Find servers that died since the last poll; restart each on its port."""
        found = []
        for run in list(self.running.values()):
            if run.proc.alive:
                run.last_alive_ns = time.time_ns()
                continue
            exit_text = f"exited with code {run.proc.returncode}"
            down_ns = run.last_alive_ns  # _launch below moves last_alive_ns on
            tail = run.proc.stderr_tail()
            run.proc.stop()
            restart_ns = time.time_ns()
            up_ns: int | None = None
            try:
                self._launch(run)
                up_ns = time.time_ns()
            except ServerStartError as exc:
                exit_text += f"; the restart failed: {exc}"
                run.proc.stop()
                del self.running[run.instance.key]
                # The target CPUs are quiet again from here: the outage ends for everyone
                # else, and the runner fails this target's later cells (it is not running).
                up_ns = time.time_ns()
            outage = Outage(
                run.instance.key,
                run.instance.target.name,
                down_ns,
                restart_ns,
                up_ns,
                exit_text,
                tail,
            )
            self.outages.append(outage)
            found.append(outage)
        return found

    def stop(self, key: tuple[str, int, int]) -> None:
        run = self.running.pop(key, None)
        if run is not None:
            self.sampler.unwatch(run.sampler_key)
            run.proc.stop()

    def stop_all(self) -> None:
        for key in list(self.running):
            self.stop(key)
