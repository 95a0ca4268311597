"""The in-process audience of /ws/broadcast: one bounded send queue per client.

Publishing only enqueues, so a sender never waits on a slow receiver; each client's own
task drains its queue. A client whose queue overflows is too slow to keep up and is
disconnected rather than allowed to grow memory or hold up everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.websockets import WebSocket

# Messages a client may fall behind by before it is dropped.
QUEUE_SIZE = 1024
# Close code 1013 "Try Again Later": the server dropped a client that could not keep up.
SLOW_CLIENT_CLOSE_CODE = 1013

Message = str | bytes


class Subscriber:
    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_SIZE)
        self._pump = asyncio.get_running_loop().create_task(self._send_queued())

    async def _send_queued(self) -> None:
        # A failed send only ends this client's pump; its reader sees the disconnect.
        with contextlib.suppress(Exception):
            while True:
                message = await self.queue.get()
                if isinstance(message, str):
                    await self.websocket.send_text(message)
                else:
                    await self.websocket.send_bytes(message)

    def offer(self, message: Message) -> bool:
        """Enqueue without waiting; False when the client has fallen too far behind."""
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            return False
        return True

    def stop(self) -> None:
        self._pump.cancel()

    async def kick(self) -> None:
        """Stop sending and close the socket; the client's reader then ends normally."""
        self.stop()
        with contextlib.suppress(Exception):
            await self.websocket.close(SLOW_CLIENT_CLOSE_CODE)


class BroadcastHub:
    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._kicks: set[asyncio.Task[None]] = set()  # strong refs until the close is sent

    def __len__(self) -> int:
        return len(self._subscribers)

    def join(self, websocket: WebSocket) -> Subscriber:
        subscriber = Subscriber(websocket)
        self._subscribers.add(subscriber)
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        subscriber.stop()

    def publish(self, message: Message) -> None:
        """Queue the message for every subscriber, the sender included."""
        for subscriber in list(self._subscribers):
            if not subscriber.offer(message):
                self._subscribers.discard(subscriber)
                task = asyncio.get_running_loop().create_task(subscriber.kick())
                self._kicks.add(task)
                task.add_done_callback(self._kicks.discard)
