"""The FastAPI rewrite: `uvicorn orders.asgi:app`. Same endpoints, bodies and errors as
orders.wsgi; database calls in plain `def` endpoints (Starlette's thread pool, since sqlite3
blocks), the slow upstream call awaited on one shared httpx.AsyncClient."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from orders import store
from orders.models import Order, OrderIn, Page, Shipping, validation_error

UPSTREAM = os.environ.get("TWINBENCH_UPSTREAM_URL", "http://127.0.0.1:8099")
SHIPPING_MS = int(os.environ.get("ORDERS_SHIPPING_MS", "50"))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with httpx.AsyncClient(base_url=UPSTREAM, timeout=10.0) as client:
        app.state.upstream = client
        yield


app = FastAPI(lifespan=lifespan)


@app.exception_handler(RequestValidationError)
async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{**e, "loc": list(e.get("loc", ()))[1:] or ["body"]} for e in exc.errors()]
    return JSONResponse(validation_error(errors), status_code=422)


def _not_found() -> JSONResponse:
    return JSONResponse({"error": "not found"}, status_code=404)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/orders", status_code=201)
def create_order(order: OrderIn) -> Order:
    return store.create(order)


@app.get("/orders/{order_id}", response_model=None)
def read_order(order_id: int) -> Order | JSONResponse:
    return store.get(order_id) or _not_found()


@app.get("/orders")
def list_orders(limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0)) -> Page:
    orders, total = store.page(limit, offset)
    return Page(orders=orders, limit=limit, offset=offset, total=total)


@app.get("/orders/{order_id}/shipping", response_model=None)
async def shipping(order_id: int, request: Request) -> Shipping | JSONResponse:
    """A slow call to the carrier's API (the mock upstream): awaited, the loop serves on."""
    order = await run_in_threadpool(store.get, order_id)
    if order is None:
        return _not_found()
    resp = await request.app.state.upstream.get("/delay", params={"ms": SHIPPING_MS})
    resp.raise_for_status()
    return Shipping(id=order_id, carrier="mock-post", eta_days=1 + order.total_qty % 5)
