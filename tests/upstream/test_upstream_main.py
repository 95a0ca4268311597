"""`python -m twinbench.apps.upstream` as a real process on a free loopback port.

Checks what only a real uvicorn shows: the headers the server adds, chunked streaming,
real timing, 500 concurrent waits, the raised descriptor limit, and clean stops.
"""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _start(port: int, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twinbench.apps.upstream",
            "--host",
            HOST,
            "--port",
            str(port),
            *extra,
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_healthy(proc: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1].decode()
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("the mock upstream did not become healthy within 20 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()
    if proc.stderr:
        proc.stderr.close()


class Mock:
    def __init__(self) -> None:
        self.port = _free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.proc = _start(self.port)


@pytest.fixture(scope="module")
def mock() -> Iterator[Mock]:
    server = Mock()
    try:
        _wait_healthy(server.proc, server.base)
        yield server
    finally:
        _stop(server.proc)


@pytest.fixture
def client(mock: Mock) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock.base, timeout=15) as c:
        yield c


def _assert_common_headers(resp: httpx.Response) -> None:
    assert resp.headers["server"]
    # The Date header is current to the second.
    date = resp.headers["date"]
    assert (
        abs(
            time.mktime(time.strptime(date, "%a, %d %b %Y %H:%M:%S GMT"))
            - time.mktime(time.gmtime())
        )
        <= 2
    )


def test_health(client: httpx.Client) -> None:
    resp = client.get("/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["content-length"] == str(len(resp.content))
    _assert_common_headers(resp)


def test_delay_answer_and_headers(client: httpx.Client) -> None:
    resp = client.get("/delay", params={"ms": 10})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["content-length"] == str(len(resp.content))
    _assert_common_headers(resp)
    body = resp.json()
    assert body["delay_ms"] == 10
    assert body["sent_ns"] - body["received_ns"] >= 10_000_000


def test_delay_200ms_takes_200_to_400ms(client: httpx.Client) -> None:
    client.get("/health")  # connect first: time only the request
    start = time.monotonic()
    resp = client.get("/delay", params={"ms": 200})
    elapsed = time.monotonic() - start
    assert resp.status_code == 200
    assert 0.200 <= elapsed < 0.400, elapsed


def test_stream_is_chunked_sse_with_paced_tokens(client: httpx.Client) -> None:
    start = time.monotonic()
    arrivals: list[float] = []
    events: list[str] = []
    with client.stream("GET", "/stream", params={"tokens": 5, "interval_ms": 50}) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "text/event-stream"
        assert resp.headers["cache-control"] == "no-cache"
        assert resp.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in resp.headers
        _assert_common_headers(resp)
        for line in resp.iter_lines():
            if line:
                events.append(line.removeprefix("data: "))
                arrivals.append(time.monotonic() - start)
    assert [json.loads(e) for e in events[:-1]] == [
        {"token": k, "text": f"tok{k}"} for k in range(1, 6)
    ]
    assert events[-1] == "[DONE]"
    # Token k is due k*50 ms after arrival: really streamed, not sent in one piece.
    assert arrivals[0] >= 0.045
    assert arrivals[4] >= 0.250
    assert arrivals[4] - arrivals[0] >= 0.190


@pytest.mark.parametrize(
    "path",
    [
        "/delay?ms=abc",
        "/delay?ms=-5",
        "/delay?ms=10001",
        "/delay?ms=",
        "/delay?ms=%00",
        "/stream?tokens=0",
        "/stream?interval_ms=99999999999999999999999",
        "/stream?tokens=%F0%9F%98%80",
    ],
)
def test_bad_query_is_400_json(client: httpx.Client, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 400
    assert resp.headers["content-type"] == "application/json"
    assert resp.json()["error"]["code"] == "bad_request"
    assert resp.json()["error"]["details"] == []


@pytest.mark.parametrize("path", ["/", "/nope", "/delay/extra", "/%ff", "/health/"])
def test_unknown_path_is_404_json(client: httpx.Client, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {"error": {"code": "not_found", "message": "Not found", "details": []}}


def test_wrong_method_is_405_and_head_has_no_body(client: httpx.Client) -> None:
    resp = client.post("/delay", content=b"x" * 100_000)
    assert resp.status_code == 405
    assert resp.headers["allow"] == "GET, HEAD"
    assert resp.json()["error"]["code"] == "method_not_allowed"
    head = client.head("/health")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == "15"


def test_websocket_upgrade_is_not_served(client: httpx.Client) -> None:
    resp = client.get(
        "/delay",
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    assert resp.status_code < 500


async def _raw_delay(port: int, ms: int) -> tuple[int, dict[str, int]]:
    """One `GET /delay` on its own connection: the status code and the JSON body."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(
            f"GET /delay?ms={ms} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
        )
        answer = await reader.read()  # the server closes after the answer
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def test_500_waits_are_all_in_flight_at_once(mock: Mock) -> None:
    """Concurrency, shown by the mock's own clock, not by a wall-clock threshold: every one of
    500 requests with a 2 s wait arrived before the first of them was answered, and none was
    answered early. (How many thousands it holds, and at what cost: `make upstream-bench`.)"""

    # Raw asyncio streams, not httpx: httpx.AsyncClient spends seconds on 500 concurrent
    # requests on its own (encode/httpx#3215), which would hide what the mock does.
    async def go() -> list[tuple[int, dict[str, int]]]:
        return await asyncio.wait_for(
            asyncio.gather(*(_raw_delay(mock.port, 2000) for _ in range(500))), timeout=30
        )

    answers = asyncio.run(go())
    assert [status for status, _ in answers] == [200] * 500
    bodies = [body for _, body in answers]
    assert all(b["delay_ms"] == 2000 for b in bodies)
    assert max(b["received_ns"] for b in bodies) < min(b["sent_ns"] for b in bodies)
    assert min(b["sent_ns"] - b["received_ns"] for b in bodies) >= 2000 * 1_000_000


def test_descriptor_limit_is_raised_to_the_hard_limit(mock: Mock) -> None:
    soft, hard = psutil.Process(mock.proc.pid).rlimit(resource.RLIMIT_NOFILE)
    expected = hard if hard != resource.RLIM_INFINITY else 1 << 20
    assert soft == expected


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_even_with_requests_in_flight(sig: signal.Signals) -> None:
    port = _free_port()
    proc = _start(port)
    base = f"http://{HOST}:{port}"
    try:
        _wait_healthy(proc, base)
        # Three 10-second waits in flight: the stop must not wait for them (graceful
        # timeout 2 s).
        waiters = [
            subprocess.Popen(
                [sys.executable, "-c", f"import httpx; httpx.get('{base}/delay?ms=10000')"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(3)
        ]
        time.sleep(0.8)
        start = time.monotonic()
        proc.send_signal(sig)
        status = proc.wait(timeout=10)
        assert time.monotonic() - start < 5
        for waiter in waiters:
            waiter.wait(timeout=10)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        assert status == 0, stderr
        assert "Traceback" not in stderr
    finally:
        _stop(proc)


def test_refuses_non_loopback_host() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "twinbench.apps.upstream", "--host", "0.0.0.0", "--port", "1"],
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert b"loopback" in proc.stderr


def test_port_in_use_exits_non_zero() -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "twinbench.apps.upstream", "--host", HOST, "--port", str(port)],
            cwd=REPO_ROOT,
            capture_output=True,
            timeout=30,
        )
    assert proc.returncode != 0
