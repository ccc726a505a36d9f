"""/__dev/faults: each mode spoils the next token or response in exactly its way, once."""

from __future__ import annotations

import time
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from tests.idp_mock.helpers import CLIENT_ID
from tests.idp_mock.helpers import ISSUER
from tests.idp_mock.helpers import SCOPE
from tests.idp_mock.helpers import bearer
from tests.idp_mock.helpers import get_code
from tests.idp_mock.helpers import refresh
from tests.idp_mock.helpers import tokens_for
from tests.idp_mock.helpers import unverified_claims
from tests.idp_mock.helpers import unverified_header
from tests.idp_mock.helpers import verified_claims


def arm(client: FlaskClient, mode: str) -> None:
    """Arm a fault for the next token or response."""
    response = client.post("/__dev/faults", json={"next_token": mode})
    assert response.status_code == 200, response.get_data(as_text=True)


def spoiled_id_token(client: FlaskClient, mode: str, **overrides: str) -> str:
    """Arm the mode and return the next ID token."""
    arm(client, mode)
    return t.cast(str, tokens_for(client, **overrides)["id_token"])


def published(client: FlaskClient) -> KeySet:
    """Return the published JWKS."""
    return KeySet.import_key_set(client.get("/jwks").get_json())


def test_bad_signature_fails_verification(irina: FlaskClient) -> None:
    token = spoiled_id_token(irina, "bad_signature")

    with pytest.raises(BadSignatureError):
        jwt.decode(token, published(irina), algorithms=["RS256"])
    assert unverified_claims(token)["iss"] == ISSUER


@pytest.mark.parametrize(
    ("mode", "claim", "value"),
    [("wrong_iss", "iss", "http://wrong-issuer.test"), ("wrong_aud", "aud", "someone-else")],
)
def test_validly_signed_token_with_a_wrong_claim(
    irina: FlaskClient, mode: str, claim: str, value: str
) -> None:
    claims = verified_claims(irina, spoiled_id_token(irina, mode))

    assert claims[claim] == value


def test_expired_token_is_past_its_exp(irina: FlaskClient) -> None:
    claims = verified_claims(irina, spoiled_id_token(irina, "expired"))

    assert claims["exp"] < time.time() - 300
    assert claims["iat"] < claims["exp"]


def test_wrong_nonce_differs_from_the_request(irina: FlaskClient) -> None:
    claims = verified_claims(irina, spoiled_id_token(irina, "wrong_nonce", nonce="sent-nonce"))

    assert claims["nonce"] not in (None, "sent-nonce")


def test_unknown_kid_names_a_key_not_in_jwks(irina: FlaskClient) -> None:
    token = spoiled_id_token(irina, "unknown_kid")

    kid = unverified_header(token)["kid"]
    assert kid and kid not in [key.kid for key in published(irina).keys]


def test_alg_none_is_unsigned(irina: FlaskClient) -> None:
    token = spoiled_id_token(irina, "alg_none")

    assert unverified_header(token)["alg"] == "none"
    assert token.endswith(".")
    assert unverified_claims(token)["sub"] == "1000000001"


@pytest.mark.parametrize(
    ("mode", "claim"), [("missing_sub", "sub"), ("missing_iat", "iat"), ("missing_aud", "aud")]
)
def test_missing_claim_is_absent(irina: FlaskClient, mode: str, claim: str) -> None:
    claims = verified_claims(irina, spoiled_id_token(irina, mode))

    assert claim not in claims


def test_wrong_azp_names_another_party(irina: FlaskClient) -> None:
    claims = verified_claims(irina, spoiled_id_token(irina, "wrong_azp"))

    assert claims["aud"] == CLIENT_ID
    assert claims["azp"] == "someone-else"


def test_no_kid_while_jwks_holds_several_keys(irina: FlaskClient) -> None:
    token = spoiled_id_token(irina, "no_kid_multiple_keys")

    assert "kid" not in unverified_header(token)
    keys = published(irina).keys
    assert len(keys) >= 2
    real = KeySet([keys[0]])
    assert jwt.decode(token, real, algorithms=["RS256"]).claims["sub"] == "1000000001"


def test_userinfo_answers_another_sub_once(irina: FlaskClient) -> None:
    tokens = tokens_for(irina)
    arm(irina, "userinfo_wrong_sub")

    first = irina.get("/userinfo", headers=bearer(tokens["access_token"])).get_json()
    second = irina.get("/userinfo", headers=bearer(tokens["access_token"])).get_json()

    assert first["sub"] != "1000000001"
    assert second["sub"] == "1000000001"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("missing_iss_param", None), ("wrong_iss_param", "http://wrong-issuer.test")],
)
def test_authorization_response_iss_is_spoiled(
    irina: FlaskClient, mode: str, expected: str | None
) -> None:
    arm(irina, mode)

    _, _, query = get_code(irina)

    assert query.get("iss") == expected
    assert query["code"]


@pytest.mark.parametrize(
    ("mode", "claim", "value"),
    [
        ("refresh_changes_sub", "sub", "9999999999"),
        ("refresh_changes_iss", "iss", "http://wrong-issuer.test"),
    ],
)
def test_refresh_changes_a_claim_only_on_refresh(
    irina: FlaskClient, mode: str, claim: str, value: str
) -> None:
    arm(irina, mode)
    tokens = tokens_for(irina, scope=SCOPE + " offline_access")
    original = verified_claims(irina, tokens["id_token"])

    refreshed = verified_claims(
        irina, refresh(irina, tokens["refresh_token"]).get_json()["id_token"]
    )

    assert original[claim] != value
    assert refreshed[claim] == value


def test_a_fault_applies_once(irina: FlaskClient) -> None:
    spoiled_id_token(irina, "wrong_aud")

    assert verified_claims(irina, tokens_for(irina)["id_token"])["aud"] == CLIENT_ID


def test_get_shows_and_delete_clears_the_armed_fault(irina: FlaskClient) -> None:
    arm(irina, "missing_sub")
    assert irina.get("/__dev/faults").get_json()["next_token"] == "missing_sub"

    irina.delete("/__dev/faults")

    assert irina.get("/__dev/faults").get_json()["next_token"] is None
    assert "sub" in verified_claims(irina, tokens_for(irina)["id_token"])


def test_unknown_mode_is_refused(irina: FlaskClient) -> None:
    response = irina.post("/__dev/faults", json={"next_token": "everything"})

    assert response.status_code == 400
    assert "bad_signature" in response.get_json()["modes"]


def test_faults_can_be_turned_off(make_idp: t.Callable[..., Flask]) -> None:
    client = make_idp(IDP_DEV_FAULTS=False).test_client()

    assert client.post("/__dev/faults", json={"next_token": "wrong_aud"}).status_code == 404
    assert client.get("/__dev/faults").status_code == 404
