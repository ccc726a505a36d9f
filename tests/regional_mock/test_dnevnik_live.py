"""The Dnevnik.ru emulator over real HTTP, driven with ``requests`` as a connector would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests

from regional_mock import __main__ as cli
from regional_mock.dnevnik_ru import create_app
from regional_mock.world import World
from tests.regional_mock.conftest import TODAY
from tests.regional_mock.dnevnik_helpers import LOGIN
from tests.regional_mock.dnevnik_helpers import PARTNER
from tests.regional_mock.dnevnik_helpers import PUBLIC
from tests.regional_mock.dnevnik_helpers import REDIRECT
from tests.regional_mock.dnevnik_helpers import SCOPE
from tests.support.live import serving

TIMEOUT = (3, 10)


@pytest.fixture
def base_url(world: World) -> Iterator[str]:
    """Serve a fresh emulator on a free loopback port."""
    with serving(create_app(world)) as url:
        yield url


def _code(base: str, browser: requests.Session) -> str:
    params = {
        "response_type": "code",
        "client_id": PARTNER[0],
        "scope": SCOPE,
        "redirect_uri": REDIRECT,
        "state": "s1",
    }
    form = browser.get(f"{base}/oauth2", params=params, timeout=TIMEOUT)
    assert form.status_code == 200 and form.url.startswith(f"{base}/login/")
    match = re.search(r'name="ReturnUrl" value="([^"]*)"', form.text)
    assert match is not None
    data = {
        "login": LOGIN[0],
        "password": LOGIN[1],
        "ReturnUrl": match.group(1).replace("&amp;", "&"),
    }
    reply = browser.post(f"{base}/login/", data=data, allow_redirects=False, timeout=TIMEOUT)
    back = browser.get(base + reply.headers["Location"], allow_redirects=False, timeout=TIMEOUT)
    location = back.headers["Location"]
    assert location.startswith(REDIRECT)  # the gateway's callback: not followed here
    return parse_qs(urlsplit(location).query)["code"][0]


def test_a_partner_connector_signs_in_and_reads_the_schedule(base_url: str) -> None:
    code = _code(base_url, requests.Session())
    body = {"code": code, "client_id": PARTNER[0], "client_secret": PARTNER[1]}
    token = requests.post(
        f"{base_url}/v2.0/authorizations",
        json=body | {"grant_type": "AuthorizationCode"},
        timeout=TIMEOUT,
    ).json()
    api = requests.Session()
    api.headers["Access-Token"] = token["accessToken"]
    child = api.get(f"{base_url}/v2/users/me/context", timeout=TIMEOUT).json()["children"][0]
    path = f"/v2/persons/{child['personId']}/groups/{child['groupIds'][0]}/schedules"
    query = {"startDate": TODAY.isoformat(), "endDate": TODAY.isoformat()}
    days = api.get(base_url + path, params=query, timeout=TIMEOUT).json()["days"]
    assert days and days[0]["date"] == f"{TODAY}T00:00:00"
    # The parsed numeric id is exact in Python; the twin is what other clients must use.
    raw = api.get(base_url + path, params=query, timeout=TIMEOUT).text
    assert f'"id":{days[0]["lessons"][0]["id"]}' in raw


def test_the_web_form_flow_ends_on_the_result_url_with_the_token(base_url: str) -> None:
    return_url = (
        f"https://login.dnevnik.ru/oauth2?response_type=token&client_id={PUBLIC}&scope={SCOPE}"
    )
    params = {"ReturnUrl": return_url, "login": LOGIN[0], "password": LOGIN[1]}
    final = requests.Session().post(f"{base_url}/login/", params=params, timeout=TIMEOUT)
    parts = urlsplit(final.url)
    assert final.status_code == 200 and parse_qs(parts.query)["result"] == ["success"]
    token = parts.fragment[13:-7]
    me = requests.get(f"{base_url}/v2/users/me", params={"access_token": token}, timeout=TIMEOUT)
    assert me.json()["login"] == LOGIN[0]


def test_stats_and_maintenance_over_http(base_url: str) -> None:
    requests.post(f"{base_url}/__admin/stats/reset", timeout=TIMEOUT)
    requests.get(f"{base_url}/v2/users/me", timeout=TIMEOUT)
    stats = requests.get(f"{base_url}/__admin/stats", timeout=TIMEOUT).json()
    assert stats == {"GET /v2/users/me": 1}
    requests.post(f"{base_url}/__admin/faults", json={"mode": "maintenance"}, timeout=TIMEOUT)
    reply = requests.get(f"{base_url}/v2/users/me", timeout=TIMEOUT)
    assert reply.status_code == 503 and reply.headers["Content-Type"] == "text/html"


def test_the_command_line_knows_dnevnik_ru(world: World) -> None:
    assert cli.port_of("dnevnik_ru", {}) == 9102
    assert cli.port_of("dnevnik_ru", {"DNEVNIK_PORT": "9202"}) == 9202
    app = cli.make_app("dnevnik_ru", world)
    assert app.test_client().get("/login/").status_code == 200
