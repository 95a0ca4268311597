"""The /sse/stream event schedule and wire format. No I/O: the clock and the sleep are injected
(real ones by default), so the timing rules can be tested without waiting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

HEARTBEAT = b": heartbeat\n\n"
_NS_PER_MS = 1_000_000


def format_event(seq: int, total: int, sent_ns: int) -> bytes:
    # Same text as json.dumps({"seq": ..., "total": ..., "sent_ns": ...}) with default separators.
    return f'id: {seq}\ndata: {{"seq": {seq}, "total": {total}, "sent_ns": {sent_ns}}}\n\n'.encode()


def event_stream(
    last_event_id: int,
    total: int,
    interval_ms: int,
    heartbeat_ms: int,
    *,
    clock_ns: Callable[[], int] = time.monotonic_ns,
    sleep: Callable[[float], None] = time.sleep,
    wall_ns: Callable[[], int] = time.time_ns,
) -> Iterator[bytes]:
    """Events last_event_id+1..total: the first at once, then one every `interval_ms` (on a
    fixed schedule, so slow writes do not make the stream drift), and a heartbeat comment
    whenever `heartbeat_ms` passes without a write while waiting for the next event.

    The schedule is kept in integer nanoseconds so that "interval == heartbeat" is exact and
    never produces a spurious heartbeat from float rounding."""
    interval_ns = interval_ms * _NS_PER_MS
    heartbeat_ns = heartbeat_ms * _NS_PER_MS
    first = last_event_id + 1
    start = clock_ns()
    last_write = start
    for seq in range(first, total + 1):
        due = start + (seq - first) * interval_ns
        while (beat := last_write + heartbeat_ns) < due:
            _sleep_until(beat, clock_ns, sleep)
            yield HEARTBEAT
            last_write = beat
        _sleep_until(due, clock_ns, sleep)
        yield format_event(seq, total, wall_ns())
        last_write = due


def _sleep_until(
    deadline_ns: int, clock_ns: Callable[[], int], sleep: Callable[[float], None]
) -> None:
    remaining_ns = deadline_ns - clock_ns()
    if remaining_ns > 0:
        sleep(remaining_ns / 1e9)
