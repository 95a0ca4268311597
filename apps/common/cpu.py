"""Deterministic CPU-bound work, identical in both twins (GET /api/cpu)."""

from __future__ import annotations

import hashlib

_MASK = 0xFFFFFFFFFFFFFFFF


def cpu_work(n: int) -> str:
    """n rounds of pure-Python integer mixing (xorshift64*), then a SHA-256 of the state.

    Pure Python on purpose: the GIL is held the whole time, which is what "CPU work in a
    web handler" costs in real services. About 0.3 µs per round here, so the default
    n=10000 is ~3 ms.
    """
    x = 0x9E3779B97F4A7C15
    acc = 0
    for i in range(n):
        x ^= (x << 13) & _MASK
        x ^= x >> 7
        x ^= (x << 17) & _MASK
        acc = (acc + (x * 0x2545F4914F6CDD1D & _MASK) + i) & _MASK
    return hashlib.sha256(acc.to_bytes(8, "big")).hexdigest()
