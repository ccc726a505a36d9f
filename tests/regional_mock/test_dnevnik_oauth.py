"""The Dnevnik.ru emulator's OAuth2: sign-in page, code and implicit grants, token endpoint."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from regional_mock.world import World
from tests.regional_mock.dnevnik_helpers import LOGIN
from tests.regional_mock.dnevnik_helpers import PARTNER
from tests.regional_mock.dnevnik_helpers import PUBLIC
from tests.regional_mock.dnevnik_helpers import REDIRECT
from tests.regional_mock.dnevnik_helpers import authorize_url
from tests.regional_mock.dnevnik_helpers import context
from tests.regional_mock.dnevnik_helpers import exchange
from tests.regional_mock.dnevnik_helpers import get_code
from tests.regional_mock.dnevnik_helpers import make_app
from tests.regional_mock.dnevnik_helpers import sign_in_page
from tests.regional_mock.helpers import FakeClock


@pytest.fixture
def dn(world: World, clock: FakeClock) -> FlaskClient:
    """Return a client of the Dnevnik.ru emulator."""
    return make_app(world, clock).test_client()


def test_the_code_flow_signs_in_on_the_page_and_exchanges_the_code(dn: FlaskClient) -> None:
    reply = exchange(dn, get_code(dn))
    body = reply.get_json()
    assert reply.status_code == 200
    assert set(body) == {
        "accessToken",
        "expiresIn",
        "expiresIn_str",
        "refreshToken",
        "scope",
        "user",
        "user_str",
    }
    assert len(body["accessToken"]) == 32 and body["expiresIn_str"] == str(body["expiresIn"])
    assert body["scope"] == "CommonInfo,ContactInfo,FriendsAndRelatives,EducationalInfo"
    assert str(body["user"]) == body["user_str"]
    assert context(dn, body["accessToken"])["userId"] == body["user"]


def test_the_sign_in_page_is_an_html_form(dn: FlaskClient) -> None:
    page = dn.get(dn.get(authorize_url()).location)
    text = page.get_data(as_text=True)
    assert page.mimetype == "text/html"
    assert 'name="login"' in text and 'name="password"' in text and "/oauth2?" in text


def test_a_wrong_password_shows_the_message_on_the_page(dn: FlaskClient) -> None:
    reply = sign_in_page(dn, authorize_url(), LOGIN[0], "Dnevnik-2025")
    assert reply.status_code == 200 and reply.mimetype == "text/html"
    assert '<div class="message">Неверный логин или пароль</div>' in reply.get_data(as_text=True)
    assert dn.get_cookie("DnevnikAuth_a") is None


def test_five_wrong_passwords_lock_the_login(dn: FlaskClient, clock: FakeClock) -> None:
    for _ in range(5):
        sign_in_page(dn, authorize_url(), LOGIN[0], "wrong")
    locked = sign_in_page(dn, authorize_url(), *LOGIN)
    assert "Превышено число попыток" in locked.get_data(as_text=True)
    clock.advance(301)
    assert sign_in_page(dn, authorize_url(), *LOGIN).status_code == 302


def test_an_unknown_client_gets_an_error_page_not_a_redirect(dn: FlaskClient) -> None:
    reply = dn.get(authorize_url(client_id="someone-else"))
    assert reply.status_code == 400 and reply.mimetype == "text/html"


def test_an_unregistered_redirect_uri_is_refused_on_the_page(dn: FlaskClient) -> None:
    reply = dn.get(authorize_url(redirect_uri="https://evil.example/cb"))
    assert reply.status_code == 400 and "redirect_uri" in reply.get_data(as_text=True)


def test_an_unknown_scope_is_sent_back_as_invalid_scope(dn: FlaskClient) -> None:
    reply = dn.get(authorize_url(scope="CommonInfo,Everything"))
    query = parse_qs(urlsplit(reply.location).query)
    assert reply.location.startswith(REDIRECT) and query["error"] == ["invalid_scope"]
    assert query["state"] == ["st-42"]


def test_scopes_match_without_regard_to_case(dn: FlaskClient) -> None:
    reply = sign_in_page(dn, authorize_url(scope="commoninfo,educationalinfo"), *LOGIN)
    code = parse_qs(urlsplit(dn.get(reply.location).location).query)["code"][0]
    assert exchange(dn, code).get_json()["scope"] == "CommonInfo,EducationalInfo"


def test_a_wrong_secret_is_invalid_client(dn: FlaskClient) -> None:
    reply = exchange(dn, get_code(dn), client_secret="guess")
    assert reply.status_code == 403
    assert reply.get_json() == {"type": "invalid_client", "description": "Invalid client"}


def test_a_wrong_redirect_uri_at_the_token_endpoint_is_invalid_grant(dn: FlaskClient) -> None:
    reply = exchange(dn, get_code(dn), redirect_uri="http://127.0.0.1:8000/other")
    assert reply.status_code == 400 and reply.get_json()["type"] == "invalid_grant"


def test_the_matching_redirect_uri_is_accepted(dn: FlaskClient) -> None:
    assert exchange(dn, get_code(dn), redirect_uri=REDIRECT).status_code == 200


def test_a_reused_code_fails_and_revokes_the_first_token(dn: FlaskClient) -> None:
    code = get_code(dn)
    token = exchange(dn, code).get_json()["accessToken"]
    again = exchange(dn, code)
    assert again.status_code == 400 and again.get_json()["type"] == "invalid_grant"
    assert dn.get("/v2/users/me", headers={"Access-Token": token}).status_code == 401


def test_a_code_expires_after_ten_minutes(dn: FlaskClient, clock: FakeClock) -> None:
    code = get_code(dn)
    clock.advance(601)
    assert exchange(dn, code).status_code == 400


def test_refresh_with_basic_client_auth_replaces_the_token(dn: FlaskClient) -> None:
    first = exchange(dn, get_code(dn)).get_json()
    basic = base64.b64encode(f"{PARTNER[0]}:{PARTNER[1]}".encode()).decode()
    body = {"grant_type": "RefreshToken", "RefreshToken": first["refreshToken"]}
    reply = dn.post("/v2.0/authorizations", json=body, headers={"Authorization": f"Basic {basic}"})
    second = reply.get_json()
    assert reply.status_code == 200 and second["accessToken"] != first["accessToken"]
    old = dn.get("/v2/users/me", headers={"Access-Token": first["accessToken"]})
    assert old.status_code == 401
    again = dn.post("/v2.0/authorizations", json=body, headers={"Authorization": f"Basic {basic}"})
    assert again.status_code == 401
    assert again.get_json() == {"error": "invalid_request", "error_description": ""}


def test_the_implicit_flow_without_redirect_uri_lands_on_the_result_page(dn: FlaskClient) -> None:
    url = authorize_url(response_type="token", client_id=PUBLIC, redirect_uri=None, state=None)
    final = dn.get(sign_in_page(dn, url, *LOGIN).location)
    parts = urlsplit(final.location)
    assert parts.path == "/oauth2/Authorization/Result"
    query = parse_qs(parts.query)
    assert query["result"] == ["success"] and query["is_granted"] == ["False"]
    token = parts.fragment[13:-7]  # pydnevnikruapi's slice of "access_token=…&state="
    assert len(token) == 32 and parts.fragment == f"access_token={token}&state="
    assert context(dn, token)["children"][0]["firstName"] == "Полина"


def test_the_implicit_flow_to_a_redirect_uri_puts_the_token_in_the_fragment(
    dn: FlaskClient,
) -> None:
    final = dn.get(sign_in_page(dn, authorize_url(response_type="token"), *LOGIN).location)
    fragment = parse_qs(urlsplit(final.location).fragment)
    assert final.location.startswith(REDIRECT + "#") and fragment["state"] == ["st-42"]


def test_a_public_client_cannot_ask_for_a_code(dn: FlaskClient) -> None:
    reply = dn.get(authorize_url(client_id=PUBLIC, redirect_uri=None))
    assert reply.status_code == 400


def test_a_signed_in_browser_is_not_asked_again_unless_prompt_login(dn: FlaskClient) -> None:
    get_code(dn)
    assert dn.get(authorize_url()).location.startswith(REDIRECT)
    again = dn.get(authorize_url(prompt="login"))
    assert again.location.startswith("/login/") and "prompt" not in again.location


def test_the_esia_interstitial_needs_a_second_request(world: World, clock: FakeClock) -> None:
    dn = make_app(world, clock, DNEVNIK_ESIA_OFFER=True).test_client()
    signed = sign_in_page(dn, authorize_url(), *LOGIN)
    assert signed.location.startswith("/esia/auth/message/OfferLinkingAccounts")
    page = dn.get(signed.location)
    assert page.status_code == 200 and 'id="continue"' in page.get_data(as_text=True)
    assert dn.get(authorize_url()).location.startswith(REDIRECT + "?code=")
