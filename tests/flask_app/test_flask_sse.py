"""The SSE schedule and wire format, with a fake clock (no waiting)."""

from __future__ import annotations

import json

from twinbench.apps.flask_app.sse import HEARTBEAT, event_stream, format_event


class FakeClock:
    """Monotonic nanoseconds, advanced only by `sleep`."""

    def __init__(self) -> None:
        self.now = 100 * 10**9
        self.sleeps: list[float] = []

    def __call__(self) -> int:
        return self.now

    @property
    def elapsed(self) -> float:
        return (self.now - 100 * 10**9) / 1e9

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += round(seconds * 1e9)


def _run(last: int, total: int, interval_ms: int, heartbeat_ms: int) -> tuple[list[str], FakeClock]:
    clock = FakeClock()
    out: list[str] = []
    for chunk in event_stream(
        last,
        total,
        interval_ms,
        heartbeat_ms,
        clock_ns=clock,
        sleep=clock.sleep,
        wall_ns=lambda: clock.now,
    ):
        out.append(f"{clock.elapsed:.3f} " + ("HB" if chunk == HEARTBEAT else chunk.decode()))
    return out, clock


def test_format_event_is_json_with_default_separators() -> None:
    raw = format_event(3, 10, 1732280000123456789)
    assert raw == (b'id: 3\ndata: {"seq": 3, "total": 10, "sent_ns": 1732280000123456789}\n\n')
    data = raw.decode().split("data: ", 1)[1].strip()
    assert json.dumps(json.loads(data)) == data


def test_first_event_at_once_then_every_interval() -> None:
    out, clock = _run(0, 3, 100, 15_000)
    assert [line.split(" ", 1)[0] for line in out] == ["0.000", "0.100", "0.200"]
    assert [line.split("\n")[0].split(" ", 1)[1] for line in out] == ["id: 1", "id: 2", "id: 3"]
    assert clock.sleeps == [0.1, 0.1]


def test_heartbeats_while_waiting_longer_than_h() -> None:
    out, _ = _run(0, 2, 250, 100)
    assert [line.split("\n")[0] for line in out] == [
        "0.000 id: 1",
        "0.100 HB",
        "0.200 HB",
        "0.250 id: 2",
    ]


def test_no_heartbeat_when_interval_equals_h() -> None:
    out, _ = _run(0, 3, 100, 100)
    assert not [line for line in out if "HB" in line]


def test_resume_after_last_event_id() -> None:
    out, _ = _run(7, 10, 0, 1000)
    assert [line.split("\n")[0].split(" ", 1)[1] for line in out] == ["id: 8", "id: 9", "id: 10"]
    assert out[0].startswith("0.000")


def test_last_event_id_at_or_past_the_end_is_empty() -> None:
    assert _run(10, 10, 100, 1000)[0] == []
    assert _run(11, 10, 100, 1000)[0] == []


def test_a_late_consumer_does_not_shift_the_schedule() -> None:
    clock = FakeClock()
    stream = event_stream(0, 3, 1000, 60_000, clock_ns=clock, sleep=clock.sleep, wall_ns=lambda: 0)
    next(stream)
    clock.now += 1_500_000_000  # the write of event 1 took 1.5 s
    next(stream)  # event 2 was due at 1.0: sent at once
    next(stream)  # event 3 is due at 2.0
    assert clock.elapsed == 2.0
