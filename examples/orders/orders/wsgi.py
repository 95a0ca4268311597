"""The Flask service: `gunicorn orders.wsgi:app` (or waitress)."""

from __future__ import annotations

import os

import httpx
from flask import Flask, jsonify, request
from pydantic import ValidationError

from orders import store
from orders.models import OrderIn, Page, Shipping, validation_error

UPSTREAM = os.environ.get("TWINBENCH_UPSTREAM_URL", "http://127.0.0.1:8099")
SHIPPING_MS = int(os.environ.get("ORDERS_SHIPPING_MS", "50"))

app = Flask(__name__)
_client = httpx.Client(base_url=UPSTREAM, timeout=10.0)


def _invalid(errors: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    return jsonify(validation_error(errors)), 422


@app.get("/health")
def health():  # type: ignore[no-untyped-def]
    return {"status": "ok"}


@app.post("/orders")
def create_order():  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True)
    if body is None:
        return _invalid([{"loc": ["body"], "msg": "a JSON object is required"}])
    try:
        order = OrderIn.model_validate(body)
    except ValidationError as exc:
        return _invalid(exc.errors(include_url=False))  # type: ignore[arg-type]
    return store.create(order).model_dump(), 201


@app.get("/orders/<int:order_id>")
def read_order(order_id: int):  # type: ignore[no-untyped-def]
    order = store.get(order_id)
    if order is None:
        return {"error": "not found"}, 404
    return order.model_dump()


@app.get("/orders")
def list_orders():  # type: ignore[no-untyped-def]
    try:
        limit = int(request.args.get("limit", "20"))
        offset = int(request.args.get("offset", "0"))
    except ValueError:
        return _invalid([{"loc": ["query"], "msg": "limit and offset must be integers"}])
    if not 1 <= limit <= 100 or offset < 0:
        return _invalid([{"loc": ["query"], "msg": "1 <= limit <= 100 and offset >= 0"}])
    orders, total = store.page(limit, offset)
    return Page(orders=orders, limit=limit, offset=offset, total=total).model_dump()


@app.get("/orders/<int:order_id>/shipping")
def shipping(order_id: int):  # type: ignore[no-untyped-def]
    """A slow call to the carrier's API (the mock upstream): the wait is I/O."""
    order = store.get(order_id)
    if order is None:
        return {"error": "not found"}, 404
    resp = _client.get("/delay", params={"ms": SHIPPING_MS})
    resp.raise_for_status()
    return Shipping(id=order_id, carrier="mock-post", eta_days=1 + order.total_qty % 5).model_dump()
