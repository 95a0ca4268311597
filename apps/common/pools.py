"""What both twins do when every pooled database connection is busy. Pure: no I/O here.

A request waits at most ACQUIRE_TIMEOUT_S for a connection (psycopg_pool's default, and
now the same for asyncpg and both twins' sqlite3 pools), then gets the
contract's 503 `unavailable`: overload is the server's condition, not a bug, so it is
neither a 500 nor a logged traceback.
"""

from __future__ import annotations

ACQUIRE_TIMEOUT_S = 30.0


class PoolExhausted(Exception):
    """No pooled connection became free within the acquire timeout."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"no database connection became free within {timeout_s:g} s")
        self.timeout_s = timeout_s
