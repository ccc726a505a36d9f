"""Two tabs of one browser open the sign-in form; the second is sent after the first signed in."""

from __future__ import annotations

import re
import typing as t
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

NEXT = "/authorize?client_id=diary-gateway&state=tab-b"


@pytest.fixture
def browser(make_idp: t.Callable[..., Flask]) -> FlaskClient:
    """Return one browser (one cookie jar) of a provider with CSRF on, as in the demo."""
    return make_idp(WTF_CSRF_ENABLED=True).test_client()


def open_form(client: FlaskClient, path: str) -> str:
    """Open the sign-in form at ``path``; return its CSRF token."""
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(path).text)
    assert token
    return token[1]


def send(client: FlaskClient, path: str, token: str, login: str, password: str) -> t.Any:
    """Send the sign-in form opened at ``path``."""
    data = {"login": login, "password": password, "csrf_token": token}
    return client.post(path, data=data)


def test_the_second_tab_continues_where_it_was_going(browser: FlaskClient) -> None:
    tab_a = open_form(browser, "/login?next=/")
    tab_b = open_form(browser, "/login?next=" + quote(NEXT))
    assert send(browser, "/login?next=/", tab_a, "+79000000001", "parent-demo-1").status_code == 303

    late = send(browser, "/login?next=" + quote(NEXT), tab_b, "+79000000001", "parent-demo-1")

    assert late.status_code == 303
    assert late.headers["Location"] == NEXT


def test_a_stale_second_tab_never_continues_off_site(browser: FlaskClient) -> None:
    tab_a = open_form(browser, "/login")
    tab_b = open_form(browser, "/login?next=https://evil.example/")
    send(browser, "/login", tab_a, "+79000000001", "parent-demo-1")

    late = send(browser, "/login?next=https://evil.example/", tab_b, "+79000000003", "x")

    assert late.headers["Location"] == "/"
    assert "Смирнова Ирина" in browser.get("/").text  # nobody else was signed in


def test_a_forged_form_without_a_session_still_says_it_expired(browser: FlaskClient) -> None:
    forged = send(browser, "/login", "not-a-token", "+79000000001", "parent-demo-1")

    assert forged.status_code == 400
    assert "Форма устарела" in forged.text
    assert "Вы вошли как" not in browser.get("/").text
