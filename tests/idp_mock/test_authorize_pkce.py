"""/authorize: mandatory S256 PKCE, exact redirect URIs, and iss on every response."""

from __future__ import annotations

from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from tests.idp_mock.helpers import ISSUER
from tests.idp_mock.helpers import REDIRECT_URI
from tests.idp_mock.helpers import authorize
from tests.idp_mock.helpers import authorize_query
from tests.idp_mock.helpers import get_code
from tests.idp_mock.helpers import pkce_pair
from tests.idp_mock.helpers import query_of


def test_signed_out_person_is_sent_to_login_and_back(idp: FlaskClient) -> None:
    _, challenge = pkce_pair()
    url = authorize_query(challenge)

    response = idp.get(url)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [url]


def test_success_redirect_carries_code_state_and_iss(irina: FlaskClient) -> None:
    code, _, query = get_code(irina, state="s-42")

    assert code
    assert query["state"] == "s-42"
    assert query["iss"] == ISSUER


def test_redirect_goes_to_the_registered_uri(irina: FlaskClient) -> None:
    _, challenge = pkce_pair()

    response = authorize(irina, authorize_query(challenge))

    assert response.headers["Location"].startswith(REDIRECT_URI + "?")


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge": None},
    ],
    ids=["no-pkce", "method-without-challenge"],
)
def test_missing_challenge_is_invalid_request_with_iss(
    irina: FlaskClient, overrides: dict[str, str | None]
) -> None:
    _, challenge = pkce_pair()

    query = query_of(irina.get(authorize_query(challenge, **overrides)))

    assert query["error"] == "invalid_request"
    assert query["iss"] == ISSUER
    assert query["state"] == "state-123"
    assert "code" not in query


@pytest.mark.parametrize("method", ["plain", None, "S512"])
def test_challenge_method_other_than_s256_is_rejected(
    irina: FlaskClient, method: str | None
) -> None:
    verifier, _ = pkce_pair()

    response = irina.get(authorize_query(verifier, code_challenge_method=method))
    query = query_of(response)

    assert query["error"] == "invalid_request"
    assert query["iss"] == ISSUER
    assert "code" not in query


def test_malformed_challenge_is_rejected(irina: FlaskClient) -> None:
    query = query_of(irina.get(authorize_query("short")))

    assert query["error"] == "invalid_request"
    assert query["iss"] == ISSUER


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://evil.test/auth/callback",
        REDIRECT_URI + "/",
        REDIRECT_URI + "?x=1",
        "http://localhost:8000/auth/callback",
    ],
)
def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(
    irina: FlaskClient, redirect_uri: str
) -> None:
    _, challenge = pkce_pair()

    response = irina.get(authorize_query(challenge, redirect_uri=redirect_uri))

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "Запрос не может быть выполнен" in response.get_data(as_text=True)


def test_missing_redirect_uri_gets_an_error_page(irina: FlaskClient) -> None:
    _, challenge = pkce_pair()

    response = irina.get(authorize_query(challenge, redirect_uri=None))

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_unknown_client_gets_an_error_page(idp: FlaskClient) -> None:
    _, challenge = pkce_pair()

    response = idp.get(authorize_query(challenge, client_id="stranger"))

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_unsupported_response_type_redirects_with_iss(irina: FlaskClient) -> None:
    _, challenge = pkce_pair()

    query = query_of(irina.get(authorize_query(challenge, response_type="token")))

    assert query["error"] == "unsupported_response_type"
    assert query["iss"] == ISSUER
    assert query["state"] == "state-123"


def test_unsupported_scope_redirects_with_iss(irina: FlaskClient) -> None:
    _, challenge = pkce_pair()

    query = query_of(irina.get(authorize_query(challenge, scope="openid address")))

    assert query["error"] == "invalid_scope"
    assert query["iss"] == ISSUER


def test_prompt_none_while_signed_out_is_login_required_with_iss(idp: FlaskClient) -> None:
    _, challenge = pkce_pair()

    query = query_of(idp.get(authorize_query(challenge, prompt="none")))

    assert query["error"] == "login_required"
    assert query["iss"] == ISSUER


def test_iss_appears_once(irina: FlaskClient) -> None:
    _, challenge = pkce_pair()

    location = irina.get(authorize_query(challenge, code_challenge=None)).headers["Location"]

    assert parse_qs(urlsplit(location).query)["iss"] == [ISSUER]
