"""TechEmpower endpoints, checked the way their validator checks them."""

from __future__ import annotations

import html
import time
from html.parser import HTMLParser

import pytest
from support.headers import assert_common_headers
from support.served import Served

from twinbench.apps.common.fortunes import EXTRA_FORTUNE, FORTUNES

# Every response of `server.client` is checked for the common headers by a response hook
# (support/served.py); the explicit calls below only make the TechEmpower rule visible.


def assert_world(row: object) -> tuple[int, int]:
    assert isinstance(row, dict) and set(row) == {"id", "randomNumber"}, row
    assert isinstance(row["id"], int) and 1 <= row["id"] <= 10_000
    assert isinstance(row["randomNumber"], int) and 1 <= row["randomNumber"] <= 10_000
    return row["id"], row["randomNumber"]


def test_json(server: Served) -> None:
    resp = server.client.get("/json")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json() == {"message": "Hello, World!"}
    assert_common_headers(resp)


def test_plaintext(server: Served) -> None:
    resp = server.client.get("/plaintext")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == "Hello, World!"
    assert_common_headers(resp)


def test_db_returns_a_real_row(server: Served) -> None:
    seen = set()
    for _ in range(5):
        resp = server.client.get("/db")
        assert resp.status_code == 200 and resp.headers["content-type"].startswith(
            "application/json"
        )
        assert_common_headers(resp)
        row_id, number = assert_world(resp.json())
        assert server.world([row_id]) == {row_id: number}
        seen.add(row_id)
    assert len(seen) > 1, "ids are not random"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 1),
        ("?queries=", 1),
        ("?queries=0", 1),
        ("?queries=-3", 1),
        ("?queries=foo", 1),
        ("?queries=1.5", 1),
        ("?queries=7", 7),
        ("?queries=20", 20),
        ("?queries=501", 500),
        # Only ASCII digits (and a leading '-') are an integer; int() took these.
        ("?queries=1_0", 1),
        ("?queries=%2B3", 1),
        ("?queries=%207%20", 1),
        ("?queries=%D9%A3", 1),  # ARABIC-INDIC DIGIT THREE
        ("?queries=007", 7),
        # A huge integer clamps to 500 (4,000 digits: gunicorn refuses request lines over
        # 4094 bytes itself; the 4300-digit int() limit is covered in process).
        ("?queries=" + "9" * 4000, 500),
    ],
)
def test_queries_clamp(server: Served, query: str, expected: int) -> None:
    resp = server.client.get("/queries" + query)
    assert resp.status_code == 200
    rows = resp.json()
    assert isinstance(rows, list) and len(rows) == expected
    pairs = dict(assert_world(r) for r in rows)
    if expected <= 20:
        assert server.world(list(pairs)) == pairs


@pytest.mark.parametrize(
    ("query", "expected"), [("?count=3", 3), ("?count=abc", 1), ("?count=900", 500)]
)
def test_cached_queries(server: Served, query: str, expected: int) -> None:
    resp = server.client.get("/cached-queries" + query)
    assert resp.status_code == 200
    rows = resp.json()
    assert len(rows) == expected
    for r in rows:
        assert_world(r)


def test_cached_queries_come_from_the_start_up_cache(server: Served) -> None:
    """Change every World row behind the server's back: /db (a query per request) shows the
    new value, /cached-queries (the cache loaded at start-up) keeps serving the old ones."""
    sentinel = 4321
    before = server.all_worlds()
    server.set_worlds(dict.fromkeys(before, sentinel))
    try:
        deadline = time.monotonic() + 10
        while server.client.get("/db").json()["randomNumber"] != sentinel:
            assert time.monotonic() < deadline, "/db never showed the database's new value"
            time.sleep(0.1)
        assert all(server.client.get("/db").json()["randomNumber"] == sentinel for _ in range(5))
        cached = [
            row for _ in range(2) for row in server.client.get("/cached-queries?count=500").json()
        ]
        assert len(cached) == 1000
        # At start-up the rows were random in 1..10000: ~0.1 of 1,000 match by chance.
        stale = sum(1 for row in cached if row["randomNumber"] == sentinel)
        assert stale < 50, f"{stale} of 1000 cached rows show the new value: not a cache"
    finally:
        server.set_worlds(before)


@pytest.mark.parametrize(
    ("query", "expected"), [("?queries=5", 5), ("?queries=x", 1), ("?queries=600", 500)]
)
def test_updates_persist(server: Served, query: str, expected: int) -> None:
    resp = server.client.get("/updates" + query)
    assert resp.status_code == 200
    rows = resp.json()
    assert len(rows) == expected
    pairs = dict(assert_world(r) for r in rows)
    assert len(pairs) == expected, "ids must be distinct"
    # What the app returned is what the database now holds.
    assert server.world(list(pairs)) == pairs


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._in_td = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "tr":
            self.rows.append([])
        self._in_td = tag in ("td", "th")
        if self._in_td:
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_td = False

    def handle_data(self, data: str) -> None:
        if self._in_td:
            self.rows[-1][-1] += data


def test_fortunes(server: Served) -> None:
    resp = server.client.get("/fortunes")
    assert resp.status_code == 200
    assert resp.headers["content-type"].replace(" ", "").lower() == "text/html;charset=utf-8"
    assert_common_headers(resp)
    body = resp.text
    assert body.lower().startswith("<!doctype html><html><head><title>fortunes</title></head>")
    expected = sorted([*FORTUNES, EXTRA_FORTUNE], key=lambda r: r[1])
    parser = _Cells()
    parser.feed(body)
    assert parser.rows[0] == ["id", "message"]
    assert [(int(i), m) for i, m in parser.rows[1:]] == expected
    # Escaped, not raw: the script fortune must not appear as markup.
    assert "<script>" not in body
    assert html.escape("<script>", quote=False) in body


def test_head_is_answered_like_get(server: Served) -> None:
    resp = server.client.head("/json")
    assert resp.status_code == 200 and resp.content == b""
    assert resp.headers["content-type"].startswith("application/json")


def test_options_is_not_served(server: Served) -> None:
    resp = server.client.request("OPTIONS", "/json")
    assert resp.status_code == 405
    assert resp.json()["error"]["code"] == "method_not_allowed"
