"""Linking through a second factor (SMS code) and through the backend's own sign-in page."""

from __future__ import annotations

from urllib.parse import parse_qs
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import LinkStatus
from gateway.models import SchoolCredential
from gateway.runtime import services
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool

CREDENTIALS = {"login": "parent", "password": "secret"}


def _links(app: Flask) -> list[ChildLink]:
    with app.app_context():
        return list(db.session.scalars(select(ChildLink).order_by(ChildLink.position)))


def test_a_backend_that_asks_for_an_sms_code_gets_it_and_links(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    school.sms_for.add("parent")
    start = parent.post("/children/link/test-fake", data=CREDENTIALS)
    assert start.status_code == 303 and start.headers["Location"].endswith("/code")
    assert _links(fake_app) == []
    page = parent.get("/children/link/test-fake/code")
    assert "+7 900 ***-**-01" in page.text
    done = parent.post("/children/link/test-fake/code", data={"code": "424242"})
    assert done.status_code == 303
    assert [link.display_name for link in _links(fake_app)] == ["Child1", "Child2"]


def test_a_wrong_code_is_explained_and_stores_nothing_until_attempts_run_out(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    school.sms_for.add("parent")
    parent.post("/children/link/test-fake", data=CREDENTIALS)
    wrong = parent.post("/children/link/test-fake/code", data={"code": "111111"})
    assert wrong.status_code == 200 and "Неверный код" in wrong.text
    last = parent.post("/children/link/test-fake/code", data={"code": "222222"})
    assert last.status_code == 303 and last.headers["Location"].endswith("/children/link/test-fake")
    assert _links(fake_app) == []
    gone = parent.get("/children/link/test-fake/code")
    assert gone.status_code == 302


def test_the_trusted_device_means_no_code_is_asked_when_the_session_is_renewed(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    school.sms_for.add("parent")
    parent.post("/children/link/test-fake", data=CREDENTIALS)
    parent.post("/children/link/test-fake/code", data={"code": "424242"})
    child = _links(fake_app)[0].id
    school.expired_tokens.add("t1")
    page = parent.get(f"/child/{child}")
    assert page.status_code == 200 and "недоступна" not in page.text
    assert "не принимает" not in page.text
    assert school.calls["login"] == 2 and school.calls["confirm"] == 1


def test_a_pending_code_belongs_to_the_person_who_started_it(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    school.sms_for.add("parent")
    parent.post("/children/link/test-fake", data=CREDENTIALS)
    with parent.session_transaction() as state:
        token = state["pending_link"]
    other = make_parent(fake_app, subject="parent-2", name="Петров Олег")
    intruder = signed_in(fake_app, other)
    with fake_app.app_context():
        assert services().cache.get(f"pending-link:{token}") is not None
        assert "secret" not in services().cache.get(f"pending-link:{token}")
    with intruder.session_transaction() as state:
        state["pending_link"] = token
    stolen = intruder.post("/children/link/test-fake/code", data={"code": "424242"})
    assert stolen.status_code == 302
    assert _links(fake_app) == []


def test_a_partner_backend_links_through_its_own_sign_in_page(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    offer = parent.get("/children/link/test-oauth")
    assert "Войти на сайте" in offer.text and 'name="password"' not in offer.text
    away = parent.get("/children/link/test-oauth/authorize")
    target = urlsplit(away.headers["Location"])
    assert target.netloc == "fake.invalid"
    state = parse_qs(target.query)["state"][0]
    back = parent.get(f"/children/oauth/callback?code=good&state={state}")
    assert back.status_code == 303
    links = _links(fake_app)
    assert len(links) == 2
    with fake_app.app_context():
        [credential] = db.session.scalars(select(SchoolCredential)).all()
        assert services().vault.open_credentials(credential.secret) is None


def test_a_callback_with_another_state_links_nothing(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    parent.get("/children/link/test-oauth/authorize")
    back = parent.get("/children/oauth/callback?code=good&state=forged")
    assert back.status_code == 302
    assert _links(fake_app) == [] and school.calls["authorize"] == 0


def test_an_expired_partner_session_asks_the_parent_to_relink(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    away = parent.get("/children/link/test-oauth/authorize")
    state = parse_qs(urlsplit(away.headers["Location"]).query)["state"][0]
    parent.get(f"/children/oauth/callback?code=good&state={state}")
    school.expired_tokens.add("t1")
    page = parent.get(f"/child/{_links(fake_app)[0].id}")
    assert "не принимает" in page.text
    assert {link.status for link in _links(fake_app)} == {LinkStatus.RELINK_REQUIRED}
