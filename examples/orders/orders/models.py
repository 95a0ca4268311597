"""The request and response bodies, shared by both apps (Pydantic v2)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=20)
    qty: int = Field(ge=1, le=100)


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer: str = Field(min_length=1, max_length=50)
    lines: list[Line] = Field(min_length=1, max_length=20)


class Order(OrderIn):
    id: int
    total_qty: int


class Page(BaseModel):
    orders: list[Order]
    limit: int
    offset: int
    total: int


class Shipping(BaseModel):
    id: int
    carrier: str
    eta_days: int


def validation_error(errors: list[dict[str, object]]) -> dict[str, object]:
    """One 422 body for both apps: {"error": "validation", "detail": [{"loc", "msg"}]}."""
    return {
        "error": "validation",
        "detail": [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in errors
        ],
    }
