"""Security headers of every provider response, over real HTTP, as a browser receives them."""

from __future__ import annotations

import typing as t
from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from tests.idp_mock.helpers import CLIENT_ID
from tests.idp_mock.helpers import REDIRECT_URI
from tests.support.live import serving
from tests.support.stack import free_port

TIMEOUT = 10
# Pages that show a person's name, phone, e-mail, codes or documents, or a form bound to them.
PERSONAL_PAGES = [
    "/",
    "/login",
    "/login?next=/profile/",
    "/profile/",
    "/register/",
    "/__dev/outbox",
    "/__dev/outbox?format=json",
    "/__dev/service-centre",
    f"/consent?response_type=code&client_id={CLIENT_ID}&redirect_uri={REDIRECT_URI}"
    "&scope=openid+profile&state=s&code_challenge=" + "a" * 43 + "&code_challenge_method=S256",
    "/logged-out",
]
PUBLIC_DOCUMENTS = ["/.well-known/openid-configuration", "/jwks"]


@pytest.fixture
def irina(make_idp: t.Callable[..., Flask]) -> Iterator[tuple[str, requests.Session]]:
    """Serve the provider over HTTP; return its URL and a browser signed in as Ирина."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    with serving(make_idp(IDP_ISSUER=issuer), port=port) as url:
        browser = requests.Session()
        signed_in = browser.post(
            f"{url}/login",
            data={"login": "+79000000001", "password": "parent-demo-1"},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert signed_in.status_code == 303
        yield url, browser


@pytest.mark.parametrize("path", PERSONAL_PAGES + PUBLIC_DOCUMENTS)
def test_every_response_forbids_sniffing_framing_and_referrers(
    irina: tuple[str, requests.Session], path: str
) -> None:
    url, browser = irina

    reply = browser.get(url + path, allow_redirects=False, timeout=TIMEOUT)

    assert reply.status_code < 500
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]
    assert reply.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", PERSONAL_PAGES)
def test_personal_pages_are_never_stored(irina: tuple[str, requests.Session], path: str) -> None:
    url, browser = irina

    reply = browser.get(url + path, allow_redirects=False, timeout=TIMEOUT)

    assert reply.status_code == 200, reply.text
    assert "no-store" in reply.headers["Cache-Control"]


def test_an_error_page_is_not_stored_either(irina: tuple[str, requests.Session]) -> None:
    url, browser = irina

    reply = browser.get(f"{url}/authorize?client_id=nobody", timeout=TIMEOUT)

    assert reply.status_code == 400
    assert "no-store" in reply.headers["Cache-Control"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", PUBLIC_DOCUMENTS)
def test_discovery_and_keys_stay_cacheable(irina: tuple[str, requests.Session], path: str) -> None:
    url, browser = irina

    reply = browser.get(url + path, timeout=TIMEOUT)

    assert "no-store" not in reply.headers.get("Cache-Control", "")
