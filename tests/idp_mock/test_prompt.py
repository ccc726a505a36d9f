"""/authorize parameters: prompt, max_age, login_hint, ui_locales, and unknown ones."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.idp_mock.helpers import FakeClock
from tests.idp_mock.helpers import authorize
from tests.idp_mock.helpers import authorize_query
from tests.idp_mock.helpers import exchange
from tests.idp_mock.helpers import pkce_pair
from tests.idp_mock.helpers import query_of
from tests.idp_mock.helpers import sign_in
from tests.idp_mock.helpers import verified_claims


@pytest.fixture
def clock() -> FakeClock:
    """Return a clock the test moves."""
    return FakeClock()


@pytest.fixture
def browser(make_idp: t.Callable[..., Flask], clock: FakeClock) -> FlaskClient:
    """Return a client signed in as Ирина, who already consented to the default scopes."""
    client = make_idp(IDP_CLOCK=clock).test_client()
    sign_in(client, "+79000000001", "parent-demo-1")
    _, challenge = pkce_pair()
    assert "code" in query_of(authorize(client, authorize_query(challenge)))
    return client


def start(client: FlaskClient, **params: str | None) -> tuple[t.Any, str]:
    """Send an authorization request; return the response and its PKCE verifier."""
    verifier, challenge = pkce_pair()
    return client.get(authorize_query(challenge, **params)), verifier


def sent_to_login(response: t.Any) -> bool:
    """Tell whether /authorize answered with the sign-in page."""
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def test_prompt_login_asks_a_signed_in_person_to_sign_in_again(
    browser: FlaskClient, clock: FakeClock
) -> None:
    first_sign_in = int(clock())
    clock.advance(60)
    response, verifier = start(browser, prompt="login")
    assert sent_to_login(response)
    login_path = urlsplit(response.headers["Location"])

    back = browser.post(
        f"{login_path.path}?{login_path.query}",
        data={"login": "+79000000001", "password": "parent-demo-1"},
    )
    code = query_of(browser.get(back.headers["Location"]))["code"]

    claims = verified_claims(browser, exchange(browser, code, verifier).get_json()["id_token"])
    assert claims["auth_time"] == first_sign_in + 60


def test_prompt_none_while_signed_in_returns_a_code(browser: FlaskClient) -> None:
    response, _ = start(browser, prompt="none")

    assert "code" in query_of(response)


def test_prompt_consent_shows_consent_again(browser: FlaskClient) -> None:
    response, _ = start(browser, prompt="consent")

    assert response.headers["Location"].startswith("/consent?")


@pytest.mark.parametrize(("age", "fresh_enough"), [(10000, True), (1, False)])
def test_max_age_reauthenticates_an_older_sign_in(
    browser: FlaskClient, clock: FakeClock, age: int, fresh_enough: bool
) -> None:
    clock.advance(100)

    response, _ = start(browser, max_age=str(age))

    assert sent_to_login(response) is not fresh_enough


def test_max_age_with_prompt_none_is_login_required(browser: FlaskClient, clock: FakeClock) -> None:
    clock.advance(100)

    response, _ = start(browser, max_age="1", prompt="none")

    assert query_of(response)["error"] == "login_required"


def test_id_token_carries_auth_time_of_the_sign_in(browser: FlaskClient, clock: FakeClock) -> None:
    signed_in_at = int(clock())
    clock.advance(100)
    response, verifier = start(browser, max_age="10000")

    tokens = exchange(browser, query_of(response)["code"], verifier).get_json()

    assert verified_claims(browser, tokens["id_token"])["auth_time"] == signed_in_at


def test_login_hint_prefills_the_login_field(idp: FlaskClient) -> None:
    response, _ = start(idp, login_hint="+79000000002")

    page = idp.get(response.headers["Location"]).get_data(as_text=True)

    assert 'value="+79000000002"' in page


def test_ui_locales_en_shows_the_login_page_in_english(idp: FlaskClient) -> None:
    response, _ = start(idp, ui_locales="en-GB ru")

    page = idp.get(response.headers["Location"]).get_data(as_text=True)

    assert "<h1>Sign in</h1>" in page
    assert "Phone, e-mail or SNILS" in page


def test_language_switch_returns_to_russian(idp: FlaskClient) -> None:
    start(idp, ui_locales="en")

    page = idp.get("/login?lang=ru").get_data(as_text=True)

    assert "<h1>Вход</h1>" in page


def test_unsupported_ui_locale_keeps_russian(idp: FlaskClient) -> None:
    response, _ = start(idp, ui_locales="de fr")

    page = idp.get(response.headers["Location"]).get_data(as_text=True)

    assert "<h1>Вход</h1>" in page


def test_unknown_parameters_are_ignored(browser: FlaskClient) -> None:
    response, _ = start(browser, unknown_param="whatever", another="1")

    assert "code" in query_of(response)
