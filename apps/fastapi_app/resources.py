"""Everything the lifespan opens, and the dependencies that hand it to the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, cast

import aiohttp
from fastapi import Depends, FastAPI
from starlette.requests import HTTPConnection

from twinbench.apps.common.settings import AppConfig

from .broadcast import BroadcastHub
from .db import Database, open_database
from .upstream import create_client


@dataclass(frozen=True)
class Resources:
    db: Database
    http: aiohttp.ClientSession
    upstream_url: str
    worlds: dict[int, int]  # the /cached-queries cache: id → randomNumber
    hub: BroadcastHub


def lifespan_for(
    config: AppConfig,
) -> Callable[[FastAPI], AbstractAsyncContextManager[dict[str, Resources]]]:
    """The app's lifespan: opens the pool, the upstream client and the cache, closes them."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Resources]]:
        db = await open_database(config)
        try:
            worlds = await db.all_worlds()
            async with create_client() as http:
                # Lifespan state: Starlette copies it into every request's `state`.
                yield {
                    "resources": Resources(
                        db=db,
                        http=http,
                        upstream_url=config.upstream_url,
                        worlds=worlds,
                        hub=BroadcastHub(),
                    )
                }
        finally:
            await db.close()

    return lifespan


# `async def` on purpose: FastAPI runs plain `def` dependencies in the threadpool.
async def get_resources(conn: HTTPConnection) -> Resources:
    return cast(Resources, conn.state.resources)


async def get_db(conn: HTTPConnection) -> Database:
    return cast(Resources, conn.state.resources).db


ResourcesDep = Annotated[Resources, Depends(get_resources)]
DatabaseDep = Annotated[Database, Depends(get_db)]
