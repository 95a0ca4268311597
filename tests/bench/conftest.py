"""In-process drivers for the micro-benchmarks: the WSGI and ASGI apps called directly.

Neither framework's test client is used: they add different, large overheads (Starlette's
TestClient hops threads through anyio), which would measure the clients, not the apps.
Both drivers run BATCH requests per call, so the per-call overhead of entering the event
loop is amortised the same way for both.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from twinbench.apps.common.settings import AppConfig, DatabaseURL

BATCH = 100
ITEM = json.dumps({"name": "widget", "price": 9.5, "tags": ["a", "b"]}).encode()


class WsgiDriver:
    def __init__(self, app: Any) -> None:
        self.app = app

    def batch(self, method: str, path: str, body: bytes = b"") -> Callable[[], int]:
        headers = {"Content-Type": "application/json"} if body else {}
        base = EnvironBuilder(path=path, method=method, data=body, headers=headers).get_environ()
        statuses: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
            statuses.append(status)

        def run() -> int:
            statuses.clear()
            for _ in range(BATCH):
                environ = dict(base)
                environ["wsgi.input"] = io.BytesIO(body)
                result = self.app(environ, start_response)
                try:
                    for _chunk in result:
                        pass
                finally:
                    close = getattr(result, "close", None)
                    if close:
                        close()
            return int(statuses[-1].split()[0])

        return run


class AsgiDriver:
    """Runs the app's lifespan on our own loop, then requests on that same loop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.state: dict[str, Any] = {}
        self._lifespan_in: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._lifespan_out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.loop.run_until_complete(self._startup())

    async def _startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        self._task = asyncio.ensure_future(
            self.app(scope, self._lifespan_in.get, self._lifespan_out.put)
        )
        await self._lifespan_in.put({"type": "lifespan.startup"})
        msg = await self._lifespan_out.get()
        assert msg["type"] == "lifespan.startup.complete", msg

    def close(self) -> None:
        async def shutdown() -> None:
            await self._lifespan_in.put({"type": "lifespan.shutdown"})
            await self._lifespan_out.get()
            await self._task

        self.loop.run_until_complete(shutdown())
        self.loop.close()

    def batch(self, method: str, path: str, body: bytes = b"") -> Callable[[], int]:
        headers = [(b"host", b"bench")]
        if body:
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
        path_only, _, query = path.partition("?")

        async def one() -> int:
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": method,
                "scheme": "http",
                "path": path_only,
                "raw_path": path_only.encode(),
                "query_string": query.encode(),
                "root_path": "",
                "headers": headers,
                "client": ("127.0.0.1", 1),
                "server": ("127.0.0.1", 80),
                "state": dict(self.state),
            }
            sent = False
            status = 0

            async def receive() -> dict[str, Any]:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                await asyncio.sleep(3600)
                return {"type": "http.disconnect"}

            async def send(message: dict[str, Any]) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]

            await self.app(scope, receive, send)
            return status

        async def many() -> int:
            status = 0
            for _ in range(BATCH):
                status = await one()
            return status

        return lambda: self.loop.run_until_complete(many())


def _drivers(database: DatabaseURL) -> Iterator[tuple[str, Any]]:
    from twinbench.apps.fastapi_app import create_app as create_fastapi
    from twinbench.apps.flask_app import create_app as create_flask

    config = AppConfig(database=database, upstream_url="http://127.0.0.1:9", pool_size=1)
    yield "flask", WsgiDriver(create_flask(config))
    asgi = AsgiDriver(create_fastapi(config))
    try:
        yield "fastapi", asgi
    finally:
        asgi.close()


@pytest.fixture(scope="module", params=["flask", "fastapi"])
def driver(request: pytest.FixtureRequest, sqlite_database: DatabaseURL) -> Iterator[Any]:
    gen = _drivers(sqlite_database)
    for name, drv in gen:
        if name == request.param:
            yield drv
            break
    gen.close()
