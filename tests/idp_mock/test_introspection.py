"""/introspect (RFC 7662): active tokens described to their own client, others inactive."""

from __future__ import annotations

import typing as t

from flask import Flask
from flask.testing import FlaskClient

from idp_mock.clients import DEMO_CLIENT
from tests.idp_mock.helpers import CLIENT_ID
from tests.idp_mock.helpers import CLIENT_SECRET
from tests.idp_mock.helpers import ISSUER
from tests.idp_mock.helpers import SCOPE
from tests.idp_mock.helpers import FakeClock
from tests.idp_mock.helpers import refresh
from tests.idp_mock.helpers import sign_in
from tests.idp_mock.helpers import tokens_for


def introspect(client: FlaskClient, token: str, auth: tuple[str, str] | None = None) -> t.Any:
    """Introspect a token; return the response."""
    return client.post(
        "/introspect", data={"token": token}, auth=auth or (CLIENT_ID, CLIENT_SECRET)
    )


def test_active_access_token_is_described(irina: FlaskClient) -> None:
    tokens = tokens_for(irina)

    info = introspect(irina, tokens["access_token"]).get_json()

    assert info["active"] is True
    assert info["client_id"] == CLIENT_ID
    assert info["sub"] == "1000000001"
    assert info["scope"] == SCOPE
    assert info["iss"] == ISSUER
    assert info["token_type"] == "Bearer"
    assert info["exp"] - info["iat"] == 3600


def test_refresh_token_is_described_until_it_is_rotated(irina: FlaskClient) -> None:
    tokens = tokens_for(irina, scope=SCOPE + " offline_access")
    assert introspect(irina, tokens["refresh_token"]).get_json()["token_type"] == "refresh_token"

    refresh(irina, tokens["refresh_token"])

    assert introspect(irina, tokens["refresh_token"]).get_json() == {"active": False}


def test_revoked_and_unknown_tokens_are_inactive(irina: FlaskClient) -> None:
    tokens = tokens_for(irina)
    irina.post("/revoke", data={"token": tokens["access_token"]}, auth=(CLIENT_ID, CLIENT_SECRET))

    assert introspect(irina, tokens["access_token"]).get_json() == {"active": False}
    assert introspect(irina, "never-issued").get_json() == {"active": False}


def test_expired_access_token_is_inactive(make_idp: t.Callable[..., Flask]) -> None:
    clock = FakeClock()
    client = make_idp(IDP_CLOCK=clock).test_client()
    sign_in(client, "+79000000001", "parent-demo-1")
    tokens = tokens_for(client)
    clock.advance(3601)

    assert introspect(client, tokens["access_token"]).get_json() == {"active": False}


def test_another_client_sees_the_token_as_inactive(make_idp: t.Callable[..., Flask]) -> None:
    other = {"client_id": "other", "client_secret": "s", "redirect_uris": ["http://x.test/cb"]}
    client = make_idp(IDP_CLIENTS=[DEMO_CLIENT, other]).test_client()
    sign_in(client, "+79000000001", "parent-demo-1")
    tokens = tokens_for(client)

    assert introspect(client, tokens["access_token"], ("other", "s")).get_json() == {
        "active": False
    }


def test_introspection_requires_client_authentication(irina: FlaskClient) -> None:
    tokens = tokens_for(irina)

    response = irina.post("/introspect", data={"token": tokens["access_token"]})

    assert response.status_code == 401
