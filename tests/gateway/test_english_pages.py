"""In English, the pages of the header, trusted persons and the operator's wording show no
Russian interface text: only people's, children's, schools' and regions' own names."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import AccessApplication
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import Grant
from gateway.models import PersonalDataConsent
from gateway.models import User
from gateway.services import names
from tests.gateway.conftest import make_operator
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import make_person
from tests.gateway.conftest import signed_in
from tests.gateway.test_applications import FORM
from tests.gateway.test_applications import PAVEL
from tests.gateway.test_trusted import GRANNY
from tests.gateway.test_trusted import GRANNY_PHONE
from tests.gateway.test_trusted import _invite

CYRILLIC = re.compile("[А-Яа-яЁё]")
# The language switch names Russian in Russian in every language.
ANY_LANGUAGE = ["Русский"]


def _data_words(app: Flask) -> set[str]:
    """Every word of the names and places the pages may show as they are."""
    with app.app_context():
        people = db.session.scalars(select(User.full_name)).all()
        texts = [*people, *db.session.scalars(select(Grant.invitee_name))]
        for link in db.session.scalars(select(ChildLink)):
            texts += [link.full_name, link.display_name, link.school or "", link.class_name or ""]
        texts += db.session.scalars(select(ConnectorInstance.region_name)).all()
        texts += list(app.config["REGION_NAMES"].values())
        for found in db.session.scalars(select(AccessApplication)):
            texts += [found.child_full_name, found.applicant_full_name, found.school]
            texts += [found.class_name, found.certificate_masked or ""]
    texts += [names.short_name(person) for person in people]
    return {word for text in texts for word in re.findall(r"[\w.]+", text)} | set(ANY_LANGUAGE)


def _russian_left(page: str, data: set[str]) -> list[str]:
    """Return the Russian fragments of a page once the data's own words are taken out."""
    text = html.unescape(
        re.sub(r"<[^>]*?(?:aria-label|title|alt)=\"([^\"]*)\"[^>]*>", r" \1 ", page)
    )
    text = re.sub(r"<[^>]+>", " ", text)
    words = sorted(data, key=len, reverse=True)
    text = re.sub(r"(?<![\w.])(?:" + "|".join(map(re.escape, words)) + r")(?![\w])", " ", text)
    return [m.group(0) for m in re.finditer(r"\S*[А-Яа-яЁё][^<>\n]{0,40}", text)]


def _assert_english(pages: dict[str, str], data: set[str]) -> None:
    left = {path: found for path, page in pages.items() if (found := _russian_left(page, data))}
    assert not left, left
    assert all('<html lang="en">' in page for page in pages.values())


@pytest.fixture
def shared(parent: FlaskClient, fake_app: Flask, school: object) -> dict[str, object]:
    """Анна shared with the grandmother (accepted), and a second invitation pending."""
    parent.get("/lang/en")  # first: a message is worded in the language it was made in
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with fake_app.app_context():
        anna, petr = db.session.scalars(select(ChildLink.id).order_by(ChildLink.position))
        token = _invite(parent, anna, "schedule", "homework")
    granny = signed_in(fake_app, make_parent(fake_app, "granny", GRANNY, phone=GRANNY_PHONE))
    granny.get("/lang/en")
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    with fake_app.app_context():
        pending = _invite(parent, petr, "grades")
        grant = db.session.scalar(select(Grant).where(Grant.grantee_id.is_not(None)))
        ids = {"grant": grant.id, "grantee": grant.grantee_id}
    return {"anna": anna, "granny": granny, "pending": pending, **ids}


def test_the_parents_and_the_trusted_persons_pages_are_english(
    parent: FlaskClient, fake_app: Flask, shared: dict[str, object]
) -> None:
    granny, anna = shared["granny"], shared["anna"]
    assert isinstance(granny, FlaskClient)
    pages = {
        path: parent.get(path).text
        for path in [
            "/",
            f"/child/{anna}?section=rating",
            "/trusted/",
            "/trusted/invite",
            f"/trusted/{shared['grant']}/revoke",
            f"/trusted/person/{shared['grantee']}/remove",
            "/trusted/audit",
        ]
    }
    pages["granny /"] = granny.get("/").text
    pages["granny child"] = granny.get(f"/child/{anna}").text
    pages["granny accept"] = granny.get(f"/trusted/accept/{shared['pending']}").text
    stranger = fake_app.test_client()
    stranger.get("/lang/en")
    pages["anonymous accept"] = stranger.get(f"/trusted/accept/{shared['pending']}").text
    impostor = signed_in(fake_app, make_parent(fake_app, "x", "Петрова Галина", phone=GRANNY_PHONE))
    impostor.get("/lang/en")
    pages["refused"] = impostor.post(
        f"/trusted/accept/{shared['pending']}", data={"decision": "accept"}, follow_redirects=True
    ).text
    assert "does not match the name in the invitation" in pages["refused"]
    parent.post(f"/trusted/{shared['grant']}/revoke")
    pages["revoke flash"] = parent.get("/trusted/").text
    pages["granny revoked"] = granny.get(f"/child/{anna}").text
    pages["granny list"] = granny.get("/trusted/").text
    _assert_english(pages, _data_words(fake_app))


def test_the_consent_of_an_invited_person_is_english(
    fake_app: Flask, shared: dict[str, object]
) -> None:
    granny = shared["granny"]
    assert isinstance(granny, FlaskClient)
    with fake_app.app_context():
        db.session.execute(delete(PersonalDataConsent))
        db.session.commit()
    page = granny.get("/consent").text
    assert "is giving you access to sections of their child’s school diary" in page
    _assert_english({"/consent": page}, _data_words(fake_app))


def _review(app: Flask) -> str:
    with app.app_context():
        return f"/operator/applications/{db.session.scalar(select(AccessApplication.id))}"


def test_the_operators_and_the_applicants_pages_are_english(operator_app: Flask) -> None:
    pavel = signed_in(
        operator_app, make_person(operator_app, "pavel", PAVEL, birthdate="1984-02-17")
    )
    maria = signed_in(operator_app, make_operator(operator_app, "63"))
    for client in (pavel, maria):
        client.get("/lang/en")
    assert pavel.post("/children/applications/new", data=FORM).status_code == 303
    pages = {
        path: maria.get(path).text
        for path in ["/operator/", "/operator/applications", _review(operator_app)]
    }
    pages["/children/applications/"] = pavel.get("/children/applications/").text
    _assert_english(pages, _data_words(operator_app))
