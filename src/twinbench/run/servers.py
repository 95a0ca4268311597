"""Launch a registry target or the mock upstream as a managed, pinned, health-checked process."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from twinbench.apps.common.settings import DatabaseURL
from twinbench.define.targets import Target
from twinbench.errors import UsageError
from twinbench.run.ports import is_loopback
from twinbench.run.process import ExternalProcess, ManagedProcess, ProcessSpec


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
        if self.target.external:
            return self.target.url
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
    if config.target.external:
        health = ProcessSpec(
            name or config.target.name,
            (),
            log_dir,
            health_url=config.base_url + config.target.health_path,
        )
        return ExternalProcess(health, config.target.pid_file)
    spec = ProcessSpec(
        name=name or config.target.name,
        argv=tuple(config.argv()),
        log_dir=log_dir,
        env=config.env(),
        cpus=config.cpus,
        health_url=config.base_url + config.target.health_path,
        cwd=Path(config.target.cwd) if config.target.cwd else None,
    )
    return ManagedProcess(spec)


EXTERNAL_CHECK_S = 5.0


def check_external(target: Target, allow_remote: bool, timeout: float = EXTERNAL_CHECK_S) -> None:
    """Before a run: an external target must be allowed (loopback, or --allow-remote), answer
    200 on its health path, and have a readable pid file if it names one. One line if not."""
    host = urlsplit(target.url).hostname or ""
    if not is_loopback(host) and not allow_remote:
        raise UsageError(
            f"target {target.name}: url {target.url} is not loopback; pass --allow-remote"
        )
    url = target.url + target.health_path
    deadline = time.monotonic() + timeout
    why = ""
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while True:
            try:
                status = client.get(url).status_code
                if status == 200:
                    break
                why = f"it answered {status}"
            except httpx.HTTPError as exc:
                why = str(exc) or type(exc).__name__
            if time.monotonic() >= deadline:
                raise UsageError(
                    f"target {target.name}: {url} did not answer 200 within {timeout:g} s "
                    f"({why}); start it first, or fix its url"
                )
            time.sleep(0.2)
    if target.pid_file:
        probe = ExternalProcess(ProcessSpec(target.name, (), Path(".")), target.pid_file)
        if not probe.tree():
            raise UsageError(
                f"target {target.name}: pid_file {target.pid_file} does not name a running "
                "process on this machine"
            )


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
