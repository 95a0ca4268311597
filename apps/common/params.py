"""TechEmpower query-count parsing: never fails, clamps to 1..500 (their rule)."""

from __future__ import annotations

import random

WORLD_ROWS = 10_000
MAX_QUERIES = 500


def clamp_queries(raw: str | None) -> int:
    """Missing, empty, 0, negative or non-integer → 1; above 500 → 500."""
    try:
        n = int(raw) if raw is not None else 1
    except ValueError:
        return 1
    return min(max(n, 1), MAX_QUERIES)


def random_id() -> int:
    return random.randint(1, WORLD_ROWS)


def random_number() -> int:
    return random.randint(1, 10_000)


def random_ids(n: int) -> list[int]:
    """n distinct random World ids (distinct so that batched UPDATEs never collide)."""
    return random.sample(range(1, WORLD_ROWS + 1), n)
