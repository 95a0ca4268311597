"""The Flask twin of twinbench (see apps/CONTRACT.md).

Servers load it as `twinbench.apps.flask_app:create_app()`, in each worker process after fork (no
--preload), so every pool and client below belongs to exactly one process.
"""

from __future__ import annotations

import atexit

from flask import Flask
from jinja2 import DictLoader

from twinbench.apps.common.errors import MAX_BODY_BYTES
from twinbench.apps.common.fortunes import FORTUNES_TEMPLATE
from twinbench.apps.common.settings import AppConfig

from . import api, health, realtime, techempower
from .broadcast import Hub
from .db import open_storage
from .errors import register_error_handlers
from .jsonprovider import PydanticJSONProvider
from .state import Services, install
from .upstream import UpstreamClient


def create_app(config: AppConfig | None = None) -> Flask:
    config = config if config is not None else AppConfig.from_env()

    app = Flask(__name__)
    # jsonify() through pydantic-core's Rust serializer (jsonprovider.py says why).
    app.json = PydanticJSONProvider(app)
    app.config.update(
        # werkzeug enforces it on Content-Length and while reading a chunked body (-> 413).
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        # OPTIONS is not served (405); must be set before any route is registered.
        PROVIDE_AUTOMATIC_OPTIONS=False,
        SOCK_SERVER_OPTIONS=realtime.SOCK_SERVER_OPTIONS,
    )
    # The fortunes template is shared with the FastAPI twin as a string; serving it from a
    # loader lets Jinja compile it once and cache it, and the .html name turns autoescape on.
    app.jinja_loader = DictLoader({techempower.FORTUNES_TEMPLATE_NAME: FORTUNES_TEMPLATE})
    app.url_map.converters["item_id"] = api.ItemIdConverter

    register_error_handlers(app)
    for blueprint in (techempower.bp, api.bp, realtime.bp, health.bp):
        app.register_blueprint(blueprint)
    realtime.sock.init_app(app)

    storage = open_storage(config)
    try:
        world_cache = {world.id: world for world in storage.all_worlds()}
        upstream = UpstreamClient(config.upstream_url)
    except BaseException:
        storage.close()
        raise
    services = Services(storage=storage, upstream=upstream, world_cache=world_cache, hub=Hub())
    install(app, services)
    # Say goodbye to the database when the worker exits instead of dropping the connections.
    atexit.register(services.close)
    return app


__all__ = ["create_app"]
