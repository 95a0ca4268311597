"""Orders in one SQLite file (ORDERS_DB, default orders.sqlite3 in the working folder), so
every worker process of every server sees the same orders. Plain sqlite3: the Flask app
calls it inline, the FastAPI app from its thread pool (plain `def` endpoints)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading

from orders.models import Order, OrderIn

_local = threading.local()
_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer TEXT NOT NULL,
    lines TEXT NOT NULL,
    total_qty INTEGER NOT NULL
)
"""


def _db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ.get("ORDERS_DB", "orders.sqlite3"), timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(_SCHEMA)
        _local.conn = conn
    return conn


def _order(row: tuple[int, str, str, int]) -> Order:
    return Order(id=row[0], customer=row[1], lines=json.loads(row[2]), total_qty=row[3])


def create(order: OrderIn) -> Order:
    lines = [line.model_dump() for line in order.lines]
    total = sum(line.qty for line in order.lines)
    conn = _db()
    with conn:
        cur = conn.execute(
            "INSERT INTO orders (customer, lines, total_qty) VALUES (?, ?, ?)",
            (order.customer, json.dumps(lines), total),
        )
    order_id = int(cur.lastrowid or 0)
    return Order(id=order_id, customer=order.customer, lines=order.lines, total_qty=total)


def get(order_id: int) -> Order | None:
    row = (
        _db()
        .execute("SELECT id, customer, lines, total_qty FROM orders WHERE id = ?", (order_id,))
        .fetchone()
    )
    return _order(row) if row else None


def page(limit: int, offset: int) -> tuple[list[Order], int]:
    conn = _db()
    rows = conn.execute(
        "SELECT id, customer, lines, total_qty FROM orders ORDER BY id DESC LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()
    total = conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    return [_order(r) for r in rows], int(total)
