"""The FastAPI twin of the twinbench contract (apps/CONTRACT.md).

Run with `uvicorn --factory twinbench.apps.fastapi_app:create_app` or
`gunicorn -k uvicorn_worker.UvicornWorker 'twinbench.apps.fastapi_app:create_app()'`.
"""

from __future__ import annotations

from fastapi import FastAPI

from twinbench.apps.common.settings import AppConfig

from . import api, health, realtime, techempower
from .errors import install_error_handlers
from .middleware import BodyLimitMiddleware
from .resources import lifespan_for

__all__ = ["create_app"]


def create_app(config: AppConfig | None = None) -> FastAPI:
    config = AppConfig.from_env() if config is None else config
    app = FastAPI(
        title="twinbench FastAPI twin",
        lifespan=lifespan_for(config),
        # The contract's paths only: no /docs, /redoc or /openapi.json (the Flask twin has
        # none, and an unknown path must be a 404). `app.openapi()` still works in-process.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # `/json/` is an unknown path (404), as in Flask, not a redirect to `/json`.
        redirect_slashes=False,
        # No `max_body_size`: BodyLimitMiddleware does it with the JSON error body.
    )
    # Outermost of the user middleware: an oversized upload is refused before routing.
    app.add_middleware(BodyLimitMiddleware)
    # Flat routes (apps/fastapi_app/routes.py says why), then the handlers that index them.
    for module in (techempower, api, realtime, health):
        module.routes.add_to(app)
    install_error_handlers(app)
    return app
