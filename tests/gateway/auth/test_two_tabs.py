"""Sign-in started in two tabs: the tab that returns second lands signed in, not on an error."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp_mock.browser import authorize_at_idp

IRINA = ("+79000000001", "parent-demo-1")


@pytest.fixture
def gateway(make_stack_app: t.Callable[..., Flask]) -> Flask:
    """A gateway on the live stack (the provider's own two-tab case is in tests/idp_mock)."""
    return make_stack_app(WTF_CSRF_ENABLED=False)


def callback_path(client: FlaskClient, start: t.Any) -> str:
    """Sign in at the provider for a /login redirect; return the gateway's callback path."""
    back = urlsplit(authorize_at_idp(start.headers["Location"], *IRINA))
    return f"{back.path}?{back.query}"


def test_the_tab_that_returns_second_lands_signed_in(gateway: Flask) -> None:
    client = gateway.test_client()
    tab_a, tab_b = client.get("/login"), client.get("/login")
    back_a, back_b = callback_path(client, tab_a), callback_path(client, tab_b)
    assert client.get(back_a).status_code == 302
    client.post("/consent", data={"accept": "y"})

    second = client.get(back_b)

    assert second.status_code == 302
    assert urlsplit(second.headers["Location"]).path == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Вход уже выполнен: Смирнова Ирина Сергеевна." in page.text  # who it is, said


def test_a_callback_with_a_foreign_state_still_fails_when_nobody_is_signed_in(
    gateway: Flask,
) -> None:
    client = gateway.test_client()
    back = callback_path(client, client.get("/login"))

    stranger = gateway.test_client().get(back)

    assert stranger.status_code == 400
    assert "Не удалось войти" in stranger.text


def test_a_signed_in_person_still_hears_why_another_sign_in_failed(gateway: Flask) -> None:
    client = gateway.test_client()
    back = callback_path(client, client.get("/login"))
    client.get(back)
    client.post("/consent", data={"accept": "y"})
    again = urlsplit(
        authorize_at_idp(client.get("/login").headers["Location"], *IRINA, allow=False)
    )

    refused = client.get(f"{again.path}?{again.query}")

    assert refused.status_code == 400
    assert "Вы отменили вход." in refused.text
