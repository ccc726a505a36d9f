"""The community client pydnevnikruapi signs in to the emulator as it does to Dnevnik.ru.

pydnevnikruapi 0.2.0 (PyPI, 2025-10-16) needs Python 3.13 and aiohttp, so its ``get_token``
is replayed here step for step with ``requests``, with its constants copied verbatim from
``pydnevnikruapi/constants.py``; only the host is the emulator's.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests

from regional_mock.dnevnik_ru import create_app
from regional_mock.world import World
from tests.regional_mock.dnevnik_helpers import LOGIN
from tests.support.live import serving

TIMEOUT = (3, 10)
# pydnevnikruapi 0.2.0, constants.py: LOGIN_URL and RETURN_URL.
LOGIN_PATH = "/login/"
RETURN_URL_0_2_0 = (
    "https://login.dnevnik.ru/oauth2?response_type="
    "token&client_id=b8006d75-70a9-4291-885c-13d8511bb2ae&scope=CommonInfo,EducationalInfo"
)
# pydnevnikruapi 0.1.1, dnevnik/dnevnik.py: the same flow with the app id of 2021.
RETURN_URL_0_1_1 = (
    "https://login.dnevnik.ru/oauth2?response_type=token&client_id=bb97b3e445a340b9b9cab4b9ea0dbd6f"
    "&scope=CommonInfo,ContactInfo,FriendsAndRelatives,EducationalInfo"
)


@pytest.fixture
def base_url(world: World) -> Iterator[str]:
    """Serve a fresh emulator on a free loopback port."""
    with serving(create_app(world)) as url:
        yield url


@pytest.fixture
def interstitial_url(world: World) -> Iterator[str]:
    """Serve an emulator that shows the «link Госуслуги» page after the password."""
    with serving(create_app(world, {"DNEVNIK_ESIA_OFFER": True})) as url:
        yield url


def replay_get_token(base: str, return_url: str, login: str, password: str) -> str:
    """Do what ``AsyncDiaryAPI.get_token`` of 0.2.0 does; return its token or raise."""
    session = requests.Session()
    params = {"ReturnUrl": return_url, "login": login, "password": password}
    reply = session.post(base + LOGIN_PATH, params=params, timeout=TIMEOUT)
    if parse_qs(urlsplit(reply.url).query).get("result") != ["success"]:
        # 0.2.0 posts to RETURN_URL itself (on the real host) with the same cookie jar.
        reply = session.post(base + urlsplit(return_url)._replace(scheme="", netloc="").geturl())
        if parse_qs(urlsplit(reply.url).query).get("result") != ["success"]:
            raise AssertionError(f"Authentication failed: {reply.status_code} {reply.url}")
    assert reply.status_code == 200
    return urlsplit(reply.url).fragment[13:-7]


def me(base: str, token: str) -> dict[str, object]:
    """Read ``users/me`` with the token as pydnevnikruapi sends it."""
    reply = requests.get(f"{base}/v2/users/me", headers={"Access-Token": token}, timeout=TIMEOUT)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


@pytest.mark.parametrize("return_url", [RETURN_URL_0_2_0, RETURN_URL_0_1_1])
def test_pydnevnikruapi_signs_in_with_its_public_app_id(base_url: str, return_url: str) -> None:
    token = replay_get_token(base_url, return_url, *LOGIN)

    assert me(base_url, token)["login"] == LOGIN[0]


def test_the_newest_release_gets_past_the_gosuslugi_interstitial(interstitial_url: str) -> None:
    token = replay_get_token(interstitial_url, RETURN_URL_0_2_0, *LOGIN)

    assert me(interstitial_url, token)["login"] == LOGIN[0]


def test_a_wrong_password_fails_the_newest_release(base_url: str) -> None:
    with pytest.raises(AssertionError, match="Authentication failed"):
        replay_get_token(base_url, RETURN_URL_0_2_0, LOGIN[0], "wrong")


def test_an_unknown_app_id_is_still_refused(base_url: str) -> None:
    unknown = RETURN_URL_0_2_0.replace("b8006d75", "b8006d76")

    with pytest.raises(AssertionError, match="Authentication failed: 400"):
        replay_get_token(base_url, unknown, *LOGIN)
