"""The common-header check itself: it must be able to fail, and it must be on every
contract client (support/served.py installs it as a response hook)."""

from __future__ import annotations

import email.utils
import time

import pytest
from support.headers import assert_common_headers, check_common_headers
from support.served import Served


def _now() -> str:
    return email.utils.formatdate(time.time(), usegmt=True)


NOW = "<now>"  # replaced when the test runs: parameters are built at collection time


def good(**extra: str) -> dict[str, str]:
    return {"Server": "s", "Date": NOW, "Content-Type": "application/json", **extra}


def _dated(headers: dict[str, str]) -> dict[str, str]:
    return {k: (_now() if v == NOW else v) for k, v in headers.items()}


def test_a_complete_response_passes() -> None:
    check_common_headers("GET", 200, _dated(good(**{"Content-Length": "2"})))
    check_common_headers("GET", 200, _dated(good(**{"Transfer-Encoding": "chunked"})))
    check_common_headers("DELETE", 204, {"Server": "s", "Date": _now()})
    check_common_headers("HEAD", 200, _dated(good(**{"Content-Type": "text/event-stream"})))


@pytest.mark.parametrize(
    ("method", "status", "headers", "problem"),
    [
        ("GET", 200, {"Date": NOW, "Content-Type": "a/b", "Content-Length": "1"}, "Server"),
        ("GET", 404, {"Server": "s", "Content-Type": "a/b", "Content-Length": "1"}, "Date"),
        (
            "GET",
            200,
            {
                "Server": "s",
                "Date": "Mon, 01 Jan 2001 00:00:00 GMT",
                "Content-Type": "a/b",
                "Content-Length": "1",
            },
            "off",
        ),
        ("GET", 422, {"Server": "s", "Date": NOW, "Content-Length": "1"}, "Content-Type"),
        ("GET", 200, good(), "neither"),
        ("HEAD", 200, good(), "neither"),
        ("DELETE", 204, {"Server": "s", "Date": NOW, "Content-Length": "0"}, "204"),
    ],
)
def test_a_missing_header_fails(
    method: str, status: int, headers: dict[str, str], problem: str
) -> None:
    with pytest.raises(AssertionError, match=problem):
        check_common_headers(method, status, _dated(headers))


def test_every_contract_client_checks_every_response(server: Served) -> None:
    assert assert_common_headers in server.client.event_hooks["response"]
