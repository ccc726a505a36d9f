"""Web Push: subscriptions are checked and kept per browser; a person's due news goes to
each of their browsers as one message, encrypted to its keys (decrypted by the test push
service), signed with VAPID, with a Topic per record; 404/410 forget the browser, 429 waits."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from connectors.schema import Section
from gateway.models import ChildLink
from gateway.models import Notification
from gateway.models import PushSubscription
from gateway.models import User
from gateway.services import notify
from gateway.services import push
from gateway.services import records
from gateway.services.snapshots import aware
from tests.gateway.services.test_notify import NOON
from tests.gateway.services.test_notify import _changes
from tests.gateway.services.test_records import MONDAY
from tests.gateway.services.test_records import grade
from tests.gateway.services.test_records import make_link
from tests.support.push import Browser
from tests.support.push import PushService
from tests.support.push import b64

KEY = push.new_vapid_key()
SUBJECT = "mailto:dnevnik@example.ru"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture
def link(session: Session, engine: sa.Engine) -> ChildLink:
    found = session.get(ChildLink, make_link(engine))
    assert found is not None
    return found


@pytest.fixture
def http() -> requests.Session:
    return requests.Session()


def _pusher(http: requests.Session, ttl: int = 3600) -> push.Pusher:
    return push.Pusher(
        vapid=push.vapid_of(KEY),
        subject=SUBJECT,
        http=http,
        public_url="https://dnevnik.example.ru",
        ttl=ttl,
        timeout=5,
    )


def _subscribe(
    session: Session, user_id: int, browser: Browser, *, now: dt.datetime = NOON
) -> None:
    subscription = push.read_subscription(browser.subscription(), allow_http=True)
    push.subscribe(session, user_id, subscription, device="Chrome, Android", now=now)
    session.commit()


def _mark(session: Session, link: ChildLink, *marks: object) -> None:
    changes = _changes(session, link, list(marks), at=NOON)
    notify.plan(session, link, changes, now=NOON)
    session.commit()


# What a browser hands over ----------------------------------------------------------------


def test_a_browsers_subscription_is_read_with_its_keys() -> None:
    browser = Browser(endpoint="https://fcm.googleapis.com/fcm/send/abc")
    read = push.read_subscription(browser.subscription(), allow_http=False)
    assert read.endpoint == browser.endpoint
    assert read.auth == b64(browser.auth)


@pytest.mark.parametrize(
    ("change", "wrong"),
    [
        ({"endpoint": "http://push.example/1"}, "endpoint"),  # plain HTTP, not allowed
        ({"endpoint": "ftp://push.example/1"}, "endpoint"),
        ({"endpoint": "https:///nohost"}, "endpoint"),
        ({"endpoint": "https://p.example/" + "x" * 2100}, "endpoint"),
        ({"endpoint": 7}, "endpoint"),
        ({"keys": None}, "keys"),
        ({"keys": {"auth": b64(os.urandom(16))}}, "keys.p256dh"),
        (
            {"keys": {"p256dh": b64(b"\x04" + os.urandom(64)), "auth": b64(os.urandom(16))}},
            "keys.p256dh",
        ),
        ({"keys": {"p256dh": "!!not base64!!", "auth": b64(os.urandom(16))}}, "keys.p256dh"),
    ],
)
def test_a_subscription_with_a_bad_part_is_refused_by_name(
    change: dict[str, object], wrong: str
) -> None:
    data = Browser(endpoint="https://push.example/1").subscription() | change
    with pytest.raises(push.BadSubscription, match=f"^{wrong}$"):
        push.read_subscription(data, allow_http=False)


@pytest.mark.parametrize("auth", [b64(os.urandom(15)), b64(os.urandom(32)), "", 16])
def test_an_auth_secret_must_be_sixteen_bytes(auth: object) -> None:
    data = Browser(endpoint="https://push.example/1").subscription()
    data["keys"]["auth"] = auth
    with pytest.raises(push.BadSubscription, match="^keys.auth$"):
        push.read_subscription(data, allow_http=False)


def test_plain_http_is_read_where_allowed_and_anything_but_an_object_never() -> None:
    assert push.read_subscription(Browser("http://127.0.0.1:9/p").subscription(), allow_http=True)
    for junk in (None, [], "endpoint"):
        with pytest.raises(push.BadSubscription):
            push.read_subscription(junk, allow_http=True)


@pytest.mark.parametrize(
    ("agent", "name"),
    [
        (CHROME_ANDROID, "Chrome, Android"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox, Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "Safari, iPhone",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 YaBrowser/24.12 "
            "Safari/537.36",
            "Yandex Browser, Windows",
        ),
        ("", ""),
    ],
)
def test_a_device_is_named_for_its_owner(agent: str, name: str) -> None:
    assert push.device_name(agent) == name


def test_the_same_browser_subscribing_again_is_one_device_and_moves_with_its_owner(
    session: Session, link: ChildLink, engine: sa.Engine
) -> None:
    browser = Browser(endpoint="https://push.example/1")
    _subscribe(session, link.user_id, browser)
    tomorrow = NOON + dt.timedelta(days=1)
    _subscribe(session, link.user_id, browser, now=tomorrow)  # the page posts it at each visit
    [device] = push.devices_of(session, link.user_id)
    assert aware(device.created_at) == NOON  # listed «since» the first day
    other = session.get(ChildLink, make_link(engine, "s2"))
    assert other is not None
    _subscribe(session, other.user_id, browser, now=tomorrow)  # someone else signed in there
    assert push.devices_of(session, link.user_id) == []
    [moved] = push.devices_of(session, other.user_id)
    assert moved.endpoint == browser.endpoint and aware(moved.created_at) == tomorrow


# Planning -----------------------------------------------------------------------------------


def test_a_person_with_a_browser_and_an_address_hears_by_both(
    session: Session, link: ChildLink
) -> None:
    session.get(User, link.user_id).email = "maria@example.ru"  # type: ignore[union-attr]
    _subscribe(session, link.user_id, Browser(endpoint="https://push.example/1"))
    _mark(session, link, grade("g1", "2"))
    channels = session.scalars(select(Notification.channel).order_by(Notification.channel))
    assert list(channels) == ["email", "push"]


def test_a_person_without_an_address_still_hears_by_push(session: Session, link: ChildLink) -> None:
    _subscribe(session, link.user_id, Browser(endpoint="https://push.example/1"))
    _mark(session, link, grade("g1", "2"))
    assert list(session.scalars(select(Notification.channel))) == ["push"]


# Sending over HTTP to the test push service ---------------------------------------------------


def test_a_low_mark_reaches_the_browser_encrypted_to_its_keys_with_the_mark_itself(
    session: Session, link: ChildLink, push_service: PushService, http: requests.Session
) -> None:
    browser = push_service.browser()
    _subscribe(session, link.user_id, browser)
    _mark(session, link, grade("g1", "2", comment="Не готов к уроку"))
    assert push.send_due(session, pusher=_pusher(http, ttl=3600), now=NOON) == 1
    session.commit()
    [got] = push_service.to(browser)
    assert got.payload["title"] == "Child1: новая оценка"
    assert (
        got.payload["body"]
        == "Математика — новая оценка «2»: «Не готов к уроку», низкая, 7 декабря"
    )
    assert got.payload["url"] == f"https://dnevnik.example.ru/child/{link.id}?section=grades"
    [change] = session.scalars(select(Notification))
    assert got.topic == got.payload["tag"] and len(got.topic) == 32
    assert (got.ttl, got.urgency, got.vapid_subject) == (3600, "normal", SUBJECT)
    assert got.vapid_key == push.application_server_key(KEY)
    assert aware(change.sent_at) == NOON  # type: ignore[arg-type]
    [device] = push.devices_of(session, link.user_id)
    assert aware(device.last_sent_at) == NOON  # type: ignore[arg-type]
    assert push.send_due(session, pusher=_pusher(http), now=NOON) == 0  # told once


def test_a_burst_is_one_message_to_each_browser_without_a_topic(
    session: Session, link: ChildLink, push_service: PushService, http: requests.Session
) -> None:
    phone, laptop = push_service.browser(), push_service.browser()
    _subscribe(session, link.user_id, phone)
    _subscribe(session, link.user_id, laptop)
    _mark(session, link, *(grade(f"g{i}", "5", subject=f"Предмет {i}") for i in range(9)))
    assert push.send_due(session, pusher=_pusher(http), now=NOON) == 1
    for browser in (phone, laptop):
        [got] = push_service.to(browser)
        assert got.payload["title"] == "Дневник: новостей — 9 (Child1)"
        lines = got.payload["body"].split("\n")
        assert len(lines) == push.MAX_LINES + 1 and lines[-1] == "и ещё 3"
        assert got.topic is None and "tag" not in got.payload


def test_truancy_is_pushed_with_high_urgency(
    session: Session, link: ChildLink, push_service: PushService, http: requests.Session
) -> None:
    browser = push_service.browser()
    _subscribe(session, link.user_id, browser)
    absences = _changes(
        session,
        link,
        [Attendance(date=MONDAY, kind=AttendanceKind.UNEXCUSED, subject="Физика", lesson_number=3)],
        at=NOON,
        section=Section.ATTENDANCE,
    )
    notify.plan(session, link, absences, now=NOON)
    push.send_due(session, pusher=_pusher(http), now=NOON)
    [got] = push_service.to(browser)
    assert got.urgency == "high"
    assert "пропуск без уважительной причины" in got.payload["body"]


def test_a_mark_changed_while_the_phone_was_off_arrives_once_as_it_stands(
    session: Session, link: ChildLink, push_service: PushService, http: requests.Session
) -> None:
    browser = push_service.browser()
    _subscribe(session, link.user_id, browser)
    push_service.offline.add(push_service.name_of(browser))
    _mark(session, link, grade("g1", "3"))
    push.send_due(session, pusher=_pusher(http), now=NOON)
    later = NOON + dt.timedelta(minutes=20)
    changed = records.apply(
        session,
        link_id=link.id,
        section=Section.GRADES,
        window=None,
        records=[grade("g1", "4")],
        seen_at=later,
        baseline=False,
    )
    notify.plan(session, link, changed, now=later)
    push.send_due(session, pusher=_pusher(http), now=later)
    push_service.come_online(browser)
    [got] = push_service.to(browser)  # the same Topic: the first was replaced while held
    assert got.payload["body"].startswith("Математика — оценку исправили: «3» → «4»")


def test_a_browser_the_push_service_forgot_is_deleted_and_its_news_given_up(
    session: Session, link: ChildLink, push_service: PushService, http: requests.Session
) -> None:
    browser = push_service.browser()
    _subscribe(session, link.user_id, browser)
    push_service.answers[push_service.name_of(browser)] = (410, None)
    _mark(session, link, grade("g1", "2"))
    assert push.send_due(session, pusher=_pusher(http), now=NOON) == 0
    session.commit()
    assert session.scalar(select(func.count()).select_from(PushSubscription)) == 0
    [given_up] = session.scalars(select(Notification))
    assert given_up.sent_at is None and given_up.attempts == notify.MAX_ATTEMPTS


def test_one_browser_gone_and_another_reached_is_told(
    session: Session, link: ChildLink, push_service: PushService, http: requests.Session
) -> None:
    gone, phone = push_service.browser(), push_service.browser()
    _subscribe(session, link.user_id, gone)
    _subscribe(session, link.user_id, phone)
    push_service.answers[push_service.name_of(gone)] = (404, None)
    _mark(session, link, grade("g1", "2"))
    assert push.send_due(session, pusher=_pusher(http), now=NOON) == 1
    assert [d.endpoint for d in push.devices_of(session, link.user_id)] == [phone.endpoint]
    assert len(push_service.to(phone)) == 1


def test_a_busy_push_service_is_asked_again_after_its_retry_after(
    session: Session, link: ChildLink, push_service: PushService, http: requests.Session
) -> None:
    browser = push_service.browser()
    _subscribe(session, link.user_id, browser)
    name = push_service.name_of(browser)
    push_service.answers[name] = (429, 900)
    _mark(session, link, grade("g1", "2"))
    assert push.send_due(session, pusher=_pusher(http), now=NOON) == 0
    [waiting] = session.scalars(select(Notification))
    assert waiting.attempts == 1 and aware(waiting.due_at) == NOON + dt.timedelta(seconds=900)
    assert push.send_due(session, pusher=_pusher(http), now=NOON + dt.timedelta(minutes=5)) == 0
    del push_service.answers[name]
    assert push.send_due(session, pusher=_pusher(http), now=NOON + dt.timedelta(minutes=15)) == 1
    assert len(push_service.to(browser)) == 1


def test_an_unreachable_push_service_is_tried_again_later(
    session: Session, link: ChildLink, http: requests.Session
) -> None:
    _subscribe(session, link.user_id, Browser(endpoint="http://127.0.0.1:9/push/x"))
    _mark(session, link, grade("g1", "2"))
    assert push.send_due(session, pusher=_pusher(http), now=NOON) == 0
    [waiting] = session.scalars(select(Notification))
    assert waiting.attempts == 1 and waiting.sent_at is None
    assert push.devices_of(session, link.user_id) != []  # not the browser's fault


def test_removing_the_last_browser_drops_its_unsent_pushes(
    session: Session, link: ChildLink
) -> None:
    session.get(User, link.user_id).email = "maria@example.ru"  # type: ignore[union-attr]
    _subscribe(session, link.user_id, Browser(endpoint="https://push.example/1"))
    _mark(session, link, grade("g1", "2"))
    [device] = push.devices_of(session, link.user_id)
    assert push.forget(session, link.user_id, device_id=device.id)
    assert not push.forget(session, link.user_id, device_id=device.id)
    assert list(session.scalars(select(Notification.channel))) == ["email"]


def test_a_payload_too_long_for_a_push_is_shortened() -> None:
    long = push.Message(
        title="t",
        lines=tuple("Очень длинный текст " * 40 for _ in range(5)),
        url="u",
        topic=None,
        urgent=False,
    )
    assert len(long.payload().encode()) <= push.MAX_PAYLOAD
