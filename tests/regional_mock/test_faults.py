"""Fault injection and request statistics through the development admin endpoints."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient

from regional_mock import faults
from regional_mock.netschool import create_app
from regional_mock.world import World
from tests.regional_mock.helpers import IRINA
from tests.regional_mock.helpers import sign_in


def test_5xx_mode_answers_503_and_delete_clears_it(client: FlaskClient) -> None:
    assert client.post("/__admin/faults", json={"mode": "5xx"}).status_code == 200
    assert client.get("/webapi/logindata").status_code == 503
    assert client.get("/__admin/faults").get_json()["mode"] == "5xx"
    client.delete("/__admin/faults")
    assert client.get("/webapi/logindata").status_code == 200


@pytest.mark.parametrize("status", [503, 200])
def test_maintenance_mode_serves_an_html_page(client: FlaskClient, status: int) -> None:
    client.post("/__admin/faults", json={"mode": "maintenance", "maintenance_status": status})
    reply = client.post("/webapi/auth/getdata")
    assert reply.status_code == status and reply.mimetype == "text/html"
    assert "Технические работы" in reply.get_data(as_text=True)


def test_malformed_json_mode_breaks_the_body(client: FlaskClient) -> None:
    client.post("/__admin/faults", json={"mode": "malformed_json"})
    reply = client.get("/webapi/logindata")
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    with pytest.raises(ValueError):
        reply.get_json()


def test_429_mode_asks_to_retry_later(client: FlaskClient) -> None:
    client.post("/__admin/faults", json={"mode": "429"})
    reply = client.get("/api/mobile/classmeetings")
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "30"


def test_faults_leave_the_admin_and_token_endpoints_alone(client: FlaskClient) -> None:
    client.post("/__admin/faults", json={"mode": "5xx"})
    assert client.get("/__admin/stats").status_code == 200
    assert client.post("/connect/token", data={}).status_code == 401


def test_latency_sleeps_before_answering(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    client.post("/__admin/faults", json={"latency_ms": 1500})
    assert client.get("/webapi/logindata").status_code == 200
    assert slept == [1.5]


def test_an_error_rate_of_one_fails_every_request(client: FlaskClient) -> None:
    client.post("/__admin/faults", json={"error_rate": 1.0})
    assert client.get("/webapi/logindata").status_code == 503


def test_expire_sessions_ends_every_session(client: FlaskClient) -> None:
    headers = sign_in(client, *IRINA)
    reply = client.post("/__admin/faults", json={"expire_sessions": True})
    assert reply.get_json()["expired_sessions"] == 1
    assert client.get("/webapi/context", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "body", [{"mode": "teapot"}, {"latency_ms": -1}, {"unknown": 1}, {"error_rate": 2}]
)
def test_bad_fault_settings_are_refused(client: FlaskClient, body: dict[str, object]) -> None:
    assert client.post("/__admin/faults", json=body).status_code == 400


def test_faults_can_come_from_config(world: World) -> None:
    client = create_app(world, {"FAULT_MODE": "maintenance"}).test_client()
    assert client.get("/webapi/logindata").status_code == 503


def test_admin_endpoints_can_be_switched_off(world: World) -> None:
    client = create_app(world, {"EMULATOR_ADMIN": False}).test_client()
    assert client.get("/__admin/stats").status_code == 404


def test_stats_count_requests_per_method_and_path(client: FlaskClient) -> None:
    sign_in(client, *IRINA)
    sign_in(client, *IRINA)
    stats = client.get("/__admin/stats").get_json()
    assert stats == {
        "GET /webapi/logindata": 2,
        "POST /webapi/auth/getdata": 2,
        "POST /webapi/login": 2,
    }
    client.post("/__admin/stats/reset")
    assert client.get("/__admin/stats").get_json() == {}


def test_concurrency_shows_the_most_requests_answered_at_once(app: Flask) -> None:
    admin = app.test_client()
    admin.post("/__admin/faults", json={"latency_ms": 300})
    together = threading.Barrier(3)

    def one_request() -> int:
        together.wait()
        return app.test_client().get("/webapi/logindata").status_code

    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(lambda _: one_request(), range(3))) == [200, 200, 200]
    assert admin.get("/__admin/concurrency").get_json() == {"in_flight": 0, "most_at_once": 3}

    admin.post("/__admin/faults", json={"latency_ms": 0, "mode": "5xx"})
    assert admin.get("/webapi/logindata").status_code == 503  # a failed answer leaves too
    admin.post("/__admin/stats/reset")
    assert admin.get("/__admin/concurrency").get_json() == {"in_flight": 0, "most_at_once": 0}
    admin.get("/webapi/logindata")
    assert admin.get("/__admin/concurrency").get_json() == {"in_flight": 0, "most_at_once": 1}
