"""The `{id}` path segment of /api/items, parsed the same way in both twins. Pure."""

from __future__ import annotations

from .models import MAX_ID

# 2147483647 has 10 digits: a longer digit string (leading zeros aside) is out of range.
_MAX_ID_DIGITS = len(str(MAX_ID))

# Never a known item: both twins answer it with 404 after the body has been validated.
NOT_AN_ID = 0


def item_id_from_digits(digits: str) -> int:
    """The id an ASCII digit string spells, or NOT_AN_ID when it is past MAX_ID.

    The routers only hand over `[0-9]+`, of any length. `int()` is never called on more
    than 10 significant digits: past 4300 digits Python refuses the conversion
    (ValueError, a 500 in the router), and a 4,000-digit conversion is wasted work anyway.
    """
    significant = digits.lstrip("0")
    if len(significant) > _MAX_ID_DIGITS:
        return NOT_AN_ID
    value = int(significant) if significant else 0
    return value if value <= MAX_ID else NOT_AN_ID


def is_known_id(item_id: int) -> bool:
    """Whether the id can name a stored item at all (1..MAX_ID); others are 404s."""
    return 1 <= item_id <= MAX_ID
