"""Drive the Dnevnik.ru emulator as a partner app and as the public clients do, for the tests."""

from __future__ import annotations

import dataclasses
import html
import re
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from regional_mock.dnevnik_ru import create_app
from regional_mock.records import Account
from regional_mock.world import World
from tests.regional_mock.helpers import FakeClock

POLINA = "Смирнова Полина Дмитриевна"
LOGIN = ("smirnova.i.s", "Dnevnik-2026")
OTHER = ("ivanov.p.p", "Other-2026")
PARTNER = ("diary-gateway-partner", "demo-dnevnik-secret")
MOBILE = ("dnevnik-mobile-demo", "demo-mobile-secret")
REDIRECT = "http://127.0.0.1:8000/children/oauth/callback"
SCOPE = "CommonInfo,ContactInfo,FriendsAndRelatives,EducationalInfo"
PUBLIC = "0d6c3a52-8c1e-4f7b-9a35-d2b1e6f04c18"


def with_other_parent(world: World) -> World:
    """Return the world plus a second Dnevnik.ru login whose holder has no child there."""
    other = Account(
        system="dnevnik_ru",
        login=OTHER[0],
        password=OTHER[1],
        student_ids=(),
        id=7719999,
        holder="Иванов Пётр Петрович",
    )
    return dataclasses.replace(world, accounts=(*world.accounts, other))


def make_app(world: World, clock: FakeClock, **config: t.Any) -> Flask:
    """Build the emulator over a world with a second parent and a fake clock."""
    return create_app(with_other_parent(world), {"DNEVNIK_CLOCK": clock, **config})


def authorize_url(**overrides: str) -> str:
    """Return the partner's ``/oauth2`` URL."""
    params = {
        "response_type": "code",
        "client_id": PARTNER[0],
        "scope": SCOPE,
        "redirect_uri": REDIRECT,
        "state": "st-42",
        **overrides,
    }
    return "/oauth2?" + urlencode({k: v for k, v in params.items() if v is not None})


def return_url(page: TestResponse) -> str:
    """Read the hidden ReturnUrl of the sign-in form."""
    match = re.search(r'name="ReturnUrl" value="([^"]*)"', page.get_data(as_text=True))
    assert match is not None, page.get_data(as_text=True)
    return html.unescape(match.group(1))


def sign_in_page(client: FlaskClient, url: str, login: str, password: str) -> TestResponse:
    """Open ``url``, follow it to the sign-in form and submit it; return the form's answer."""
    to_login = client.get(url)
    assert to_login.status_code == 302 and to_login.location.startswith("/login/")
    form = client.get(to_login.location)
    assert form.status_code == 200
    data = {"login": login, "password": password, "ReturnUrl": return_url(form)}
    return client.post("/login/", data=data)


def get_code(client: FlaskClient, login: str = LOGIN[0], password: str = LOGIN[1]) -> str:
    """Run the browser part of the code flow; return the code delivered to the redirect URI."""
    signed = sign_in_page(client, authorize_url(), login, password)
    assert signed.status_code == 302, signed.get_data(as_text=True)
    back = client.get(signed.location)
    assert back.status_code == 302 and back.location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(back.location).query)
    assert query["state"] == ["st-42"]
    return query["code"][0]


def exchange(client: FlaskClient, code: str, **overrides: str) -> TestResponse:
    """Post the code to the token endpoint."""
    body = {
        "code": code,
        "client_id": PARTNER[0],
        "client_secret": PARTNER[1],
        "grant_type": "AuthorizationCode",
        **overrides,
    }
    return client.post("/v2.0/authorizations", json=body)


def partner_token(client: FlaskClient, login: str = LOGIN[0], password: str = LOGIN[1]) -> str:
    """Run the whole code flow and return the access token."""
    reply = exchange(client, get_code(client, login, password))
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return str(reply.get_json()["accessToken"])


def mobile_login(
    client: FlaskClient, login: str, password: str, **overrides: t.Any
) -> TestResponse:
    """Post the mobile app's ``bycredentials`` login."""
    body = {
        "agreeTerms": False,
        "clientId": MOBILE[0],
        "clientSecret": MOBILE[1],
        "scope": "Schools,Relatives,EduGroups,Lessons,marks,EduWorks,Avatar",
        "username": login,
        "password": password,
        **overrides,
    }
    return client.post("/mobile/v8.5/authorizations/bycredentials", json=body)


def context(client: FlaskClient, token: str) -> dict[str, t.Any]:
    """Return ``users/me/context``."""
    reply = client.get("/v2/users/me/context", headers={"Access-Token": token})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return t.cast(dict[str, t.Any], reply.get_json())
