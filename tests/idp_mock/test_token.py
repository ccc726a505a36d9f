"""/token: code redemption with PKCE, single-use codes, client auth and the ID token's claims."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from idp_mock.clients import DEMO_CLIENT
from tests.idp_mock.helpers import CLIENT_ID
from tests.idp_mock.helpers import ISSUER
from tests.idp_mock.helpers import REDIRECT_URI
from tests.idp_mock.helpers import exchange
from tests.idp_mock.helpers import get_code
from tests.idp_mock.helpers import pkce_pair
from tests.idp_mock.helpers import sign_in
from tests.idp_mock.helpers import tokens_for


def id_claims(client: FlaskClient, id_token: str) -> dict[str, t.Any]:
    """Verify the ID token against the provider's JWKS and return its claims."""
    key_set = KeySet.import_key_set(client.get("/jwks").get_json())
    return dict(jwt.decode(id_token, key_set, algorithms=["RS256"]).claims)


def test_token_response_is_bearer_with_id_token(irina: FlaskClient) -> None:
    tokens = tokens_for(irina)

    assert tokens["token_type"].lower() == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == "openid profile email phone"
    assert tokens["access_token"]
    assert "refresh_token" not in tokens


def test_id_token_has_standard_claims(irina: FlaskClient) -> None:
    tokens = tokens_for(irina, nonce="n-0S6_WzA2Mj")

    claims = id_claims(irina, tokens["id_token"])

    assert claims["iss"] == ISSUER
    assert claims["aud"] == CLIENT_ID
    assert claims["sub"] == "1000000001"
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["amr"] == ["pwd"]
    assert isinstance(claims["auth_time"], int)
    assert claims["iat"] <= claims["auth_time"] + 5
    assert claims["exp"] - claims["iat"] == 3600


def test_id_token_carries_profile_email_and_phone(irina: FlaskClient) -> None:
    claims = id_claims(irina, tokens_for(irina)["id_token"])

    assert claims["family_name"] == "Смирнова"
    assert claims["given_name"] == "Ирина"
    assert claims["middle_name"] == "Сергеевна"
    assert claims["name"] == "Смирнова Ирина Сергеевна"
    assert claims["birthdate"] == "1985-03-14"
    assert claims["email"] == "irina.smirnova@example.test"
    assert claims["email_verified"] is True
    assert claims["phone_number"] == "+79000000001"
    assert claims["phone_number_verified"] is True


def test_confirmed_account_carries_esia_extras(irina: FlaskClient) -> None:
    claims = id_claims(irina, tokens_for(irina)["id_token"])

    assert claims["account_level"] == "confirmed"
    assert claims["urn:esia:sbj"] == {
        "urn:esia:sbj:typ": "P",
        "urn:esia:sbj:oid": 1000000001,
        "urn:esia:sbj:lvl": "PR",
        "urn:esia:sbj:is_tru": True,
    }


@pytest.mark.parametrize(
    ("login", "password", "level"),
    [
        ("a.kuznetsov@example.test", "parent-demo-2", "standard"),
        ("+79000000005", "simple-demo-5", "simplified"),
    ],
)
def test_unconfirmed_accounts_are_not_trusted(
    idp: FlaskClient, login: str, password: str, level: str
) -> None:
    sign_in(idp, login, password)

    claims = id_claims(idp, tokens_for(idp)["id_token"])

    assert claims["account_level"] == level
    assert claims["urn:esia:sbj"]["urn:esia:sbj:lvl"] == "P"
    assert "urn:esia:sbj:is_tru" not in claims["urn:esia:sbj"]


def test_openid_scope_alone_releases_no_personal_data(irina: FlaskClient) -> None:
    tokens = tokens_for(irina, scope="openid")

    claims = id_claims(irina, tokens["id_token"])

    assert tokens["scope"] == "openid"
    assert claims["sub"] == "1000000001"
    for claim in ("name", "email", "phone_number", "birthdate"):
        assert claim not in claims


def test_request_without_nonce_succeeds(irina: FlaskClient) -> None:
    claims = id_claims(irina, tokens_for(irina, nonce=None)["id_token"])

    assert "nonce" not in claims


def test_token_ttl_setting_sets_both_lifetimes(make_idp: t.Callable[..., Flask]) -> None:
    client = make_idp(IDP_TOKEN_TTL=600).test_client()
    sign_in(client, "+79000000001", "parent-demo-1")

    tokens = tokens_for(client)
    claims = id_claims(client, tokens["id_token"])

    assert tokens["expires_in"] == 600
    assert claims["exp"] - claims["iat"] == 600


def test_wrong_verifier_is_invalid_grant(irina: FlaskClient) -> None:
    code, _, _ = get_code(irina)
    other_verifier, _ = pkce_pair()

    response = exchange(irina, code, other_verifier)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_missing_verifier_is_rejected(irina: FlaskClient) -> None:
    code, _, _ = get_code(irina)

    response = exchange(irina, code, None)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_code_reuse_is_invalid_grant_and_revokes_issued_tokens(irina: FlaskClient) -> None:
    code, verifier, _ = get_code(irina)
    first = exchange(irina, code, verifier)
    access_token = first.get_json()["access_token"]
    bearer = {"Authorization": f"Bearer {access_token}"}
    assert irina.get("/userinfo", headers=bearer).status_code == 200

    again = exchange(irina, code, verifier)

    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"
    revoked = irina.get("/userinfo", headers=bearer)
    assert revoked.status_code == 401


def test_redirect_uri_must_match_the_authorization_request(irina: FlaskClient) -> None:
    code, verifier, _ = get_code(irina)

    response = exchange(irina, code, verifier, redirect_uri=REDIRECT_URI + "x")

    assert response.get_json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_invalid_client(irina: FlaskClient) -> None:
    code, verifier, _ = get_code(irina)

    response = irina.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, "wrong-secret"),
    )

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_basic_client_may_not_authenticate_with_post(irina: FlaskClient) -> None:
    code, verifier, _ = get_code(irina)

    response = irina.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": CLIENT_ID,
            "client_secret": "demo-gateway-secret",
        },
    )

    assert response.status_code == 401


def test_client_registered_for_secret_post_gets_tokens(make_idp: t.Callable[..., Flask]) -> None:
    client = make_idp(
        IDP_CLIENTS=[
            {
                "client_id": "post-client",
                "client_secret": "post-secret",
                "redirect_uris": [REDIRECT_URI],
                "scope": "openid",
                "token_endpoint_auth_method": "client_secret_post",
            }
        ]
    ).test_client()
    sign_in(client, "+79000000001", "parent-demo-1")
    code, verifier, _ = get_code(client, client_id="post-client", scope="openid")

    response = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": "post-client",
            "client_secret": "post-secret",
        },
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert id_claims(client, response.get_json()["id_token"])["aud"] == "post-client"


def test_code_of_another_client_is_invalid_grant(make_idp: t.Callable[..., Flask]) -> None:
    second = {
        "client_id": "other",
        "client_secret": "other-secret",
        "redirect_uris": [REDIRECT_URI],
        "scope": "openid",
    }
    client = make_idp(IDP_CLIENTS=[DEMO_CLIENT, second]).test_client()
    sign_in(client, "+79000000001", "parent-demo-1")
    code, verifier, _ = get_code(client)

    response = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=("other", "other-secret"),
    )

    assert response.get_json()["error"] == "invalid_grant"


def test_password_grant_is_not_offered(irina: FlaskClient) -> None:
    response = irina.post(
        "/token",
        data={"grant_type": "password", "username": "+79000000001", "password": "parent-demo-1"},
        auth=(CLIENT_ID, "demo-gateway-secret"),
    )

    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_grant_type"
