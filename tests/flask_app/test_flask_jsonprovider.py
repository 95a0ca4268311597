"""apps/flask_app/jsonprovider.py: jsonify() through pydantic-core."""

from __future__ import annotations

from flask import Flask, jsonify

from twinbench.apps.common.models import Item, ItemPage
from twinbench.apps.flask_app.jsonprovider import PydanticJSONProvider


def _app() -> Flask:
    app = Flask(__name__)
    app.json = PydanticJSONProvider(app)
    return app


def test_response_keeps_key_order_and_writes_utf8() -> None:
    with _app().app_context():
        response = jsonify({"z": 1, "a": "é☃"})
    assert response.mimetype == "application/json"
    assert response.get_data() == '{"z":1,"a":"é☃"}\n'.encode()


def test_kwargs_and_several_args_as_flask_does() -> None:
    with _app().app_context():
        assert jsonify(message="Hello, World!").get_data() == b'{"message":"Hello, World!"}\n'
        assert jsonify(1, 2).get_data() == b"[1,2]\n"
        assert jsonify().get_data() == b"null\n"


def test_models_serialize_like_model_dump_json() -> None:
    item = Item(id=7, name="bé", price=2.5, tags=["t"])
    page = ItemPage(items=[item], limit=1, offset=0)
    with _app().app_context():
        assert jsonify(item).get_data() == item.model_dump_json().encode() + b"\n"
        assert jsonify(page).get_data() == page.model_dump_json().encode() + b"\n"


def test_dumps_and_loads() -> None:
    provider = PydanticJSONProvider(_app())
    assert provider.dumps({"b": 1, "a": 2}) == '{"b":1,"a":2}'
    # Options are the stdlib's, and honoured the stdlib way (the template filter passes none).
    assert provider.dumps({"b": 1, "a": 2}, sort_keys=True) == '{"a": 2, "b": 1}'
    assert provider.loads(b'{"a": [1, 2.5]}') == {"a": [1, 2.5]}


def test_the_twin_uses_it(app: Flask) -> None:
    assert isinstance(app.json, PydanticJSONProvider)
