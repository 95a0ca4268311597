"""Child processes we start and must always stop: servers, the upstream mock, Locust.

Each runs in its own session (process group) so one signal reaches its whole tree, and is
launched through `twinbench.run.pin`, which pins it to CPUs and asks the kernel to SIGTERM it
if the harness dies. (The kernel ties that signal to the *thread* that started the child, so
start children from a long-lived thread, normally the main one.) Every live process is also
stopped at interpreter exit. psutil does
the tree walking (workers a server forked) and the final sweep.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
import psutil

from twinbench.errors import ServerDiedError, ServerStartError

_LIVE: set[ManagedProcess] = set()
_LIVE_LOCK = threading.Lock()


@dataclass(frozen=True)
class ProcessSpec:
    name: str  # used for log file names and messages
    argv: tuple[str, ...]
    log_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)  # added to the harness environment
    cpus: tuple[int, ...] | None = None
    health_url: str | None = None
    cwd: Path | None = None


def tail(path: Path, lines: int = 20) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 16384))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class ManagedProcess:
    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec
        self._popen: subprocess.Popen[bytes] | None = None
        self.stdout_path = spec.log_dir / f"{spec.name}.stdout.log"
        self.stderr_path = spec.log_dir / f"{spec.name}.stderr.log"

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> ManagedProcess:
        self.spec.log_dir.mkdir(parents=True, exist_ok=True)
        cpus = ",".join(map(str, self.spec.cpus)) if self.spec.cpus else "-"
        argv = [sys.executable, "-m", "twinbench.run.pin", cpus, "--", *self.spec.argv]
        env = {**os.environ, **self.spec.env, "PYTHONUNBUFFERED": "1"}
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self._popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                cwd=self.spec.cwd,
                start_new_session=True,
            )
        with _LIVE_LOCK:
            _LIVE.add(self)
        return self

    @property
    def pid(self) -> int:
        if self._popen is None:
            raise RuntimeError(f"{self.spec.name} was not started")
        return self._popen.pid

    @property
    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def stderr_tail(self, lines: int = 20) -> str:
        return tail(self.stderr_path, lines)

    def wait_healthy(self, timeout: float = 30.0) -> float:
        """Poll the health URL until 200. Returns the seconds it took."""
        url = self.spec.health_url
        if url is None:
            return 0.0
        started = time.monotonic()
        deadline = started + timeout
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                if not self.alive:
                    raise ServerStartError(
                        f"{self.spec.name} exited with code {self.returncode} during start-up",
                        self.stderr_tail(),
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(url).status_code == 200:
                        return time.monotonic() - started
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServerStartError(
                        f"{self.spec.name} did not answer 200 on {url} within {timeout:.0f} s",
                        self.stderr_tail(),
                    )
                time.sleep(0.05)

    def answers_promptly(self, within_s: float = 0.1) -> bool:
        """Whether the health URL answers (any status) within `within_s` on a new connection:
        False for a server still working through a backlog of queued requests."""
        url = self.spec.health_url
        if url is None or not self.alive:
            return url is None
        try:
            with httpx.Client(timeout=within_s, trust_env=False) as client:
                client.get(url)
        except httpx.HTTPError:
            return False
        return True

    def check_alive(self) -> None:
        if self._popen is not None and not self.alive:
            raise ServerDiedError(
                f"{self.spec.name} exited with code {self.returncode}", self.stderr_tail()
            )

    def tree(self) -> list[psutil.Process]:
        """The process and every descendant (server workers), for sampling."""
        if not self.alive:
            return []
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the whole group, wait, then SIGKILL whatever is left. Idempotent."""
        popen = self._popen
        if popen is None:
            return None
        members = self.tree()
        if popen.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(popen.pid, signal.SIGTERM)
            try:
                popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(popen.pid, signal.SIGKILL)
                popen.wait(5)
        # Workers that left the group or outlived their master: sweep them too.
        _, survivors = psutil.wait_procs(members, timeout=2)
        for proc in survivors:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        with _LIVE_LOCK:
            _LIVE.discard(self)
        return popen.returncode

    def __enter__(self) -> ManagedProcess:
        return self if self._popen else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ExternalProcess(ManagedProcess):
    """A server something else started (an external target): never started or stopped here.

    It counts as alive unless its pid file names a process that is gone; its process tree is
    the pid file's process and its descendants, or nothing (then CPU and memory are not
    measured). The health URL works as for a managed server.
    """

    def __init__(self, spec: ProcessSpec, pid_file: str = "") -> None:
        super().__init__(spec)
        self.pid_file = pid_file

    def start(self) -> ManagedProcess:
        return self

    def _root(self) -> psutil.Process | None:
        if not self.pid_file:
            return None
        try:
            pid = int(Path(self.pid_file).read_text(encoding="ascii").strip())
            return psutil.Process(pid)
        except (OSError, ValueError, psutil.Error):
            return None

    @property
    def pid(self) -> int:
        root = self._root()
        if root is None:
            raise RuntimeError(f"{self.spec.name} is external: no process id known")
        return int(root.pid)

    @property
    def alive(self) -> bool:
        return not self.pid_file or self._root() is not None

    @property
    def returncode(self) -> int | None:
        return None

    def stderr_tail(self, lines: int = 20) -> str:
        return ""

    def tree(self) -> list[psutil.Process]:
        root = self._root()
        if root is None:
            return []
        try:
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def stop(self, timeout: float = 10.0) -> int | None:
        return None


def stop_all() -> None:
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        proc.stop(timeout=5)


atexit.register(stop_all)
