"""The TechEmpower endpoints, on SQLite."""

from __future__ import annotations

import html
import re
import sqlite3
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from twinbench.apps.common.fortunes import EXTRA_FORTUNE, FORTUNES, FORTUNES_TEMPLATE
from twinbench.apps.flask_app.state import Services


def _assert_worlds(body: object, n: int) -> list[dict[str, int]]:
    assert isinstance(body, list)
    assert len(body) == n
    for row in body:
        assert set(row) == {"id", "randomNumber"}
        assert 1 <= row["id"] <= 10_000
        assert 1 <= row["randomNumber"] <= 10_000
    return body


def test_json(client: FlaskClient) -> None:
    response = client.get("/json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"message": "Hello, World!"}


def test_plaintext(client: FlaskClient) -> None:
    response = client.get("/plaintext")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.data == b"Hello, World!"


def test_db_returns_the_stored_row(client: FlaskClient, sqlite_path: Path) -> None:
    body = client.get("/db").get_json()
    (row,) = _assert_worlds([body], 1)
    stored = (
        sqlite3.connect(sqlite_path)
        .execute("SELECT randomnumber FROM world WHERE id = ?", (row["id"],))
        .fetchone()
    )
    assert stored == (row["randomNumber"],)


@pytest.mark.parametrize(
    ("query", "n"),
    [
        ("", 1),
        ("?queries=", 1),
        ("?queries=0", 1),
        ("?queries=-3", 1),
        ("?queries=x", 1),
        ("?queries=1.5", 1),
        ("?queries=7", 7),
        ("?queries=500", 500),
        ("?queries=501", 500),
        ("?queries=2&queries=4", 4),
        # Only ASCII digits (and a leading '-') are an integer; int() accepted these.
        ("?queries=1_0", 1),
        ("?queries=%2B3", 1),
        ("?queries=%207%20", 1),
        ("?queries=%D9%A3", 1),  # ARABIC-INDIC DIGIT THREE
        ("?queries=%EF%BC%93", 1),  # FULLWIDTH DIGIT THREE
        ("?queries=-0", 1),
        ("?queries=007", 7),
        ("?queries=" + "0" * 5000 + "7", 7),
        # Past int()'s 4300-digit limit: a huge integer clamps to 500 (it gave 1).
        ("?queries=" + "9" * 5000, 500),
        ("?queries=-" + "9" * 5000, 1),
    ],
)
def test_queries_clamp(client: FlaskClient, query: str, n: int) -> None:
    response = client.get(f"/queries{query}")
    assert response.status_code == 200
    _assert_worlds(response.get_json(), n)


def test_updates_persist_new_numbers(client: FlaskClient, sqlite_path: Path) -> None:
    body = _assert_worlds(client.get("/updates?queries=20").get_json(), 20)
    ids = [row["id"] for row in body]
    assert len(set(ids)) == 20  # distinct ids, so the batch never updates a row twice
    conn = sqlite3.connect(sqlite_path)
    for row in body:
        stored = conn.execute("SELECT randomnumber FROM world WHERE id = ?", (row["id"],))
        assert stored.fetchone() == (row["randomNumber"],)


def test_updates_clamp(client: FlaskClient) -> None:
    _assert_worlds(client.get("/updates?queries=1000").get_json(), 500)
    _assert_worlds(client.get("/updates?queries=abc").get_json(), 1)


def test_fortunes(client: FlaskClient) -> None:
    response = client.get("/fortunes")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith(FORTUNES_TEMPLATE.split("{%")[0])
    assert text.endswith("</table></body></html>")
    assert "<script>" not in text
    assert "&lt;script&gt;alert(&#34;This should not" in text
    cells = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", text)
    rows = [(int(i), html.unescape(message)) for i, message in cells]
    assert rows == sorted([*FORTUNES, EXTRA_FORTUNE], key=lambda row: row[1])


def test_fortunes_extra_row_never_stored(client: FlaskClient, services: Services) -> None:
    client.get("/fortunes")
    assert len(services.storage.fortunes()) == 12


def test_cached_queries_come_from_the_cache(client: FlaskClient, services: Services) -> None:
    services.world_cache.update(
        {i: services.world_cache[i]._replace(random_number=-1) for i in services.world_cache}
    )
    body = client.get("/cached-queries?count=10").get_json()
    assert len(body) == 10
    assert all(row["randomNumber"] == -1 for row in body)
    assert len(client.get("/cached-queries?count=9999").get_json()) == 500
    assert len(client.get("/cached-queries?queries=7").get_json()) == 1  # parameter is `count`


def test_head_like_get_without_body(client: FlaskClient) -> None:
    get, head = client.get("/json"), client.head("/json")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
