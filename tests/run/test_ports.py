from __future__ import annotations

import socket

import pytest

from twinbench.errors import PortBusyError, UsageError
from twinbench.run.ports import check_loopback_http_url, check_port_free, free_port, is_loopback


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


def test_unresolvable_host_is_named_as_such() -> None:
    # It used to say "port 8000 on nosuchhost.invalid is busy (Name or service not known)".
    with pytest.raises(UsageError, match=r"'nosuchhost\.invalid' cannot be resolved") as exc:
        check_port_free("nosuchhost.invalid", 8000)
    assert not isinstance(exc.value, PortBusyError) and "busy" not in str(exc.value)


def test_address_of_another_machine_is_not_called_busy() -> None:
    # TEST-NET-1 (RFC 5737): never an address of this machine.
    with pytest.raises(UsageError, match=r"'192\.0\.2\.1' is not an address of this machine"):
        check_port_free("192.0.2.1", free_port())


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://127.0.0.1:8100", "http://127.0.0.1:8100"),
        ("http://127.0.0.1:8100/", "http://127.0.0.1:8100"),
        ("http://localhost:9/prefix", "http://localhost:9/prefix"),
        ("http://[::1]:8100", "http://[::1]:8100"),
    ],
)
def test_loopback_http_urls_are_accepted(url: str, base: str) -> None:
    assert check_loopback_http_url(url, "--upstream") == base


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:8100",
        "127.0.0.1:8100",
        "http://10.0.0.1:8100",
        "http://example.com",
        "http://127.0.0.1:x",
        "http://127.0.0.1:70000",
        "http://[bad",
        "http://127.0.0.1:8100?ms=3",
        "http://user:pw@127.0.0.1:8100",
        "",
    ],
)
def test_other_upstream_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(UsageError, match="--upstream"):
        check_loopback_http_url(url, "--upstream")


def test_a_remote_upstream_needs_allow_remote() -> None:
    with pytest.raises(UsageError, match=r"loopback host .*or pass --allow-remote"):
        check_loopback_http_url("http://upstream:8100", "--upstream")
    assert check_loopback_http_url("http://upstream:8100/", "--upstream", allow_remote=True) == (
        "http://upstream:8100"
    )
    with pytest.raises(UsageError, match="must be an http:// URL"):  # the rest still applies
        check_loopback_http_url("ftp://upstream:8100", "--upstream", allow_remote=True)
