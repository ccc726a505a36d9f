"""Response headers: nothing personal stays in a browser's cache, and HTTPS is sticky."""

from __future__ import annotations

import typing as t

import pytest
import requests
from flask import Flask
from flask import url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from tests.e2e.flows import link_maxim
from tests.e2e.flows import sign_in
from tests.gateway.conftest import build_fake_app
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.support.live import serving
from tests.support.stack import CHROMIUM
from tests.support.stack import CHROMIUM_FLAGS
from tests.support.stack import free_port


@pytest.fixture
def unreachable_idp_app(make_app: t.Callable[..., Flask], school: FakeSchool) -> Flask:
    """The fake app, with a provider address nobody listens on (sign-in pages fail fast)."""
    return build_fake_app(
        make_app,
        OIDC_ISSUER=f"http://127.0.0.1:{free_port()}",
        PROPAGATE_EXCEPTIONS=False,  # errors answer with the gateway's own 500 page
    )


def _get_routes(app: Flask, child_id: int) -> list[tuple[str, str]]:
    """Return (endpoint, url) for every GET rule of the URL map."""
    values = {
        "child_id": child_id,
        "key": "test-fake",
        "application_id": 1,
        "grant_id": 1,
        "person_id": 1,
        "code": "ru",
        "token": "A" * 43,
        "filename": "style.css",
    }
    with app.test_request_context():
        return [
            (rule.endpoint, url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
            for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or set())
        ]


def test_every_page_a_signed_in_parent_gets_is_kept_out_of_every_cache(
    unreachable_idp_app: Flask,
) -> None:
    app = unreachable_idp_app
    parent = signed_in(app, make_parent(app))
    linked = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert linked.status_code == 303
    with app.app_context():
        child_id = db.session.scalar(select(ChildLink.id))
    routes = _get_routes(app, child_id)
    assert len(routes) > 30
    cookie = parent.get_cookie("dg_session").value
    wrong = []
    with serving(app) as base:
        browser = requests.Session()
        browser.cookies.set("dg_session", cookie)
        for endpoint, url in routes:
            reply = browser.get(base + url, allow_redirects=False, timeout=30)
            cache = reply.headers.get("Cache-Control", "")
            expected = endpoint != "static"  # the style sheet may be cached: nothing personal
            if ("no-store" in cache) != expected:
                wrong.append(f"{endpoint} {url}: {reply.status_code} Cache-Control={cache!r}")
            if "camera=()" not in reply.headers.get("Permissions-Policy", ""):
                wrong.append(f"{endpoint} {url}: no Permissions-Policy")
            if reply.headers.get("X-Content-Type-Options") != "nosniff":
                wrong.append(f"{endpoint} {url}: no X-Content-Type-Options")
            if "Strict-Transport-Security" in reply.headers:
                wrong.append(f"{endpoint} {url}: HSTS over plain HTTP")
    assert not wrong, "\n".join(wrong)


def test_pages_for_visitors_are_not_stored_either(client: FlaskClient) -> None:
    for url in ("/", "/healthz", "/no-such-page"):
        assert "no-store" in client.get(url).headers["Cache-Control"]


def test_an_https_deployment_tells_browsers_to_stay_on_https(
    make_app: t.Callable[..., Flask],
) -> None:
    app = make_app(PUBLIC_URL="https://dnevnik.example")
    reply = app.test_client().get("/", base_url="https://dnevnik.example")
    assert reply.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    plain = make_app(PUBLIC_URL="http://127.0.0.1:8000").test_client().get("/")
    assert "Strict-Transport-Security" not in plain.headers


@pytest.fixture
def bfcache_page(browser: t.Any) -> t.Iterator[t.Any]:
    """A page in Chromium with the back-forward cache on, as in a person's own browser.

    Playwright turns the cache off by default; it is what shows a page again on "back"
    without asking the server. A second browser of the suite's one Playwright.
    """
    own = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=CHROMIUM_FLAGS,
        ignore_default_args=["--disable-back-forward-cache"],
    )
    context = own.new_context(locale="ru-RU")
    context.set_default_timeout(15_000)
    yield context.new_page()
    own.close()


@pytest.mark.browser
def test_after_sign_out_the_back_button_shows_no_diary(
    bfcache_page: t.Any, live_gateway: str
) -> None:
    page = bfcache_page
    sign_in(page, live_gateway, "+79000000001", "parent-demo-1")
    link_maxim(page)
    page.get_by_role("link", name="Child1").first.click()
    page.get_by_role("heading", name="Оценки:").wait_for()
    assert page.locator("tr.grade").count() > 0
    page.get_by_role("link", name="Выйти").click()
    page.get_by_role("button", name="Выйти").click()
    page.get_by_role("heading", name="Вы вышли").wait_for()
    shown = []
    for _ in range(3):  # back to the sign-out page, the diary, the family page
        page.go_back(wait_until="commit")
        page.locator("h1").first.wait_for()
        shown.append((page.url, page.locator("tr.grade").count()))
    assert [url for url, marks in shown if marks] == [], shown
