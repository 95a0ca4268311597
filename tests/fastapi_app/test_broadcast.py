"""BroadcastHub: fan-out to every subscriber; slow or dead clients do not hold up the rest."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from starlette.websockets import WebSocket

from twinbench.apps.fastapi_app.broadcast import QUEUE_SIZE, SLOW_CLIENT_CLOSE_CODE, BroadcastHub


class FakeSocket:
    """Records what is sent; `stuck` makes sends hang, `dead` makes them fail."""

    def __init__(self, *, stuck: bool = False, dead: bool = False) -> None:
        self.sent: list[Any] = []
        self.closed_with: int | None = None
        self.stuck = stuck
        self.dead = dead

    async def _send(self, message: Any) -> None:
        if self.dead:
            raise RuntimeError("socket is gone")
        if self.stuck:
            await asyncio.Event().wait()
        self.sent.append(message)

    async def send_text(self, text: str) -> None:
        await self._send(text)

    async def send_bytes(self, data: bytes) -> None:
        await self._send(data)

    async def close(self, code: int = 1000) -> None:
        self.closed_with = code


def _ws(fake: FakeSocket) -> WebSocket:
    return cast(WebSocket, fake)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.anyio
async def test_publish_reaches_all_in_order() -> None:
    hub = BroadcastHub()
    a, b = FakeSocket(), FakeSocket()
    sub_a, sub_b = hub.join(_ws(a)), hub.join(_ws(b))
    hub.publish("one")
    hub.publish(b"two")
    await _settle()
    assert a.sent == ["one", b"two"]
    assert b.sent == ["one", b"two"]
    hub.leave(sub_a)
    hub.publish("three")
    await _settle()
    assert a.sent == ["one", b"two"]
    assert b.sent == ["one", b"two", "three"]
    assert len(hub) == 1
    hub.leave(sub_b)
    assert len(hub) == 0


@pytest.mark.anyio
async def test_dead_client_does_not_break_the_others() -> None:
    hub = BroadcastHub()
    dead, alive = FakeSocket(dead=True), FakeSocket()
    subs = [hub.join(_ws(dead)), hub.join(_ws(alive))]
    for i in range(3):
        hub.publish(f"m{i}")
        await _settle()
    assert alive.sent == ["m0", "m1", "m2"]
    for sub in subs:
        hub.leave(sub)


@pytest.mark.anyio
async def test_slow_client_is_dropped_not_waited_for() -> None:
    hub = BroadcastHub()
    slow, fast = FakeSocket(stuck=True), FakeSocket()
    hub.join(_ws(slow))
    sub_fast = hub.join(_ws(fast))
    # The slow client's pump takes one message and hangs on it; the queue then fills.
    for i in range(QUEUE_SIZE + 2):
        hub.publish(str(i))
        await asyncio.sleep(0)
    await _settle()
    assert len(hub) == 1  # only the fast client is left
    assert slow.closed_with == SLOW_CLIENT_CLOSE_CODE
    assert fast.sent == [str(i) for i in range(QUEUE_SIZE + 2)]
    hub.leave(sub_fast)
