from __future__ import annotations

import contextlib
from collections.abc import Iterator

from twinbench.run.process import ManagedProcess


@contextlib.contextmanager
def running(proc: ManagedProcess, timeout: float = 60) -> Iterator[ManagedProcess]:
    """Start, wait for health, yield; always stop (with every child)."""
    with proc:
        proc.wait_healthy(timeout)
        yield proc
