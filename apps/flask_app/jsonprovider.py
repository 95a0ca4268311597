"""Flask's JSON provider, serializing with pydantic-core (Rust) instead of the stdlib `json`.

Flask's documented way to change how `jsonify` encodes is a JSON provider
(`app.json = Provider(app)`); production teams usually plug orjson in there. This one
plugs in `pydantic_core.to_json`, the Rust serializer Pydantic already brings (no new
dependency), which is also what the FastAPI twin's responses now go through (FastAPI
serializes declared return types with Pydantic, in Rust): both twins encode JSON with the
same engine, and neither adds orjson/ujson. apps/CONTRACT.md has the measured effect.

What changes against Flask's default provider: keys keep their insertion order instead of
being sorted, and non-ASCII text is written as UTF-8 instead of `\\uXXXX` escapes (both as
FastAPI does). Models (`Item`, `ItemPage`) are serialized directly, as `model_dump_json()`
would, without a detour through a dict. Bodies still end with Flask's newline.
"""

from __future__ import annotations

import json
from typing import Any, cast

from flask import Response
from flask.json.provider import JSONProvider
from pydantic_core import to_json


class PydanticJSONProvider(JSONProvider):
    mimetype = "application/json"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # Options are the stdlib's (`indent`, `sort_keys`, ...): honour them the stdlib way.
        if kwargs:
            return json.dumps(obj, **kwargs)
        return to_json(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        # The app's response class (Flask's own unless the app changes it).
        response_class = cast("type[Response]", self._app.response_class)
        return response_class(to_json(obj) + b"\n", mimetype=self.mimetype)
