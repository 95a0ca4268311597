"""The broadcast hub with fake connections: fan-out, dead and slow clients."""

from __future__ import annotations

import threading
import time

from twinbench.apps.flask_app.broadcast import CLOSE_POLICY_VIOLATION, OUTBOX_SIZE, Hub, Message


def test_default_outbox_is_bounded() -> None:
    assert 0 < OUTBOX_SIZE <= 10_000


class FakeConn:
    def __init__(self) -> None:
        self.received: list[Message] = []
        self.closed_with: tuple[int | None, str | None] | None = None
        self.gate = threading.Event()
        self.gate.set()
        self.fail = False

    def send(self, data: Message) -> None:
        self.gate.wait()
        if self.fail:
            raise ConnectionResetError("gone")
        self.received.append(data)

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        self.closed_with = (reason, message)


def _until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.005)
    assert condition(), "condition not reached"  # type: ignore[operator]


def test_publish_reaches_every_subscriber_in_order() -> None:
    hub = Hub()
    conns = [FakeConn() for _ in range(3)]
    for conn in conns:
        hub.subscribe(conn)
    hub.publish("a")
    hub.publish(b"b")
    for conn in conns:
        _until(lambda conn=conn: len(conn.received) == 2)
        assert conn.received == ["a", b"b"]


def test_unsubscribed_clients_get_nothing_more() -> None:
    hub = Hub()
    stay, leave = FakeConn(), FakeConn()
    hub.subscribe(stay)
    leaving = hub.subscribe(leave)
    hub.unsubscribe(leaving)
    leaving.join(2)
    assert len(hub) == 1
    hub.publish("x")
    _until(lambda: stay.received == ["x"])
    assert leave.received == []


def test_a_dead_client_is_removed_and_does_not_affect_others() -> None:
    hub = Hub()
    dead, alive = FakeConn(), FakeConn()
    dead.fail = True
    hub.subscribe(dead)
    hub.subscribe(alive)
    hub.publish("1")
    _until(lambda: len(hub) == 1)
    hub.publish("2")
    _until(lambda: alive.received == ["1", "2"])


def test_a_slow_client_does_not_block_publishers_and_is_dropped() -> None:
    size = 8
    hub = Hub(outbox_size=size)
    slow, fast = FakeConn(), FakeConn()
    slow.gate.clear()  # its socket never drains
    hub.subscribe(slow)
    hub.subscribe(fast)
    started = time.monotonic()
    for i in range(size + 5):
        hub.publish(str(i))
        _until(lambda i=i: len(fast.received) == i + 1)  # the fast one keeps up
    assert time.monotonic() - started < 2  # publishing never waited on the slow socket
    assert len(hub) == 1
    slow.gate.set()
    _until(lambda: slow.closed_with is not None)
    assert slow.closed_with == (CLOSE_POLICY_VIOLATION, "slow consumer")
    assert len(slow.received) <= 1  # it was dropped, not fed the backlog
