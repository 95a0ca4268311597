"""The /ws/broadcast audience of one worker process.

Each subscriber has a bounded outbox drained by its own sender thread (a greenlet under gevent),
so publishing never blocks on a client's socket: a slow reader only fills its own outbox, and a
dead one fails only its own sender. A subscriber whose outbox overflows is dropped and closed
(policy violation, as a slow consumer) instead of stalling the others or growing memory without
bound.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Protocol

Message = str | bytes

OUTBOX_SIZE = 1024
CLOSE_POLICY_VIOLATION = 1008


class Connection(Protocol):
    """What the hub needs from a WebSocket (simple_websocket.Server satisfies it)."""

    def send(self, data: Message) -> None: ...

    def close(self, reason: int | None = None, message: str | None = None) -> None: ...


class Subscriber:
    def __init__(
        self, conn: Connection, on_dead: Callable[[Subscriber], None], outbox_size: int
    ) -> None:
        self.conn = conn
        self._outbox: queue.Queue[Message | None] = queue.Queue(maxsize=outbox_size)
        self._on_dead = on_dead
        self._dropped = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="ws-broadcast-sender", daemon=True)
        self._thread.start()

    @property
    def dropped(self) -> bool:
        return self._dropped.is_set()

    def offer(self, message: Message | None) -> bool:
        """Queue `message` (None: the end) without blocking; False if the outbox is full."""
        try:
            self._outbox.put_nowait(message)
        except queue.Full:
            return False
        return True

    def stop(self) -> None:
        """The client left: the sender thread exits once it reaches this point in the outbox."""
        if not self.offer(None):
            self._dropped.set()  # full outbox: the sender checks this before every send

    def drop(self) -> None:
        """Too slow: the sender closes the connection instead of sending what is queued."""
        self._dropped.set()
        self.offer(None)  # wakes the sender if its outbox happens to be empty by now

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _drain(self) -> None:
        while (message := self._outbox.get()) is not None and not self.dropped:
            try:
                self.conn.send(message)
            except Exception:  # closed or broken socket: this subscriber is gone
                self._on_dead(self)
                return
        if self.dropped:
            # The client may have closed already; then there is nothing left to tell it.
            with contextlib.suppress(Exception):
                self.conn.close(CLOSE_POLICY_VIOLATION, "slow consumer")


class Hub:
    def __init__(self, outbox_size: int = OUTBOX_SIZE) -> None:
        self._outbox_size = outbox_size
        self._lock = threading.Lock()
        self._subscribers: set[Subscriber] = set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def subscribe(self, conn: Connection) -> Subscriber:
        subscriber = Subscriber(conn, self._forget, self._outbox_size)
        with self._lock:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """The client disconnected (normally or not)."""
        self._forget(subscriber)
        subscriber.stop()

    def publish(self, message: Message) -> None:
        """Deliver `message` to every subscriber, the sender included, without blocking."""
        with self._lock:
            audience = list(self._subscribers)
        for subscriber in audience:
            if not subscriber.offer(message):
                self._forget(subscriber)
                subscriber.drop()

    def _forget(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)
