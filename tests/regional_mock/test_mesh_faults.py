"""MESH fault injection and request statistics through the development admin endpoints."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from regional_mock import faults
from regional_mock.mesh import create_app
from regional_mock.world import World
from tests.regional_mock import mesh_helpers as mh

PROFILE = "/api/family/web/v1/profile"


@pytest.fixture
def app(world: World) -> Flask:
    """Return the MESH emulator."""
    return create_app(world)


def test_5xx_mode_answers_503_and_delete_clears_it(client: FlaskClient) -> None:
    assert client.post("/__admin/faults", json={"mode": "5xx"}).status_code == 200
    assert client.get("/sps/oauth/ae", query_string=mh.AUTHORIZE).status_code == 503
    client.delete("/__admin/faults")
    assert client.get("/sps/oauth/ae", query_string=mh.AUTHORIZE).status_code == 200


@pytest.mark.parametrize("status", [503, 200])
def test_maintenance_mode_serves_a_mesh_html_page(client: FlaskClient, status: int) -> None:
    token = mh.sign_in(client)
    client.post("/__admin/faults", json={"mode": "maintenance", "maintenance_status": status})
    reply = client.get(PROFILE, headers=mh.api(token))
    assert reply.status_code == status and reply.mimetype == "text/html"
    assert "Московская электронная школа" in reply.get_data(as_text=True)


def test_malformed_json_mode_breaks_the_body(client: FlaskClient) -> None:
    token = mh.sign_in(client)
    client.post("/__admin/faults", json={"mode": "malformed_json"})
    reply = client.get(PROFILE, headers=mh.api(token))
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    with pytest.raises(ValueError):
        reply.get_json()


def test_429_mode_asks_to_retry_later(client: FlaskClient) -> None:
    client.post("/__admin/faults", json={"mode": "429"})
    reply = client.get("/api/eventcalendar/v1/api/events")
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "30"


def test_latency_sleeps_before_answering(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    client.post("/__admin/faults", json={"latency_ms": 1500})
    assert client.get("/sps/oauth/ae", query_string=mh.AUTHORIZE).status_code == 200
    assert slept == [1.5]


def test_an_error_rate_of_one_fails_every_request(client: FlaskClient) -> None:
    client.post("/__admin/faults", json={"error_rate": 1.0})
    assert client.get(PROFILE).status_code == 503


def test_expire_sessions_ends_every_token(client: FlaskClient) -> None:
    token = mh.sign_in(client)
    reply = client.post("/__admin/faults", json={"expire_sessions": True})
    assert reply.get_json()["expired_sessions"] == 2  # the aupd_token and the SSO session
    assert client.get(PROFILE, headers=mh.api(token)).status_code == 401
    assert client.post("/v3/token/refresh").status_code == 401


def test_faults_leave_the_admin_pages_alone(client: FlaskClient) -> None:
    client.post("/__admin/faults", json={"mode": "5xx"})
    assert client.get("/__admin/stats").status_code == 200
    assert client.get("/__admin/outbox").status_code == 200


@pytest.mark.parametrize("body", [{"mode": "teapot"}, {"latency_ms": -1}, {"unknown": 1}])
def test_bad_fault_settings_are_refused(client: FlaskClient, body: dict[str, object]) -> None:
    assert client.post("/__admin/faults", json=body).status_code == 400


def test_faults_can_come_from_config(world: World) -> None:
    client = create_app(world, {"FAULT_MODE": "maintenance"}).test_client()
    assert client.get("/sps/oauth/ae", query_string=mh.AUTHORIZE).status_code == 503


def test_admin_endpoints_can_be_switched_off(world: World) -> None:
    client = create_app(world, {"EMULATOR_ADMIN": False}).test_client()
    assert client.get("/__admin/stats").status_code == 404
    assert client.get("/__admin/outbox").status_code == 404


def test_stats_count_requests_per_method_and_path(client: FlaskClient) -> None:
    token = mh.sign_in(client)
    client.get(PROFILE, headers=mh.api(token))
    stats = client.get("/__admin/stats").get_json()
    assert stats == {
        "GET /sps/oauth/ae": 1,
        "POST /sps/login/methods/headless/password": 1,
        "POST /sps/login/methods/headless/sms/bind": 2,
        "POST /sps/login/ur/askToTrust": 1,
        "GET /v3/auth/sudir/callback": 1,
        "GET /api/family/web/v1/profile": 1,
    }
    client.post("/__admin/stats/reset")
    assert client.get("/__admin/stats").get_json() == {}
