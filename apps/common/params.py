"""TechEmpower query-count parsing: never fails, clamps to 1..500 (their rule)."""

from __future__ import annotations

import random

WORLD_ROWS = 10_000
MAX_QUERIES = 500
# Any count with more significant digits than this is past MAX_QUERIES.
_MAX_DIGITS = len(str(MAX_QUERIES))


def clamp_queries(raw: str | None) -> int:
    """Missing, empty, 0, negative or non-integer → 1; above 500 → 500.

    An integer is ASCII digits with an optional leading '-'. `int()` is not used to decide
    that: it also takes "+3", " 7 ", "1_0" and non-ASCII digits ("٣"), which are not
    integers on the wire, and it refuses more than 4300 digits (ValueError), which would turn
    a huge count into 1 instead of 500.
    """
    if raw is None:
        return 1
    negative = raw.startswith("-")
    digits = raw[1:] if negative else raw
    if not digits or not digits.isascii() or not digits.isdigit() or negative:
        return 1
    significant = digits.lstrip("0")
    if len(significant) > _MAX_DIGITS:
        return MAX_QUERIES
    return min(max(int(significant or "0"), 1), MAX_QUERIES)


def random_id() -> int:
    return random.randint(1, WORLD_ROWS)


def random_number() -> int:
    return random.randint(1, 10_000)


def random_ids(n: int) -> list[int]:
    """n distinct random World ids (distinct so that batched UPDATEs never collide)."""
    return random.sample(range(1, WORLD_ROWS + 1), n)
