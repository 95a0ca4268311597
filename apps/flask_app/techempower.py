"""The TechEmpower Framework Benchmarks endpoints, following their rules."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from twinbench.apps.common.fortunes import with_extra_sorted
from twinbench.apps.common.params import clamp_queries, random_id, random_ids, random_number

from .state import services
from .validation import last_arg

bp = Blueprint("techempower", __name__)

FORTUNES_TEMPLATE_NAME = "fortunes.html"  # .html: Flask turns autoescaping on by extension


@bp.get("/json")
def json_hello() -> Response:
    return jsonify(message="Hello, World!")


@bp.get("/plaintext")
def plaintext() -> Response:
    return Response(b"Hello, World!", mimetype="text/plain")


@bp.get("/db")
def single_query() -> Response:
    world = services().storage.world(random_id())
    if world is None:
        raise LookupError("world table is not seeded")
    return jsonify(world.to_json())


@bp.get("/queries")
def multiple_queries() -> Response:
    n = clamp_queries(last_arg("queries"))
    worlds = services().storage.worlds([random_id() for _ in range(n)])
    return jsonify([world.to_json() for world in worlds])


@bp.get("/updates")
def updates() -> Response:
    n = clamp_queries(last_arg("queries"))
    worlds = services().storage.update_worlds(random_ids(n), [random_number() for _ in range(n)])
    return jsonify([world.to_json() for world in worlds])


@bp.get("/fortunes")
def fortunes() -> str:
    rows = with_extra_sorted(services().storage.fortunes())
    return render_template(FORTUNES_TEMPLATE_NAME, fortunes=rows)


@bp.get("/cached-queries")
def cached_queries() -> Response:
    n = clamp_queries(last_arg("count"))
    cache = services().world_cache
    return jsonify([cache[random_id()].to_json() for _ in range(n)])
