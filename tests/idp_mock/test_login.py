"""/login: one field for phone, e-mail or SNILS, a password, CSRF and anti-framing."""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from idp_mock.models import Person
from tests.idp_mock.helpers import sign_in


def signed_in_name(client: FlaskClient) -> str | None:
    """Return the name the provider's home page greets, or None when signed out."""
    found = re.search(r"Вы вошли как ([^.]+)\.", client.get("/").get_data(as_text=True))
    return found.group(1) if found else None


def test_login_page_has_the_fields_browser_tests_rely_on(idp: FlaskClient) -> None:
    html = idp.get("/login").get_data(as_text=True)

    assert "<h1>Вход</h1>" in html
    assert "Телефон, почта или СНИЛС" in html and "Пароль" in html
    assert 'id="login" name="login"' in html
    assert 'id="password" name="password" type="password"' in html
    assert '<button type="submit">Войти</button>' in html


@pytest.mark.parametrize(
    "login",
    [
        "+79000000001",
        "89000000001",
        "+7 900 000-00-01",
        "8 (900) 000-00-01",
        "Irina.Smirnova@Example.TEST",
        " irina.smirnova@example.test ",
        "112-233-445 95",
        "11223344595",
    ],
)
def test_person_signs_in_with_phone_email_or_snils(idp: FlaskClient, login: str) -> None:
    response = sign_in(idp, login, "parent-demo-1")

    assert response.status_code == 303
    assert signed_in_name(idp) == "Смирнова Ирина Сергеевна"


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("+79000000001", "parent-demo-2"),
        ("+79000000009", "parent-demo-1"),
        ("nobody@example.test", "parent-demo-1"),
        ("a.kuznetsov@example.test", "parent-demo-1"),
    ],
)
def test_wrong_credentials_show_one_message(idp: FlaskClient, login: str, password: str) -> None:
    response = sign_in(idp, login, password)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Неверный логин или пароль" in html
    assert 'id="login"' in html
    assert signed_in_name(idp) is None


def test_login_continues_to_the_local_next_path(idp: FlaskClient) -> None:
    response = sign_in(idp, "+79000000002", "parent-demo-2", next_path="/authorize?x=1")

    assert response.headers["Location"] == "/authorize?x=1"


@pytest.mark.parametrize("target", ["http://evil.test/", "//evil.test/", "javascript:alert(1)"])
def test_login_never_continues_off_site(idp: FlaskClient, target: str) -> None:
    response = sign_in(idp, "+79000000002", "parent-demo-2", next_path=target)

    assert response.headers["Location"] == "/"


def test_csrf_rejects_a_form_post_without_token(make_idp: t.Callable[..., Flask]) -> None:
    client = make_idp(WTF_CSRF_ENABLED=True).test_client()

    response = sign_in(client, "+79000000001", "parent-demo-1")

    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True)
    assert signed_in_name(client) is None


def test_csrf_accepts_the_token_from_the_page(make_idp: t.Callable[..., Flask]) -> None:
    client = make_idp(WTF_CSRF_ENABLED=True).test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert token

    response = client.post(
        "/login",
        data={"login": "+79000000001", "password": "parent-demo-1", "csrf_token": token[1]},
    )

    assert response.status_code == 303


@pytest.mark.parametrize("path", ["/login", "/", "/jwks", "/.well-known/openid-configuration"])
def test_every_response_forbids_framing(idp: FlaskClient, path: str) -> None:
    response = idp.get(path)

    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_session_cookie_does_not_clash_with_the_gateway(idp: FlaskClient) -> None:
    sign_in(idp, "+79000000001", "parent-demo-1")

    assert idp.get_cookie("idp_session") is not None
    assert idp.get_cookie("session") is None


def test_demo_people_are_seeded_once(make_idp: t.Callable[..., Flask], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'idp.sqlite3'}"
    make_idp(IDP_DATABASE_URL=url)
    make_idp(IDP_DATABASE_URL=url)

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        levels = connection.execute(sa.select(Person.level).order_by(Person.oid)).scalars().all()
    engine.dispose()
    assert levels == ["confirmed", "standard", "confirmed", "confirmed", "simplified"]


def test_demo_seeding_can_be_turned_off(make_idp: t.Callable[..., Flask]) -> None:
    client = make_idp(IDP_SEED_DEMO=False).test_client()

    assert sign_in(client, "+79000000001", "parent-demo-1").status_code == 200
    assert signed_in_name(client) is None
