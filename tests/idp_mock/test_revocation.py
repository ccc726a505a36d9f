"""/revoke (RFC 7009): client-authenticated, access alone or a refresh token with its grant."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.idp_mock.helpers import CLIENT_ID
from tests.idp_mock.helpers import CLIENT_SECRET
from tests.idp_mock.helpers import SCOPE
from tests.idp_mock.helpers import bearer
from tests.idp_mock.helpers import refresh
from tests.idp_mock.helpers import tokens_for

OFFLINE = SCOPE + " offline_access"


def revoke(client: FlaskClient, token: str, **extra: str) -> int:
    """Revoke a token as the demo client; return the status code."""
    data = {"token": token, **extra}
    return client.post("/revoke", data=data, auth=(CLIENT_ID, CLIENT_SECRET)).status_code


def test_revoked_access_token_is_refused_at_userinfo(irina: FlaskClient) -> None:
    tokens = tokens_for(irina)

    assert revoke(irina, tokens["access_token"]) == 200

    assert irina.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 401


def test_revoking_an_access_token_keeps_the_refresh_token(irina: FlaskClient) -> None:
    tokens = tokens_for(irina, scope=OFFLINE)

    revoke(irina, tokens["access_token"], token_type_hint="access_token")

    assert refresh(irina, tokens["refresh_token"]).status_code == 200


def test_revoking_a_refresh_token_ends_the_whole_grant(irina: FlaskClient) -> None:
    tokens = tokens_for(irina, scope=OFFLINE)

    assert revoke(irina, tokens["refresh_token"], token_type_hint="refresh_token") == 200

    assert refresh(irina, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert irina.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 401


def test_unknown_token_is_answered_200(irina: FlaskClient) -> None:
    assert revoke(irina, "never-issued") == 200


def test_revocation_requires_client_authentication(irina: FlaskClient) -> None:
    tokens = tokens_for(irina)

    response = irina.post("/revoke", data={"token": tokens["access_token"]})

    assert response.status_code == 401
    assert irina.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 200


def test_unsupported_token_type_hint_is_an_error(irina: FlaskClient) -> None:
    response = irina.post(
        "/revoke",
        data={"token": "x", "token_type_hint": "id_token"},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )

    assert response.get_json()["error"] == "unsupported_token_type"
