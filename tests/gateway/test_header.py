"""Every page says who is signed in; a trusted person also sees whose diary they are in."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.test_trusted import GRANNY
from tests.gateway.test_trusted import GRANNY_PHONE
from tests.gateway.test_trusted import _invite

WHOAMI = re.compile(r'<p class="whoami">(.*?)</p>', re.S)


def _whoami(page: str) -> str:
    found = WHOAMI.search(page)
    assert found, "no «who is signed in» line in the header"
    return found[1]


@pytest.mark.parametrize("path", ["/", "/trusted/", "/children/", "/trusted/invite"])
def test_every_signed_in_page_names_the_person_and_offers_sign_out(
    parent: FlaskClient, path: str
) -> None:
    page = parent.get(path)
    assert page.status_code == 200
    header = page.text.split("</header>")[0]
    line = _whoami(header)
    assert '<span class="name-full">Иванова Мария</span>' in line
    # The phone's short form is for the eye only; screen readers hear the full name.
    assert '<span class="name-short" aria-hidden="true">Иванова М.</span>' in line
    assert '<span class="visually-hidden">Вы вошли как </span>' in line
    assert re.search(r'<a href="/logout">Выйти</a>\s*$', line)


def test_a_visitor_who_is_not_signed_in_sees_no_name(fake_app: Flask) -> None:
    page = fake_app.test_client().get("/").text
    assert 'class="whoami"' not in page and "Выйти" not in page


def test_a_trusted_person_sees_whose_invitation_opened_the_diary(
    parent: FlaskClient, fake_app: Flask, school: object
) -> None:
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with fake_app.app_context():
        anna = db.session.scalar(select(ChildLink.id).order_by(ChildLink.position))
        token = _invite(parent, anna, "schedule")
    granny = signed_in(fake_app, make_parent(fake_app, "granny", GRANNY, phone=GRANNY_PHONE))
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    page = granny.get(f"/child/{anna}").text.split("</header>")[0]
    assert "Вы смотрите дневник «Child1 — Иванова Анна» по приглашению Ивановой Марии." in page
    assert '<span class="name-full">Смирнова Галина Ивановна</span>' in _whoami(page)
    assert "Вы смотрите дневник" not in parent.get(f"/child/{anna}").text
    granny.get("/lang/en")
    english = granny.get(f"/child/{anna}").text
    viewing = "You are viewing the diary of «Child1 — Иванова Анна» at the invitation of"
    assert f"{viewing} Иванова Мария." in english
    assert "Sign out" in _whoami(english)
