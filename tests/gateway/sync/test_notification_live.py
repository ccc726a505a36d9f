"""Over HTTP end to end: a teacher gives Максим a «2» at the NetSchool emulator, the sync
reads it, and Ирина's letter reaches a real SMTP server, her phone's push reaches the push
service, which decrypts it with the phone's keys, and her Telegram chat gets the bot's message
at the Bot API stand-in; his grandmother, who may see his timetable only, hears nothing of
marks by any of them."""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import re
import time
import typing as t
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.schema import Section
from gateway import jobs
from gateway.background import QUEUES
from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import NotificationSettings
from gateway.models import Queue
from gateway.models import User
from gateway.runtime import send_news_soon
from gateway.runtime import services
from gateway.services import trust
from regional_mock.day_client import DayClient
from regional_mock.world import demo_today
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.demo_children import IRINA
from tests.gateway.demo_children import link_child
from tests.gateway.sync.helpers import drain
from tests.gateway.sync.helpers import due_now
from tests.support.bot import Bot
from tests.support.idp import sign_in
from tests.support.push import PushService
from tests.support.smtp import Inbox


@pytest.fixture
def gateway(make_stack_app: t.Callable[..., Flask], smtp: Inbox, bot: Bot) -> Flask:
    return make_stack_app(WTF_CSRF_ENABLED=False, SMTP_URL=smtp.url, **bot.settings())


def _telegram_bound(client: FlaskClient, app: Flask, bot: Bot, chat_id: int) -> None:
    """Connect Telegram from the preferences page and press «Start» on the link."""
    page = client.post("/notifications/telegram/connect").text
    link = re.search(r'<a class="button" href="([^"]+)"', page)
    assert link is not None
    bot.press_start(html.unescape(link[1]), chat_id=chat_id)
    with app.app_context():
        assert jobs.receive_telegram() == 1


def _granny_sees_the_timetable(app: Flask, link_id: int) -> int:
    """Invite Максим's grandmother to his timetable only; she accepts; return her id."""
    granny = make_parent(app, "granny", "Смирнова Галина Ивановна", email="g@example.test")
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        link = db.session.get(ChildLink, link_id)
        assert link is not None
        invitation = trust.Invitation(
            name="Смирнова Галина Ивановна",
            phone=None,
            email="g@example.test",
            scopes={link_id: {Section.SCHEDULE}},
            ends_on=None,
        )
        owner = db.session.get(User, link.user_id)
        grant, _ = trust.invite(
            db.session, owner, invitation, now=now, accept_url="/{token}", vault=services().vault
        )
        person = db.session.get(User, granny)
        trust.accept(db.session, grant, person, now=now, delay=dt.timedelta())  # type: ignore[arg-type]
        db.session.commit()
    return granny


def _no_quiet_hours(app: Flask) -> None:
    """The wall clock runs these tests at any hour: no quiet hours, or 23:00 would wait."""
    with app.app_context():
        parent = db.session.scalars(select(User).where(User.email.like("irina%"))).one()
        db.session.add(
            NotificationSettings(
                user_id=parent.id,
                quiet_from=dt.time(0),
                quiet_until=dt.time(0),
                digest_at=dt.time(19),
            )
        )
        db.session.commit()


def _a_two_for_maxim(demo_world: t.Any, netschool_day: DayClient) -> None:
    """The teacher gives Максим a «2» for his latest lesson, at the NetSchool emulator."""
    student = demo_world.student_by_name("Смирнов Максим Дмитриевич")
    today = demo_today()
    taught = max(
        (x for x in demo_world.lessons_of(student.id, today - dt.timedelta(days=6), today)),
        key=lambda x: (x.date, x.number),
    )
    netschool_day.add_mark(student="Максим", lesson_id=taught.id, value=2, comment="Не готов")


def test_a_teachers_two_reaches_the_parents_mailbox_and_phone_and_not_the_grannys(
    gateway: Flask,
    netschool_day: DayClient,
    demo_world: t.Any,
    smtp: Inbox,
    push_service: PushService,
    bot: Bot,
) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    child = link_child(gateway, client, "netschool")
    drain(gateway)
    granny = _granny_sees_the_timetable(gateway, child)
    phone, grannys_phone = push_service.browser(), push_service.browser()
    assert client.post("/notifications/push", json=phone.subscription()).status_code == 201
    grannys = signed_in(gateway, granny)
    assert grannys.post("/notifications/push", json=grannys_phone.subscription()).status_code == 201
    _telegram_bound(client, gateway, bot, chat_id=5001)
    _telegram_bound(grannys, gateway, bot, chat_id=5002)
    _no_quiet_hours(gateway)
    with gateway.app_context():
        assert jobs.send_notifications() == 0  # the baseline and the school year are not news

    _a_two_for_maxim(demo_world, netschool_day)
    due_now(gateway)
    drain(gateway)
    with gateway.app_context():
        assert jobs.send_notifications() == 3  # a letter, a push and a Telegram message
    [told] = [text for text in bot.to(5001) if "новая оценка" in text]
    assert "новая оценка, низкая" in told and "«2»" not in told  # details are off
    assert f"/child/{child}?section=grades" in told
    assert [text for text in bot.to(5002) if "оценка" in text] == []
    [pushed] = push_service.to(phone)
    assert pushed.payload["title"].endswith(": новая оценка")
    assert "«2»: «Не готов», низкая" in pushed.payload["body"]  # a push carries the mark
    assert pushed.payload["url"].endswith(f"/child/{child}?section=grades")
    assert push_service.to(grannys_phone) == []
    [letter] = smtp.messages
    assert letter["To"].endswith("<irina.smirnova@example.test>")
    assert letter["Subject"].endswith(": новая оценка")
    assert "новая оценка, низкая" in letter.get_content()
    assert letter["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with gateway.app_context():
        names = set(db.session.scalars(select(User.email)))
    assert "g@example.test" in names  # she exists, and got nothing


@contextlib.contextmanager
def _worker(app: Flask) -> Iterator[None]:
    """A real Celery worker on the app's broker, and no beat: no round sends anything."""
    with start_worker(
        app.extensions["celery"],
        pool="threads",
        concurrency=2,
        queues=list(QUEUES),
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=20,
    ):
        yield


def _until(check: t.Callable[[], bool], what: str, wait: float = 60.0) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {wait:.0f} s: {what}")


def test_a_refresh_that_finds_a_two_has_the_letter_sent_at_once(
    make_stack_app: t.Callable[..., Flask],
    smtp: Inbox,
    netschool_day: DayClient,
    demo_world: t.Any,
) -> None:
    app = make_stack_app(
        WTF_CSRF_ENABLED=False, SMTP_URL=smtp.url, DIARY_REFRESH_DEBOUNCE_SECONDS=0
    )
    client = app.test_client()
    sign_in(client, *IRINA)
    child = link_child(app, client, "netschool")
    drain(app)
    _no_quiet_hours(app)
    _a_two_for_maxim(demo_world, netschool_day)
    with _worker(app):
        reply = client.post(f"/child/{child}/refresh", data={"page": "child", "section": "grades"})
        assert reply.status_code == 303
        _until(lambda: bool(smtp.messages), "the letter, sent by the worker the refresh asked")
    [letter] = smtp.messages
    assert letter["Subject"].endswith(": новая оценка")


def test_a_scheduled_sync_that_finds_a_two_has_the_letter_sent_at_once(
    make_stack_app: t.Callable[..., Flask],
    smtp: Inbox,
    netschool_day: DayClient,
    demo_world: t.Any,
) -> None:
    app = make_stack_app(WTF_CSRF_ENABLED=False, SMTP_URL=smtp.url)
    client = app.test_client()
    sign_in(client, *IRINA)
    link_child(app, client, "netschool")
    drain(app)
    _no_quiet_hours(app)
    _a_two_for_maxim(demo_world, netschool_day)
    due_now(app)
    with _worker(app):
        app.extensions["celery"].send_task(jobs.TICK, queue=Queue.SCHEDULED.value)
        _until(lambda: bool(smtp.messages), "the letter, sent by the worker the sync asked")
    [letter] = smtp.messages
    assert letter["Subject"].endswith(": новая оценка")


def test_a_broker_that_cannot_take_the_send_leaves_it_to_the_round(
    make_app: t.Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(BROKER_URL="redis://127.0.0.1:9/0")  # nothing listens there
    with app.app_context():
        send_news_soon()  # no exception: the beat's round sends it
    assert "left to the next round" in caplog.text
