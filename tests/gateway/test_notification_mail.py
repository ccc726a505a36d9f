"""A teacher's «2» reaches the parent's mailbox: sync, plan, one letter over real SMTP with
RFC 8058 one-click unsubscribe; a burst is one letter; quiet hours hold it till morning."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway import jobs
from gateway.extensions import db
from gateway.models import NotificationSettings
from gateway.services import dispatch
from tests.gateway.clock import Clock
from tests.gateway.clock import pin_clock
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade
from tests.gateway.notification_pages import filled
from tests.gateway.sync.helpers import drain
from tests.gateway.sync.helpers import due_now
from tests.gateway.sync.helpers import link_children
from tests.support.smtp import Inbox

NOON = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)  # 12:00 in Moscow
TODAY = dt.date(2026, 12, 3)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return pin_clock(monkeypatch, NOON)


@pytest.fixture
def maria(fake_app: Flask, smtp: Inbox, clock: Clock) -> FlaskClient:
    """A parent with an e-mail address, her children linked and their baseline synced."""
    fake_app.config["SMTP_URL"] = smtp.url
    person = make_parent(fake_app, "maria", "Иванова Мария", email="maria@example.ru")
    client = signed_in(fake_app, person, now=NOON)
    link_children(client, fake_app)
    drain(fake_app)
    return client


def _sync(app: Flask, clock: Clock, *, minutes: int = 20) -> None:
    clock.advance(minutes=minutes)
    due_now(app, clock.at)
    drain(app)


def _send(app: Flask) -> int:
    with app.app_context():
        return jobs.send_notifications()


def test_a_low_mark_arrives_as_one_letter_with_one_click_unsubscribe(
    maria: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, smtp: Inbox
) -> None:
    assert _send(fake_app) == 0  # the baseline is not news
    grade(school.grades["s1"], id="m1", value="2", numeric=2.0, date=TODAY, comment="Не готов")
    _sync(fake_app, clock)
    assert _send(fake_app) == 1
    assert _send(fake_app) == 0  # sent once
    [letter] = smtp.messages
    assert letter["To"] == "Иванова Мария <maria@example.ru>"
    assert letter["Subject"] == "Child1: новая оценка"
    body = letter.get_content()
    assert "Математика — новая оценка, низкая, 3 декабря" in body
    assert "Не готов" not in body and "«2»" not in body  # marks only when turned on
    assert "http://localhost/child/" in body and "http://localhost/notifications/" in body
    assert letter["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    target = letter["List-Unsubscribe"].strip("<>")
    assert target.startswith("http://localhost/notifications/unsubscribe/")
    # What a mail client's button does: POST, no cookie, no CSRF token.
    anonymous = fake_app.test_client()
    reply = anonymous.post(
        target.removeprefix("http://localhost"), data="List-Unsubscribe=One-Click"
    )
    assert reply.status_code == 200 and "Вы отписались от писем" in reply.text
    grade(school.grades["s1"], id="m2", value="5", numeric=5.0, date=TODAY)
    _sync(fake_app, clock)
    assert _send(fake_app) == 0 and len(smtp.messages) == 1


def test_twelve_marks_after_the_holidays_are_one_letter(
    maria: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, smtp: Inbox
) -> None:
    for number in range(12):
        grade(school.grades["s1"], id=f"h{number}", value="4", numeric=4.0, date=TODAY)
    grade(school.grades["s2"], id="p1", value="5", numeric=5.0, date=TODAY)
    _sync(fake_app, clock)
    assert _send(fake_app) == 1
    [letter] = smtp.messages
    assert letter["Subject"] == "Дневник: новостей — 13 (Child1, Child2)"
    body = letter.get_content()
    assert body.count("новая оценка") == 13 and "Child1:" in body and "Child2:" in body


def test_quiet_hours_hold_the_letter_till_morning(
    maria: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, smtp: Inbox
) -> None:
    clock.advance(hours=11)  # 23:00 in Moscow
    grade(school.grades["s1"], id="late", value="3", numeric=3.0, date=TODAY)
    _sync(fake_app, clock, minutes=1)
    assert _send(fake_app) == 0
    clock.advance(hours=9)  # 08:01
    assert _send(fake_app) == 1 and smtp.messages[0]["Subject"] == "Child1: новая оценка"


def test_with_details_on_the_letter_carries_the_mark_and_the_comment(
    maria: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, smtp: Inbox
) -> None:
    _save(maria, details="y")
    grade(school.grades["s1"], id="m1", value="2", numeric=2.0, date=TODAY, comment="Не готов")
    _sync(fake_app, clock)
    _send(fake_app)
    body = smtp.messages[0].get_content()
    assert "Математика — новая оценка «2»: «Не готов», низкая, 3 декабря" in body


def _save(client: FlaskClient, **fields: str) -> None:
    reply = client.post(
        "/notifications/", data=filled(client.get("/notifications/").text, **fields)
    )
    assert reply.status_code == 303, reply.text


def test_a_mail_server_that_refuses_is_tried_again_later(
    maria: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, smtp: Inbox
) -> None:
    grade(school.grades["s1"], id="m1", value="4", numeric=4.0, date=TODAY)
    _sync(fake_app, clock)
    smtp.refuse = True
    assert _send(fake_app) == 0
    smtp.refuse = False
    assert _send(fake_app) == 0  # waits a minute before the next try
    clock.advance(minutes=2)
    assert _send(fake_app) == 1


def test_the_unsubscribe_link_asks_on_get_and_refuses_a_forged_or_orphaned_token(
    fake_app: Flask,
) -> None:
    person = make_parent(fake_app, "maria", "Иванова Мария", email="maria@example.ru")
    token = dispatch.unsubscribe_token(fake_app.config["SECRET_KEY"], person)
    client = fake_app.test_client()
    page = client.get(f"/notifications/unsubscribe/{token}")
    assert page.status_code == 200 and "Отписаться от писем?" in page.text
    with fake_app.app_context():
        assert db.session.get(NotificationSettings, person) is None  # a GET changes nothing
    forged = dispatch.unsubscribe_token("another-secret", person)
    assert client.post(f"/notifications/unsubscribe/{forged}").status_code == 404
    gone = dispatch.unsubscribe_token(fake_app.config["SECRET_KEY"], person + 1000)
    assert client.post(f"/notifications/unsubscribe/{gone}").status_code == 404
    assert client.post(f"/notifications/unsubscribe/{token}").status_code == 200
    with fake_app.app_context():
        assert db.session.get(NotificationSettings, person).email is False  # type: ignore[union-attr]
