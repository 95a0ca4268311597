"""Pydantic v2 models used by *both* twins, so validation costs and messages are identical."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_ID = 2_147_483_647  # PostgreSQL integer; larger ids are simply unknown (404)

# NUL cannot be stored in a PostgreSQL text column: refusing it here keeps a 5xx out of reach
# (and keeps SQLite and PostgreSQL answering the same).
_NO_NUL = r"^[^\x00]*$"

Tag = Annotated[str, StringConstraints(max_length=30, pattern=_NO_NUL)]


class ItemIn(BaseModel):
    """Body of POST /api/items and PUT /api/items/{id}."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=_NO_NUL)]
    # Strict: a JSON number (int or float) only. Lax mode would also take `true` (as 1.0)
    # and the string "3", which a JSON API should refuse as the wrong type (float_type).
    price: Annotated[float, Field(ge=0, strict=True)]
    tags: Annotated[list[Tag], Field(max_length=10)] = []


class Item(ItemIn):
    id: int


class ItemPage(BaseModel):
    items: list[Item]
    limit: int
    offset: int


class ListParams(BaseModel):
    """Query of GET /api/items."""

    limit: Annotated[int, Field(ge=1, le=100)] = 20
    offset: Annotated[int, Field(ge=0, le=MAX_ID)] = 0


class UpstreamParams(BaseModel):
    """Query of GET /api/upstream."""

    ms: Annotated[int, Field(ge=0, le=10_000)] = 0


class CpuParams(BaseModel):
    """Query of GET /api/cpu."""

    n: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000


class SseParams(BaseModel):
    """Query of GET /sse/stream."""

    events: Annotated[int, Field(ge=1, le=10_000)] = 10
    interval_ms: Annotated[int, Field(ge=0, le=60_000)] = 100
    heartbeat_ms: Annotated[int, Field(ge=50, le=60_000)] = 15_000
