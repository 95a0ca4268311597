"""GET /health."""

from __future__ import annotations

from flask.testing import FlaskClient

from twinbench.apps.flask_app.state import Services


def test_ready(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_database_gone_is_503(client: FlaskClient, services: Services) -> None:
    services.storage.close()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "not_ready"


def test_upstream_client_closed_is_503(client: FlaskClient, services: Services) -> None:
    services.upstream.close()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json() == {
        "error": {"code": "not_ready", "message": "Service is not ready", "details": []}
    }
