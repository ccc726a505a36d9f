"""MESH sign-in: headless password, SMS second factor, device trust, tokens and their expiry."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from regional_mock.mesh import create_app
from regional_mock.world import World
from tests.regional_mock import mesh_helpers as mh
from tests.regional_mock.helpers import FakeClock


@pytest.fixture
def app(world: World, clock: FakeClock) -> Flask:
    """Return the MESH emulator with a fake clock and a second, childless parent."""
    return create_app(world, {"MESH_CLOCK": clock, "MESH_EXTRA_ACCOUNTS": mh.EXTRA})


def test_demo_login_asks_for_sms_then_issues_the_token_cookies(client: FlaskClient) -> None:
    first = mh.password(client, *mh.IRINA)
    assert first.status_code == 200
    assert [i["inquire"] for i in first.get_json()["items"]][0] == "ask_to_send_sms"
    sent = client.post("/sps/login/methods/headless/sms/bind").get_json()
    assert sent == {
        "inquire": "enter_sms_code",
        "contact": "+7 900 ***-**-01",
        "ttl": 300,
        "remain_attempts": 3,
    }
    checked = client.post("/sps/login/methods/headless/sms/bind", data={"sms-code": "424242"})
    assert checked.status_code == 303
    assert checked.headers["Location"] == "/sps/login/ur/askToTrust"
    assert "<title>Доверять этому браузеру?</title>" in checked.get_data(as_text=True)
    trusted = client.post("/sps/login/ur/askToTrust", data={"action": "trust"})
    assert f"state={mh.AUTHORIZE['state']}" in trusted.headers["Location"]
    token = mh.token_of(client, trusted)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert payload["exp"] - payload["iat"] == 24 * 3600
    assert client.get_cookie("aupd_refresh_token") is not None
    assert client.get("/api/family/web/v1/profile", headers=mh.api(token)).status_code == 200


def test_the_outbox_shows_the_code_as_html_and_json(client: FlaskClient) -> None:
    mh.sign_in(client)
    page = client.get("/__admin/outbox")
    assert page.mimetype == "text/html" and "424242" in page.get_data(as_text=True)
    messages = client.get("/__admin/outbox?format=json").get_json()["messages"]
    assert messages[0]["phone"] == "+79000000001" and messages[0]["code"] == "424242"


def test_a_trusted_device_cookie_skips_the_sms_next_time(app: Flask, client: FlaskClient) -> None:
    mh.sign_in(client)
    device = client.get_cookie("mos_trusted_device")
    assert device is not None
    fresh = app.test_client()
    fresh.set_cookie("mos_trusted_device", device.value)
    reply = mh.password(fresh, *mh.IRINA)
    assert mh.token_of(fresh, reply)
    assert len(client.get("/__admin/outbox?format=json").get_json()["messages"]) == 1


def test_do_not_trust_leaves_no_device_cookie(client: FlaskClient) -> None:
    mh.password(client, *mh.IRINA)
    mh.token_of(client, mh.sms_step(client, action="do_not_trust"))
    assert client.get_cookie("mos_trusted_device") is None


def test_the_device_of_another_login_is_not_trusted(app: Flask, client: FlaskClient) -> None:
    mh.sign_in(client, *mh.OTHER)
    fresh = app.test_client()
    fresh.set_cookie("mos_trusted_device", client.get_cookie("mos_trusted_device").value)
    assert mh.password(fresh, *mh.IRINA).get_json()["inquire"] == "choose_one"


def test_wrong_password_is_invalid_credentials_then_locks(client: FlaskClient) -> None:
    for _ in range(4):
        reply = mh.password(client, mh.IRINA[0], "wrong")
        assert reply.status_code == 400
        assert reply.get_json() == {"errors": [{"code": "invalid_credentials"}]}
    assert mh.password(client, mh.IRINA[0], "wrong").get_json()["errors"][0]["code"] == (
        "pswd_method_temp_locked"
    )
    locked = mh.password(client, *mh.IRINA)
    assert locked.get_json()["errors"][0]["code"] == "pswd_method_temp_locked"


def test_an_unknown_login_is_no_subject_found(client: FlaskClient) -> None:
    reply = mh.password(client, "nobody", "x")
    assert reply.get_json() == {"errors": [{"code": "no_subject_found"}]}


def test_a_missing_proof_of_work_is_refused(client: FlaskClient) -> None:
    mh.start(client)
    body = {"login": mh.IRINA[0], "password": mh.IRINA[1], "proofOfWork": "1:15:x"}
    reply = client.post("/sps/login/methods/headless/password", json=body)
    assert reply.get_json()["errors"][0]["code"] == "invalid_proof_of_work"


def test_wrong_codes_are_invalid_otp_until_no_attempts(client: FlaskClient) -> None:
    mh.password(client, *mh.IRINA)
    client.post("/sps/login/methods/headless/sms/bind")
    bind = "/sps/login/methods/headless/sms/bind"
    first = client.post(bind, data={"sms-code": "111111"})
    assert first.status_code == 400
    assert first.get_json() == {"errors": [{"code": "invalid_otp"}], "remain_attempts": 2}
    client.post(bind, data={"sms-code": "111111"})
    last = client.post(bind, data={"sms-code": "111111"}).get_json()
    assert last["errors"][0]["code"] == "no_attempts"
    assert client.post(bind, data={"sms-code": "424242"}).get_json()["errors"][0]["code"] == (
        "expired"
    )


def test_an_sms_code_expires_after_its_ttl(client: FlaskClient, clock: FakeClock) -> None:
    mh.password(client, *mh.IRINA)
    client.post("/sps/login/methods/headless/sms/bind")
    clock.advance(301)
    reply = client.post("/sps/login/methods/headless/sms/bind", data={"sms-code": "424242"})
    assert reply.get_json()["errors"][0]["code"] == "expired"


def test_trust_true_gives_404_and_kills_the_login(client: FlaskClient) -> None:
    mh.password(client, *mh.IRINA)
    client.post("/sps/login/methods/headless/sms/bind")
    client.post("/sps/login/methods/headless/sms/bind", data={"sms-code": "424242"})
    assert client.post("/sps/login/ur/askToTrust", data={"trust": "true"}).status_code == 404
    assert client.post("/sps/login/ur/askToTrust", data={"action": "trust"}).status_code == 404


def test_the_token_expires_after_a_day(client: FlaskClient, clock: FakeClock) -> None:
    token = mh.sign_in(client)
    clock.advance(24 * 3600 + 1)
    reply = client.get("/api/family/web/v1/profile", headers=mh.api(token))
    assert reply.status_code == 401
    assert reply.get_json() == {
        "type": "UNAUTHORIZED",
        "description": "Предыдущая сессия работы в ЭЖД завершена. Войдите в ЭЖД заново",
        "details": None,
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nonsense"}, {"Auth-Token": "nonsense"}],
)
def test_a_missing_or_invalid_token_is_401(app: Flask, headers: dict[str, str]) -> None:
    reply = app.test_client().get(
        "/api/family/web/v1/profile", headers={"X-Mes-Subsystem": "familyweb", **headers}
    )
    assert reply.status_code == 401


@pytest.mark.parametrize("carrier", ["bearer", "auth-token", "cookie", "bare"])
def test_every_token_carrier_of_the_note_works(app: Flask, carrier: str) -> None:
    token = mh.sign_in(app.test_client())
    client = app.test_client()
    headers = {"X-Mes-Subsystem": "familymp"}
    if carrier == "cookie":
        client.set_cookie("aupd_token", token)
    else:
        name = "Auth-Token" if carrier == "auth-token" else "Authorization"
        headers[name] = f"Bearer {token}" if carrier == "bearer" else token
    assert client.get("/api/family/mobile/v1/profile", headers=headers).status_code == 200


def test_the_subsystem_header_is_required_and_profile_id_must_be_the_caller(
    client: FlaskClient,
) -> None:
    token = mh.sign_in(client)
    bare = client.get("/api/family/web/v1/profile", headers={"Authorization": f"Bearer {token}"})
    assert bare.status_code == 400 and bare.get_json()["type"] == "BAD_REQUEST"
    wrong = client.get("/api/family/web/v1/profile", headers=mh.api(token, **{"Profile-Id": "1"}))
    assert wrong.status_code == 403


def test_v3_refresh_rotates_the_pair_once(client: FlaskClient) -> None:
    old = mh.sign_in(client)
    refresh = client.get_cookie("aupd_refresh_token").value
    rotated = client.post("/v3/token/refresh", headers={"Origin": "https://school.mos.ru"})
    assert rotated.status_code == 200 and rotated.get_json()["access_token"] != old
    client.set_cookie("aupd_refresh_token", refresh)
    assert client.post("/v3/token/refresh").status_code == 401


def test_v2_refresh_echoes_the_token_and_needs_a_role(client: FlaskClient) -> None:
    token = mh.sign_in(client)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/v2/token/refresh", headers=auth).status_code == 499
    reply = client.get("/v2/token/refresh?roleId=2&subsystem=2", headers=auth)
    assert reply.status_code == 201 and reply.get_data(as_text=True) == token


def test_the_sso_session_signs_in_again_silently(client: FlaskClient) -> None:
    mh.sign_in(client)
    query = {k: v for k, v in mh.AUTHORIZE.items() if k != "display"}
    assert mh.code_from(client.get("/sps/oauth/ae", query_string=query))


def test_logout_ends_the_token(client: FlaskClient) -> None:
    token = mh.sign_in(client)
    assert client.get("/v3/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code
    assert client.get("/api/family/web/v1/profile", headers=mh.api(token)).status_code == 401


def test_the_mobile_route_registers_exchanges_and_gets_a_mesh_token(app: Flask) -> None:
    client = app.test_client()
    registered = client.post(
        "/sps/oauth/register",
        headers={"Authorization": "Bearer registration"},
        json={"software_id": "dnevnik.mos.ru", "device_type": "android_phone"},
    ).get_json()
    verifier = "v" * 80
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {**mh.AUTHORIZE, "client_id": registered["client_id"]}
    query |= {"redirect_uri": "dnevnik-mes://oauth2redirect", "prompt": "login"}
    query |= {"code_challenge": challenge.decode().rstrip("="), "code_challenge_method": "S256"}
    header = client.get("/sps/oauth/ae", query_string=query).get_json()["items"][0]["proofOfWork"]
    body = {"login": mh.IRINA[0], "password": mh.IRINA[1], "proofOfWork": mh.solve(header)}
    client.post("/sps/login/methods/headless/password", json=body)
    location = mh.sms_step(client).headers["Location"]
    assert location.startswith("dnevnik-mes://oauth2redirect?code=")
    basic = base64.b64encode(f"{registered['client_id']}:{registered['client_secret']}".encode())
    form = {"grant_type": "authorization_code", "code": location.split("code=")[1].split("&")[0]}
    form |= {"redirect_uri": "dnevnik-mes://oauth2redirect", "code_verifier": verifier}
    mos = client.post(
        "/sps/oauth/te", data=form, headers={"Authorization": f"Basic {basic.decode()}"}
    )
    assert mos.status_code == 200, mos.get_json()
    request = {
        "user_authentication_for_mobile_request": {"mos_access_token": mos.json["access_token"]}
    }
    mesh = client.post("/v3/auth/sudir/auth", json=request).get_json()
    token = mesh["user_authentication_for_mobile_response"]["mesh_access_token"]
    info = client.get("/acl/api/users/profile_info", headers={"Auth-Token": token})
    assert info.get_json()[0]["type"] == "parent"
