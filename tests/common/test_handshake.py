"""apps/common/handshake.py: RFC 6455's handshake checks, shared by both twins."""

from __future__ import annotations

import pytest

from twinbench.apps.common.handshake import (
    handshake_errors,
    key_is_valid,
    needs_version_header,
    request_errors,
    websocket_header_errors,
)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
GOOD = {"Host": ["127.0.0.1"], "Sec-WebSocket-Key": [KEY], "Sec-WebSocket-Version": ["13"]}


def _getlist(headers: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return lambda name: headers.get(name, [])


def _fields(errors: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(e["field"], e["type"]) for e in errors]


def test_a_good_handshake_has_no_errors() -> None:
    for version in ("HTTP/1.1", "1.1", "2", "HTTP/2.0"):
        assert handshake_errors(version, _getlist(GOOD)) == []


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        (KEY, True),
        ("AAAAAAAAAAAAAAAAAAAAAA==", True),
        ("", False),
        ("abc", False),
        ("AAAAAAAAAAAAAAAAAAAA", False),  # 15 bytes
        ("AAAAAAAAAAAAAAAAAAAAAAAA", False),  # 18 bytes
        ("!!!!not base64!!!!!!!!==", False),
        (f"{KEY},{KEY}", False),  # two keys, joined by the server
        ("dGhlIHNhbXBsZSBub25jZQ", False),  # no padding
        ("ÿ" * 24, False),
    ],
)
def test_key_must_be_base64_of_16_bytes(key: str, valid: bool) -> None:
    assert key_is_valid(key) is valid


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"Sec-WebSocket-Key": []}, [("Sec-WebSocket-Key", "missing")]),
        ({"Sec-WebSocket-Key": [KEY, KEY]}, [("Sec-WebSocket-Key", "missing")]),
        ({"Sec-WebSocket-Key": ["abc"]}, [("Sec-WebSocket-Key", "invalid")]),
        ({"Sec-WebSocket-Version": []}, [("Sec-WebSocket-Version", "missing")]),
        ({"Sec-WebSocket-Version": ["8"]}, [("Sec-WebSocket-Version", "unsupported")]),
        ({"Host": []}, [("Host", "missing")]),
        ({"Host": [""]}, [("Host", "missing")]),
    ],
)
def test_each_broken_header_is_named(
    change: dict[str, list[str]], expected: list[tuple[str, str]]
) -> None:
    errors = handshake_errors("HTTP/1.1", _getlist({**GOOD, **change}))
    assert _fields(errors) == expected
    assert all(e["message"] for e in errors)
    assert needs_version_header(errors) == (expected[0][0] == "Sec-WebSocket-Version")


@pytest.mark.parametrize("version", ["HTTP/1.0", "1.0", "HTTP/0.9", "", "garbage"])
def test_http_before_1_1_is_refused(version: str) -> None:
    assert _fields(request_errors(version, _getlist(GOOD))) == [("http_version", "unsupported")]


def test_the_two_halves_add_up() -> None:
    headers = _getlist({})
    assert handshake_errors("1.0", headers) == request_errors("1.0", headers) + (
        websocket_header_errors(headers)
    )
    assert len(handshake_errors("1.0", headers)) == 4
