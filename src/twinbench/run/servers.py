"""Launch a registry target or the mock upstream as a managed, pinned, health-checked process."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from twinbench.apps.common.settings import DatabaseURL
from twinbench.define.targets import Target
from twinbench.run.process import ManagedProcess, ProcessSpec


@dataclass(frozen=True)
class ServeConfig:
    """Everything that decides how one target runs: printed beside every figure."""

    target: Target
    host: str
    port: int
    workers: int
    threads: int
    cpus: tuple[int, ...] | None
    database: DatabaseURL
    upstream_url: str
    access_log: bool = False

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def pool_size(self) -> int:
        return self.target.pool_size(self.workers, self.threads)

    def env(self) -> dict[str, str]:
        return {
            **self.target.env,
            "TWINBENCH_DATABASE_URL": self.database.url,
            "TWINBENCH_UPSTREAM_URL": self.upstream_url,
            "TWINBENCH_DB_POOL_SIZE": str(self.pool_size),
        }

    def argv(self) -> list[str]:
        return self.target.render_argv(
            python=sys.executable,
            host=self.host,
            port=self.port,
            workers=self.workers,
            threads=self.threads,
            access_log=self.access_log,
        )


def target_process(config: ServeConfig, log_dir: Path, name: str | None = None) -> ManagedProcess:
    spec = ProcessSpec(
        name=name or config.target.name,
        argv=tuple(config.argv()),
        log_dir=log_dir,
        env=config.env(),
        cpus=config.cpus,
        health_url=config.base_url + config.target.health_path,
    )
    return ManagedProcess(spec)


def upstream_process(
    host: str, port: int, log_dir: Path, cpus: tuple[int, ...] | None = None
) -> ManagedProcess:
    spec = ProcessSpec(
        name="upstream",
        argv=(sys.executable, "-m", "twinbench.apps.upstream", "--host", host, "--port", str(port)),
        log_dir=log_dir,
        cpus=cpus,
        health_url=f"http://{host}:{port}/health",
    )
    return ManagedProcess(spec)
