"""/consent: the client and scopes in Russian, allow or deny, remembered per scope set."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.idp_mock.helpers import ISSUER
from tests.idp_mock.helpers import REDIRECT_URI
from tests.idp_mock.helpers import authorize_query
from tests.idp_mock.helpers import consent_url
from tests.idp_mock.helpers import pkce_pair
from tests.idp_mock.helpers import query_of


def ask(client: FlaskClient, **overrides: str | None) -> str:
    """Start an authorization and return the consent page's URL."""
    _, challenge = pkce_pair()
    response = client.get(authorize_query(challenge, **overrides))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/consent?")
    return consent_url(response)


def test_consent_page_names_the_client_and_the_scopes(irina: FlaskClient) -> None:
    html = irina.get(ask(irina)).get_data(as_text=True)

    assert "Дневник: шлюз для родителей" in html
    assert "Фамилия, имя, отчество и дата рождения" in html
    assert "Адрес электронной почты" in html
    assert "Номер мобильного телефона" in html
    assert '<button type="submit" name="decision" value="allow">Разрешить</button>' in html
    assert '<button type="submit" name="decision" value="deny">Отказать</button>' in html


def test_consent_page_lists_only_the_requested_scopes(irina: FlaskClient) -> None:
    html = irina.get(ask(irina, scope="openid email")).get_data(as_text=True)

    assert "Адрес электронной почты" in html
    assert "Номер мобильного телефона" not in html


def test_deny_redirects_with_access_denied_and_iss(irina: FlaskClient) -> None:
    response = irina.post(ask(irina, state="deny-state"), data={"decision": "deny"})

    assert response.status_code == 303
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    query = query_of(response)
    assert query["error"] == "access_denied"
    assert query["iss"] == ISSUER
    assert query["state"] == "deny-state"
    assert "code" not in query


def test_allow_redirects_with_a_code_after_303(irina: FlaskClient) -> None:
    response = irina.post(ask(irina), data={"decision": "allow"})

    assert response.status_code == 303
    query = query_of(response)
    assert query["code"]
    assert query["iss"] == ISSUER


def test_consent_is_remembered_for_the_same_scope_set(irina: FlaskClient) -> None:
    irina.post(ask(irina, scope="openid profile"), data={"decision": "allow"})
    _, challenge = pkce_pair()

    again = irina.get(authorize_query(challenge, scope="profile openid"))

    assert again.status_code == 302
    assert again.headers["Location"].startswith(REDIRECT_URI + "?")
    assert query_of(again)["code"]


def test_a_different_scope_set_asks_again(irina: FlaskClient) -> None:
    irina.post(ask(irina, scope="openid profile"), data={"decision": "allow"})

    ask(irina, scope="openid profile email")


def test_denial_is_not_remembered(irina: FlaskClient) -> None:
    irina.post(ask(irina), data={"decision": "deny"})

    ask(irina)


def test_prompt_none_without_consent_is_consent_required(irina: FlaskClient) -> None:
    _, challenge = pkce_pair()

    query = query_of(irina.get(authorize_query(challenge, prompt="none")))

    assert query["error"] == "consent_required"
    assert query["iss"] == ISSUER


def test_consent_without_a_decision_shows_the_page_again(irina: FlaskClient) -> None:
    response = irina.post(ask(irina), data={})

    assert response.status_code == 200
    assert re.search(r'value="allow">Разрешить', response.get_data(as_text=True))


def test_consent_when_signed_out_goes_to_login(idp: FlaskClient) -> None:
    _, challenge = pkce_pair()
    url = "/consent?" + authorize_query(challenge).split("?", 1)[1]

    response = idp.get(url)

    assert response.headers["Location"].startswith("/login?next=")
