"""Fault injection and request statistics of the Dnevnik.ru emulator."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from regional_mock import faults
from regional_mock.dnevnik_ru import create_app
from regional_mock.world import World
from tests.regional_mock.dnevnik_helpers import LOGIN
from tests.regional_mock.dnevnik_helpers import make_app
from tests.regional_mock.dnevnik_helpers import mobile_login
from tests.regional_mock.dnevnik_helpers import partner_token
from tests.regional_mock.helpers import FakeClock


@pytest.fixture
def dn(world: World, clock: FakeClock) -> FlaskClient:
    """Return a client of the Dnevnik.ru emulator."""
    return make_app(world, clock).test_client()


def test_5xx_mode_answers_503_and_delete_clears_it(dn: FlaskClient) -> None:
    token = partner_token(dn)
    assert dn.post("/__admin/faults", json={"mode": "5xx"}).status_code == 200
    assert dn.get("/v2/users/me", headers={"Access-Token": token}).status_code == 503
    assert dn.get("/__admin/faults").get_json()["mode"] == "5xx"
    dn.delete("/__admin/faults")
    assert dn.get("/v2/users/me", headers={"Access-Token": token}).status_code == 200


@pytest.mark.parametrize("status", [503, 200])
def test_maintenance_is_dnevnik_s_html_error_page(dn: FlaskClient, status: int) -> None:
    dn.post("/__admin/faults", json={"mode": "maintenance", "maintenance_status": status})
    reply = dn.get("/v2/users/me")
    text = reply.get_data(as_text=True)
    assert reply.status_code == status and reply.headers["Content-Type"] == "text/html"
    # pydnevnikruapi's scrape of the error text.
    scraped = text.split('<div class="error__description">')[-1].split("<p>")[1].strip()[:-4]
    assert " ".join(scraped.split()).endswith("ведутся технические работы. Попробуйте зайти позже.")


def test_maintenance_also_covers_the_login_host(dn: FlaskClient) -> None:
    dn.post("/__admin/faults", json={"mode": "maintenance"})
    assert dn.get("/login/").status_code == 503


def test_malformed_json_mode_breaks_the_body(dn: FlaskClient) -> None:
    dn.post("/__admin/faults", json={"mode": "malformed_json"})
    reply = dn.get("/v2/users/me")
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    with pytest.raises(ValueError):
        reply.get_json()


def test_429_mode_is_api_request_limit(dn: FlaskClient) -> None:
    dn.post("/__admin/faults", json={"mode": "429"})
    reply = dn.get("/v2/users/me")
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "30"
    assert reply.get_json()["type"] == "requestLimit"


def test_latency_sleeps_before_answering(dn: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    dn.post("/__admin/faults", json={"latency_ms": 250})
    assert dn.get("/v2/marks/values").status_code == 401
    assert slept == [0.25]


def test_an_error_rate_of_one_fails_every_request(dn: FlaskClient) -> None:
    dn.post("/__admin/faults", json={"error_rate": 1.0})
    assert dn.post("/v2.0/authorizations", json={}).status_code == 503


def test_expire_sessions_ends_tokens_and_the_login_cookie(dn: FlaskClient) -> None:
    token = partner_token(dn)
    mobile = mobile_login(dn, *LOGIN).get_json()["credentials"]["accessToken"]
    reply = dn.post("/__admin/faults", json={"expire_sessions": True})
    assert reply.get_json()["expired_sessions"] == 3  # two tokens and the browser session
    for value in (token, mobile):
        gone = dn.get("/v2/users/me", headers={"Access-Token": value})
        assert gone.status_code == 401 and gone.get_json()["type"] == "invalidToken"


@pytest.mark.parametrize("body", [{"mode": "teapot"}, {"latency_ms": -1}, {"unknown": 1}])
def test_bad_fault_settings_are_refused(dn: FlaskClient, body: dict[str, object]) -> None:
    assert dn.post("/__admin/faults", json=body).status_code == 400


def test_faults_can_come_from_config(world: World) -> None:
    client = create_app(world, {"FAULT_MODE": "5xx"}).test_client()
    assert client.get("/v2/users/me").status_code == 503
    assert client.get("/__admin/stats").status_code == 200


def test_admin_endpoints_can_be_switched_off(world: World) -> None:
    client = create_app(world, {"EMULATOR_ADMIN": False}).test_client()
    assert client.get("/__admin/stats").status_code == 404
    assert client.get("/__admin/dnevnik").status_code == 404


def test_stats_count_requests_per_method_and_path(dn: FlaskClient) -> None:
    token = partner_token(dn)
    dn.get("/v2/users/me", headers={"Access-Token": token})
    dn.get("/v2/users/me", headers={"Access-Token": token})
    stats = dn.get("/__admin/stats").get_json()
    assert stats == {
        "GET /oauth2": 2,
        "GET /login/": 1,
        "POST /login/": 1,
        "POST /v2.0/authorizations": 1,
        "GET /v2/users/me": 2,
    }
    dn.post("/__admin/stats/reset")
    assert dn.get("/__admin/stats").get_json() == {}
