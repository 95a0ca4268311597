"""The pooled urllib3 client for the mock upstream, against a real stub server."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from twinbench.apps.flask_app.upstream import UpstreamClient, UpstreamError


def test_delay_returns_the_json(upstream_url: str) -> None:
    client = UpstreamClient(upstream_url)
    try:
        assert client.delay(12) == {"delayed_ms": 12}
        assert client.is_open
    finally:
        client.close()
    assert not client.is_open


def test_non_2xx_is_an_upstream_error(upstream_url: str) -> None:
    client = UpstreamClient(upstream_url + "/broken")  # the stub answers 500 off /delay
    with pytest.raises(UpstreamError):
        client.delay(0)


def test_connection_refused_is_an_upstream_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again at once: nothing listens there
    with pytest.raises(UpstreamError):
        UpstreamClient(f"http://127.0.0.1:{port}").delay(0)


@pytest.fixture()
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_timeout_is_an_upstream_error(silent_server: str) -> None:
    client = UpstreamClient(silent_server, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(UpstreamError):
        client.delay(0)
    assert time.monotonic() - started < 2


def test_non_json_body_is_an_upstream_error(upstream_url: str) -> None:
    client = UpstreamClient(upstream_url + "/notjson")  # the stub's 200 that is not JSON
    with pytest.raises(UpstreamError):
        client.delay(1)


def test_a_closed_client_refuses_to_call(upstream_url: str) -> None:
    client = UpstreamClient(upstream_url)
    client.close()
    with pytest.raises(UpstreamError, match="closed"):
        client.delay(0)
