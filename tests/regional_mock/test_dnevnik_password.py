"""The password flows public Dnevnik.ru clients use (note §1.5): web form, mobile, legacy."""

from __future__ import annotations

from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from regional_mock.world import World
from tests.regional_mock.dnevnik_helpers import LOGIN
from tests.regional_mock.dnevnik_helpers import MOBILE
from tests.regional_mock.dnevnik_helpers import PARTNER
from tests.regional_mock.dnevnik_helpers import PUBLIC
from tests.regional_mock.dnevnik_helpers import SCOPE
from tests.regional_mock.dnevnik_helpers import context
from tests.regional_mock.dnevnik_helpers import make_app
from tests.regional_mock.dnevnik_helpers import mobile_login
from tests.regional_mock.helpers import FakeClock


@pytest.fixture
def dn(world: World, clock: FakeClock) -> FlaskClient:
    """Return a client of the Dnevnik.ru emulator."""
    return make_app(world, clock).test_client()


def _return_url(client_id: str = PUBLIC) -> str:
    query = urlencode({"response_type": "token", "client_id": client_id, "scope": SCOPE})
    return f"https://login.dnevnik.ru/oauth2?{query}"


def test_the_web_form_posted_with_query_parameters_yields_a_token(dn: FlaskClient) -> None:
    # pydnevnikruapi 0.1.1 posts everything as query parameters to the real host's URL.
    query = {"ReturnUrl": _return_url(), "login": LOGIN[0], "password": LOGIN[1]}
    reply = dn.post("/login/?" + urlencode(query), follow_redirects=True)
    assert reply.status_code == 200
    final = reply.request.url if reply.request else ""
    assert final.startswith("http://localhost/oauth2/Authorization/Result")
    assert parse_qs(urlsplit(final).query)["result"] == ["success"]
    location = reply.history[-1].location
    token = urlsplit(location).fragment[13:-7]
    assert context(dn, token)["children"][0]["lastName"] == "Смирнова"


def test_the_web_form_with_a_wrong_password_stays_on_the_login_page(dn: FlaskClient) -> None:
    query = {"ReturnUrl": _return_url(), "login": LOGIN[0], "password": "nope"}
    reply = dn.post("/login/?" + urlencode(query))
    assert reply.status_code == 200 and 'class="message"' in reply.get_data(as_text=True)


def test_the_mobile_login_answers_the_envelope_with_credentials(dn: FlaskClient) -> None:
    body = mobile_login(dn, *LOGIN).get_json()
    assert body["type"] == "Success" and body["reason"] == "Authenticate"
    credentials = body["credentials"]
    assert set(credentials) == {"accessToken", "expiresDate", "refreshToken", "userId", "scope"}
    assert credentials["scope"] == "Schools,Relatives,EduGroups,Lessons,marks,EduWorks,Avatar"
    # The mobile token is accepted by /v2 (vladistos does exactly this).
    assert context(dn, credentials["accessToken"])["userId"] == credentials["userId"]


def test_the_mobile_login_reports_a_wrong_password_with_http_200(dn: FlaskClient) -> None:
    reply = mobile_login(dn, LOGIN[0], "nope")
    assert reply.status_code == 200
    assert reply.get_json()["type"] == "authorizationFailed"
    assert reply.get_json()["credentials"] is None


def test_the_mobile_login_refuses_an_unknown_client(dn: FlaskClient) -> None:
    reply = mobile_login(dn, *LOGIN, clientSecret="guess")
    assert reply.status_code == 200 and reply.get_json()["type"] == "invalidRequest"


def test_the_mobile_refresh_returns_a_new_pair(dn: FlaskClient) -> None:
    credentials = mobile_login(dn, *LOGIN).get_json()["credentials"]
    body = {
        "client_id": MOBILE[0],
        "client_secret": MOBILE[1],
        "grant_type": "RefreshToken",
        "refreshToken": credentials["refreshToken"],
    }
    reply = dn.post("/mobile/v8.5/authorizations/byrefreshtoken", json=body)
    fresh = reply.get_json()
    assert set(fresh) == {"accessToken", "refreshToken", "user", "scope", "expiresDate"}
    assert fresh["accessToken"] != credentials["accessToken"]
    again = dn.post("/mobile/v8.5/authorizations/byrefreshtoken", json=body)
    assert again.status_code == 401


def test_the_legacy_bycredentials_route_is_dead_by_default(dn: FlaskClient) -> None:
    body = {"client_id": PARTNER[0], "client_secret": PARTNER[1], "scope": SCOPE}
    reply = dn.post("/v2/authorizations/bycredentials", json=body | {"username": LOGIN[0]})
    assert reply.get_json() == {"type": "authorizationFailed", "description": "Can't authorize"}


def test_the_legacy_route_works_when_revived_and_locks_out(world: World, clock: FakeClock) -> None:
    dn = make_app(world, clock, DNEVNIK_LEGACY_BYCREDENTIALS=True).test_client()
    body = {"client_id": PARTNER[0], "client_secret": PARTNER[1], "scope": SCOPE}
    good = dn.post("/v2/authorizations/bycredentials", json=body | _creds(*LOGIN))
    assert good.status_code == 200 and len(good.get_json()["accessToken"]) == 32
    for _ in range(5):
        dn.post("/v2/authorizations/bycredentials", json=body | _creds(LOGIN[0], "x"))
    locked = dn.post("/v2/authorizations/bycredentials", json=body | _creds(*LOGIN))
    assert locked.get_json()["type"] == "maxAttempsExceeded"


def _creds(login: str, password: str) -> dict[str, str]:
    return {"username": login, "password": password}
