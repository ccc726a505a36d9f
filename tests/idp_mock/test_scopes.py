"""ESIA-like scopes mapped to standard claims, plus snils and passport; offline_access listed."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.idp_mock.helpers import bearer
from tests.idp_mock.helpers import sign_in
from tests.idp_mock.helpers import tokens_for
from tests.idp_mock.helpers import verified_claims


def claims_for(client: FlaskClient, scope: str) -> dict[str, object]:
    """Return the ID token claims for a flow with the scope."""
    return verified_claims(client, tokens_for(client, scope=scope)["id_token"])


def test_fullname_releases_the_name_claims_only(irina: FlaskClient) -> None:
    claims = claims_for(irina, "openid fullname")

    assert claims["name"] == "Смирнова Ирина Сергеевна"
    assert claims["family_name"] == "Смирнова"
    assert claims["given_name"] == "Ирина"
    assert claims["middle_name"] == "Сергеевна"
    assert "birthdate" not in claims and "email" not in claims


def test_birthdate_releases_the_birthdate_only(irina: FlaskClient) -> None:
    claims = claims_for(irina, "openid birthdate")

    assert claims["birthdate"] == "1985-03-14"
    assert "name" not in claims


def test_mobile_releases_the_verified_phone(irina: FlaskClient) -> None:
    claims = claims_for(irina, "openid mobile")

    assert claims["phone_number"] == "+79000000001"
    assert claims["phone_number_verified"] is True


def test_snils_is_released_formatted(irina: FlaskClient) -> None:
    assert claims_for(irina, "openid snils")["snils"] == "112-233-445 95"


def test_id_doc_releases_the_passport(irina: FlaskClient) -> None:
    passport = claims_for(irina, "openid id_doc")["passport"]

    assert passport == {
        "type": "RF_PASSPORT",
        "series": "4509",
        "number": "123456",
        "issue_date": "2005-04-01",
        "issuer_code": "770-001",
    }


def test_simplified_account_has_no_snils_or_passport(idp: FlaskClient) -> None:
    sign_in(idp, "+79000000005", "simple-demo-5")

    claims = claims_for(idp, "openid snils id_doc birthdate")

    for claim in ("snils", "passport", "birthdate"):
        assert claim not in claims


def test_userinfo_releases_the_same_esia_claims(irina: FlaskClient) -> None:
    tokens = tokens_for(irina, scope="openid snils id_doc mobile")

    info = irina.get("/userinfo", headers=bearer(tokens["access_token"])).get_json()

    assert info["snils"] == "112-233-445 95"
    assert info["passport"]["number"] == "123456"
    assert info["phone_number"] == "+79000000001"


@pytest.mark.parametrize(
    ("scope", "text"),
    [("snils", "СНИЛС"), ("id_doc", "Данные паспорта"), ("offline_access", "долгосрочный доступ")],
)
def test_consent_page_describes_esia_scopes(irina: FlaskClient, scope: str, text: str) -> None:
    from tests.idp_mock.helpers import authorize_query
    from tests.idp_mock.helpers import pkce_pair

    _, challenge = pkce_pair()
    location = irina.get(authorize_query(challenge, scope="openid " + scope)).headers["Location"]

    assert text in irina.get(location).get_data(as_text=True)
