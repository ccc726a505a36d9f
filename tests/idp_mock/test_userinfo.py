"""/userinfo: the bearer token's person, with the claims its scope releases."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.idp_mock.helpers import tokens_for


def bearer(token: str) -> dict[str, str]:
    """Return an Authorization header for the token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_userinfo_returns_the_id_token_person(irina: FlaskClient, method: str) -> None:
    tokens = tokens_for(irina)
    key_set = KeySet.import_key_set(irina.get("/jwks").get_json())
    id_token = jwt.decode(tokens["id_token"], key_set, algorithms=["RS256"]).claims

    response = irina.open("/userinfo", method=method, headers=bearer(tokens["access_token"]))

    assert response.status_code == 200
    info = response.get_json()
    assert info["sub"] == id_token["sub"] == "1000000001"
    for claim in ("name", "birthdate", "email", "phone_number", "account_level", "urn:esia:sbj"):
        assert info[claim] == id_token[claim]


def test_userinfo_releases_only_the_granted_scopes(irina: FlaskClient) -> None:
    tokens = tokens_for(irina, scope="openid email")

    info = irina.get("/userinfo", headers=bearer(tokens["access_token"])).get_json()

    assert info["email"] == "irina.smirnova@example.test"
    assert info["email_verified"] is True
    for claim in ("name", "family_name", "birthdate", "phone_number"):
        assert claim not in info


def test_userinfo_without_token_is_401(idp: FlaskClient) -> None:
    response = idp.get("/userinfo")

    assert response.status_code == 401


def test_userinfo_with_unknown_token_is_invalid_token(idp: FlaskClient) -> None:
    response = idp.get("/userinfo", headers=bearer("not-a-token"))

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_userinfo_rejects_a_token_in_the_query(irina: FlaskClient) -> None:
    token = tokens_for(irina)["access_token"]

    response = irina.get(f"/userinfo?access_token={token}")

    assert response.status_code == 401


def test_userinfo_accepts_the_token_in_a_post_body(irina: FlaskClient) -> None:
    token = tokens_for(irina)["access_token"]

    response = irina.post("/userinfo", data={"access_token": token})

    assert response.status_code == 200
    assert response.get_json()["sub"] == "1000000001"


def test_userinfo_post_body_with_unknown_token_is_refused(irina: FlaskClient) -> None:
    response = irina.post("/userinfo", data={"access_token": "not-a-token"})

    assert response.status_code == 401
