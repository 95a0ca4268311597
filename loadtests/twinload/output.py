"""The JSON-lines output: one durable line per finished phase."""

from __future__ import annotations

import json
import os
from typing import Any

SCHEMA = 1


def append_line(path: str, line: dict[str, Any]) -> None:
    """Append, flush and fsync, so a crash later in the run keeps every finished phase."""
    data = json.dumps(line, separators=(",", ":")) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def phase_line(
    *,
    phase_id: str,
    scenario: str,
    host: str,
    model: str,
    users: int | None,
    rate: float | None,
    loader_processes: int,
    t_start_ns: int,
    t_measure_start_ns: int,
    t_measure_end_ns: int,
    merged: dict[str, Any],
    settle: dict[str, Any] | None = None,
    users_started: int | None = None,
) -> dict[str, Any]:
    seconds = max(1e-9, (t_measure_end_ns - t_measure_start_ns) / 1e9)
    return {
        "schema": SCHEMA,
        "phase_id": phase_id,
        "scenario": scenario,
        "host": host,
        "model": model,
        "users": users,
        "rate": rate,
        # the processes whose reports this window merges, and each one's completed requests
        "loader_processes": loader_processes,
        "loader_counts": merged.get("loader_counts", []),
        "t_start_ns": t_start_ns,
        "t_measure_start_ns": t_measure_start_ns,
        "t_measure_end_ns": t_measure_end_ns,
        "requests": merged["requests"],
        "total": merged["total"],
        "open": merged["open"],
        "gauges": merged["gauges"],
        "counters": merged["counters"],
        # counters per second of the measured window (e.g. sse_events -> events/s)
        "rates": {k: v / seconds for k, v in merged["counters"].items()},
        "errors": merged["errors"],
        # how long the phase waited for its target to go quiet first (plan.Phase.settle_url)
        "settle": settle,
        # users (closed) or schedulers (open) running when the window opened
        "users_started": users_started,
    }
