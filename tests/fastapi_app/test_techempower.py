"""TechEmpower endpoints: exact payloads, clamping, persistence of /updates, fortunes markup."""

from __future__ import annotations

import re
import sqlite3
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from twinbench.apps.common.fortunes import EXTRA_FORTUNE, FORTUNES


def test_json(client: TestClient) -> None:
    response = client.get("/json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "Hello, World!"}


def test_plaintext(client: TestClient) -> None:
    response = client.get("/plaintext")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == b"Hello, World!"


def _worlds(sqlite_path: Path) -> dict[int, int]:
    with sqlite3.connect(sqlite_path) as conn:
        return dict(conn.execute("SELECT id, randomnumber FROM world").fetchall())


def test_db_returns_a_real_row(client: TestClient, sqlite_path: Path) -> None:
    stored = _worlds(sqlite_path)
    for _ in range(20):
        row = client.get("/db").json()
        assert set(row) == {"id", "randomNumber"}
        assert 1 <= row["id"] <= 10_000
        assert row["randomNumber"] == stored[row["id"]]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 1),
        ("", 1),
        ("0", 1),
        ("-5", 1),
        ("abc", 1),
        ("1.5", 1),
        ("1", 1),
        ("7", 7),
        ("500", 500),
        ("501", 500),
        ("100000", 500),
        # Only ASCII digits (and a leading '-') are an integer; int() accepted these.
        ("1_0", 1),
        ("+3", 1),
        (" 7 ", 1),
        ("\u0663", 1),  # ARABIC-INDIC DIGIT THREE
        ("\uff13", 1),  # FULLWIDTH DIGIT THREE
        ("-0", 1),
        ("007", 7),
        ("0" * 5000 + "7", 7),
        # Past int()'s 4300-digit limit: a huge integer clamps to 500 (it gave 1).
        ("9" * 5000, 500),
        ("-" + "9" * 5000, 1),
    ],
)
@pytest.mark.parametrize(("path", "param"), [("/queries", "queries"), ("/cached-queries", "count")])
def test_query_count_clamps(
    client: TestClient, sqlite_path: Path, path: str, param: str, raw: str | None, expected: int
) -> None:
    url = path if raw is None else f"{path}?{param}={quote(raw)}"
    response = client.get(url)
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == expected
    stored = _worlds(sqlite_path)
    assert all(row["randomNumber"] == stored[row["id"]] for row in rows)


def test_updates_persist_new_numbers(client: TestClient, sqlite_path: Path) -> None:
    rows = client.get("/updates?queries=20").json()
    assert len(rows) == 20
    assert len({row["id"] for row in rows}) == 20  # distinct ids
    stored = _worlds(sqlite_path)
    for row in rows:
        assert 1 <= row["randomNumber"] <= 10_000
        assert stored[row["id"]] == row["randomNumber"]


def test_updates_clamp(client: TestClient) -> None:
    assert len(client.get("/updates?queries=x").json()) == 1
    assert len(client.get("/updates?queries=900").json()) == 500


def test_fortunes_markup(client: TestClient) -> None:
    response = client.get("/fortunes")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert html.startswith(
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
        "<tr><th>id</th><th>message</th></tr>"
    )
    assert html.endswith("</table></body></html>")
    # 12 stored rows + the request-time one, sorted by message, escaped.
    assert html.count("<tr><td>") == 13
    assert "<tr><td>0</td><td>Additional fortune added at request time.</td></tr>" in html
    assert (
        "<tr><td>11</td><td>&lt;script&gt;alert(&#34;This should not be displayed in a browser"
        " alert box.&#34;);&lt;/script&gt;</td></tr>"
    ) in html
    assert "フレームワークのベンチマーク" in html
    rows = [
        (int(id_), unescape(message))
        for id_, message in re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", html)
    ]
    assert rows == sorted([*FORTUNES, EXTRA_FORTUNE], key=lambda row: row[1])


def test_fortunes_extra_row_is_never_stored(client: TestClient, sqlite_path: Path) -> None:
    client.get("/fortunes")
    with sqlite3.connect(sqlite_path) as conn:
        assert conn.execute("SELECT count(*) FROM fortune").fetchone() == (12,)


def test_cached_queries_serve_the_startup_snapshot(client: TestClient, sqlite_path: Path) -> None:
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute("UPDATE world SET randomnumber = -1")
    rows = client.get("/cached-queries?count=50").json()
    assert len(rows) == 50
    assert all(row["randomNumber"] != -1 for row in rows)
