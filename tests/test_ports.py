from __future__ import annotations

import socket

import pytest

from twinbench.errors import PortBusyError, UsageError
from twinbench.ports import check_port_free, free_port, is_loopback


def test_free_port_is_bindable() -> None:
    port = free_port()
    check_port_free("127.0.0.1", port)


def test_busy_port_is_reported_with_its_number() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(PortBusyError, match=f"port {port} on 127.0.0.1 is busy"):
            check_port_free("127.0.0.1", port)


def test_out_of_range_port() -> None:
    with pytest.raises(UsageError, match="70000"):
        check_port_free("127.0.0.1", 70000)


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, ok: bool) -> None:
    assert is_loopback(host) is ok
