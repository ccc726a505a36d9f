"""Refresh tokens: only with offline_access, rotated on use, reuse revokes the family."""

from __future__ import annotations

import typing as t

from flask import Flask
from flask.testing import FlaskClient

from tests.idp_mock.helpers import SCOPE
from tests.idp_mock.helpers import FakeClock
from tests.idp_mock.helpers import bearer
from tests.idp_mock.helpers import refresh
from tests.idp_mock.helpers import sign_in
from tests.idp_mock.helpers import tokens_for
from tests.idp_mock.helpers import verified_claims

OFFLINE = SCOPE + " offline_access"


def test_offline_access_adds_a_refresh_token(irina: FlaskClient) -> None:
    tokens = tokens_for(irina, scope=OFFLINE)

    assert tokens["refresh_token"]
    assert "offline_access" in tokens["scope"].split()


def test_refresh_issues_new_tokens_and_a_new_refresh_token(irina: FlaskClient) -> None:
    first = tokens_for(irina, scope=OFFLINE)

    response = refresh(irina, first["refresh_token"])

    assert response.status_code == 200, response.get_data(as_text=True)
    second = response.get_json()
    assert second["refresh_token"] not in (None, first["refresh_token"])
    assert second["access_token"] != first["access_token"]
    assert irina.get("/userinfo", headers=bearer(second["access_token"])).status_code == 200


def test_refreshed_id_token_keeps_iss_sub_aud_auth_time_and_sid(irina: FlaskClient) -> None:
    first = tokens_for(irina, scope=OFFLINE, nonce="original-nonce")
    before = verified_claims(irina, first["id_token"])

    after = verified_claims(irina, refresh(irina, first["refresh_token"]).get_json()["id_token"])

    for claim in ("iss", "sub", "aud", "auth_time", "sid"):
        assert after[claim] == before[claim]
    assert "nonce" not in after
    assert after["family_name"] == "Смирнова"


def test_rotated_refresh_token_stops_working(irina: FlaskClient) -> None:
    first = tokens_for(irina, scope=OFFLINE)
    assert refresh(irina, first["refresh_token"]).status_code == 200

    again = refresh(irina, first["refresh_token"])

    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"


def test_reusing_a_rotated_refresh_token_revokes_the_family(irina: FlaskClient) -> None:
    first = tokens_for(irina, scope=OFFLINE)
    second = refresh(irina, first["refresh_token"]).get_json()

    refresh(irina, first["refresh_token"])

    assert refresh(irina, second["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert irina.get("/userinfo", headers=bearer(second["access_token"])).status_code == 401
    assert irina.get("/userinfo", headers=bearer(first["access_token"])).status_code == 401


def test_refresh_token_expires(make_idp: t.Callable[..., Flask]) -> None:
    clock = FakeClock()
    client = make_idp(IDP_CLOCK=clock, IDP_REFRESH_TTL=600).test_client()
    sign_in(client, "+79000000001", "parent-demo-1")
    tokens = tokens_for(client, scope=OFFLINE)
    clock.advance(601)

    response = refresh(client, tokens["refresh_token"])

    assert response.get_json()["error"] == "invalid_grant"


def test_refresh_may_narrow_but_not_widen_the_scope(irina: FlaskClient) -> None:
    tokens = tokens_for(irina, scope="openid email offline_access")

    wider = refresh(irina, tokens["refresh_token"], scope="openid email phone")
    narrower = refresh(irina, tokens["refresh_token"], scope="openid offline_access")

    assert wider.get_json()["error"] == "invalid_scope"
    assert narrower.status_code == 200
    assert narrower.get_json()["scope"] == "openid offline_access"


def test_another_client_cannot_use_the_refresh_token(make_idp: t.Callable[..., Flask]) -> None:
    from idp_mock.clients import DEMO_CLIENT

    other = {"client_id": "other", "client_secret": "s", "redirect_uris": ["http://x.test/cb"]}
    client = make_idp(IDP_CLIENTS=[DEMO_CLIENT, other]).test_client()
    sign_in(client, "+79000000001", "parent-demo-1")
    tokens = tokens_for(client, scope=OFFLINE)

    response = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("other", "s"),
    )

    assert response.get_json()["error"] == "invalid_grant"
    assert refresh(client, tokens["refresh_token"]).status_code == 200


def test_refresh_needs_client_authentication(irina: FlaskClient) -> None:
    tokens = tokens_for(irina, scope=OFFLINE)

    response = irina.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )

    assert response.status_code == 401
