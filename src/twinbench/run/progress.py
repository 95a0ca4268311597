"""The live progress line: current cell, cells done/total, elapsed, estimated remaining.

Drawn with rich on stderr when it is a terminal; otherwise (CI, tests, a pipe) one plain
line per finished scenario, so logs stay readable.
"""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from twinbench.results.model import CellResult


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class RunProgress:
    def __init__(self, total: int, enabled: bool = True, console: Console | None = None) -> None:
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.console = console or Console(stderr=True)
        self.live = enabled and self.console.is_terminal
        self.enabled = enabled
        self.current = ""
        self.remaining_s = 0.0
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self.by_status: dict[str, int] = {}

    def __enter__(self) -> RunProgress:
        if self.live:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[clock]}"),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("starting", total=self.total, clock="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._refresh()
            self._progress.stop()

    def _refresh(self) -> None:
        if self._progress is None or self._task is None:
            return
        elapsed = time.monotonic() - self.started
        clock = f"elapsed {_clock(elapsed)}, ~{_clock(self.remaining_s)} left"
        self._progress.update(
            self._task, description=self.current or "…", completed=self.done, clock=clock
        )

    def note(self, text: str, remaining_s: float | None = None) -> None:
        """What is happening now (the current cell, or a server starting)."""
        self.current = text
        if remaining_s is not None:
            self.remaining_s = remaining_s
        self._refresh()

    def cell(self, result: CellResult) -> None:
        self.done += 1
        key = result.status.value
        self.by_status[key] = self.by_status.get(key, 0) + 1
        self._refresh()

    def scenario_done(self, name: str) -> None:
        if self.enabled and not self.live:
            counts = ", ".join(f"{v} {k}" for k, v in sorted(self.by_status.items()))
            elapsed = time.monotonic() - self.started
            print(
                f"twinbench: {name} done; {self.done}/{self.total} cells ({counts}), "
                f"elapsed {_clock(elapsed)}, ~{_clock(self.remaining_s)} left",
                file=sys.stderr,
                flush=True,
            )
