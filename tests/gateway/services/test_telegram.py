"""Telegram over HTTP to the Bot API stand-in: a one-time deep-link token binds the chat that
sends it; a person's due news is one message saying what happened (marks only with details
on); a blocked bot deactivates the chat; 429 waits its retry_after; the pace stays under
Telegram's limits."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import ChildLink
from gateway.models import Notification
from gateway.models import NotificationSettings
from gateway.models import TelegramBinding
from gateway.models import TelegramChat
from gateway.services import notify
from gateway.services import telegram
from gateway.services.snapshots import aware
from tests.gateway.services.test_notify import NOON
from tests.gateway.services.test_notify import _changes
from tests.gateway.services.test_records import grade
from tests.gateway.services.test_records import make_link
from tests.support.bot import Bot

PREFERENCES = "https://dnevnik.example.ru/notifications/"
CHAT = 5001


@pytest.fixture
def link(session: Session, engine: sa.Engine) -> ChildLink:
    found = session.get(ChildLink, make_link(engine))
    assert found is not None
    return found


@pytest.fixture
def api(bot: Bot) -> telegram.BotApi:
    return telegram.BotApi(base_url=bot.url, token=bot.token, http=requests.Session(), timeout=5)


def _telegraph(api: telegram.BotApi, per_second: float = 25) -> telegram.Telegraph:
    return telegram.Telegraph(
        api=api, public_url="https://dnevnik.example.ru", per_second=per_second
    )


def _receive(session: Session, api: telegram.BotApi, now: dt.datetime = NOON) -> int:
    bound = telegram.receive(session, api=api, preferences_url=PREFERENCES, now=now)
    session.commit()
    return bound


def _bound(
    session: Session, bot: Bot, api: telegram.BotApi, user_id: int, chat: int = CHAT
) -> None:
    token = telegram.start_binding(session, user_id, now=NOON)
    session.commit()
    bot.press_start(telegram.deep_link(bot.url, bot.username, token), chat_id=chat)
    assert _receive(session, api) == 1


def test_a_deep_link_binds_the_chat_that_starts_it_once(
    session: Session, link: ChildLink, bot: Bot, api: telegram.BotApi
) -> None:
    token = telegram.start_binding(session, link.user_id, now=NOON)
    session.commit()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)  # Telegram's start parameter alphabet
    assert token not in {b.digest for b in session.scalars(select(TelegramBinding))}
    deep = telegram.deep_link("https://t.me", "diary_gateway_bot", token)
    assert deep == f"https://t.me/diary_gateway_bot?start={token}"
    bot.press_start(deep, first_name="Мария")
    assert _receive(session, api) == 1
    chat = session.get(TelegramChat, link.user_id)
    assert chat is not None and (chat.chat_id, chat.name, chat.active) == (CHAT, "Мария", True)
    assert bot.to(CHAT)[0].startswith("Готово: сюда будут приходить уведомления")
    assert _receive(session, api) == 0  # the update is confirmed, not read twice
    bot.press_start(deep, chat_id=6002)  # the same link again, from another chat
    assert _receive(session, api) == 0
    assert session.get(TelegramChat, link.user_id).chat_id == CHAT  # type: ignore[union-attr]
    assert bot.to(6002)[0].startswith("Эта ссылка уже не работает.")


def test_an_expired_or_unknown_token_and_a_bare_start_bind_nothing(
    session: Session, link: ChildLink, bot: Bot, api: telegram.BotApi
) -> None:
    token = telegram.start_binding(session, link.user_id, now=NOON)
    session.commit()
    bot.press_start(telegram.deep_link(bot.url, bot.username, token))
    later = NOON + dt.timedelta(minutes=telegram.BINDING_MINUTES, seconds=1)
    assert _receive(session, api, later) == 0
    bot.press_start(f"{bot.url}/x?start=made-up-token", chat_id=6003)
    bot.press_start(f"{bot.url}/x?start=", chat_id=6004)
    assert _receive(session, api) == 0
    assert session.scalars(select(TelegramChat)).all() == []
    assert bot.to(CHAT)[0].startswith("Эта ссылка уже не работает.")
    assert bot.to(6003)[0].startswith("Эта ссылка уже не работает.")
    assert bot.to(6004)[0].startswith("Чтобы получать уведомления, нажмите")


def test_a_new_link_voids_the_persons_earlier_one(
    session: Session, link: ChildLink, bot: Bot, api: telegram.BotApi
) -> None:
    first = telegram.start_binding(session, link.user_id, now=NOON)
    telegram.start_binding(session, link.user_id, now=NOON)
    session.commit()
    bot.press_start(telegram.deep_link(bot.url, bot.username, first))
    assert _receive(session, api) == 0


def test_a_mark_is_one_message_that_says_what_happened_and_links_to_it(
    session: Session, link: ChildLink, bot: Bot, api: telegram.BotApi
) -> None:
    _bound(session, bot, api, link.user_id)
    notify.plan(
        session,
        link,
        _changes(session, link, [grade("g1", "2", comment="Не готов")], at=NOON),
        now=NOON,
    )
    session.commit()
    assert list(session.scalars(select(Notification.channel))) == ["telegram"]
    assert telegram.send_due(session, telegraph=_telegraph(api), now=NOON) == 1
    session.commit()
    text = bot.to(CHAT)[-1]
    assert text.startswith("Child1: новая оценка\n")
    assert "• Математика — новая оценка, низкая, 7 декабря" in text
    assert "«2»" not in text and "Не готов" not in text  # details are off
    assert f"Открыть: https://dnevnik.example.ru/child/{link.id}?section=grades" in text
    assert text.endswith(f"Настройки уведомлений: {PREFERENCES}")
    [sent] = session.scalars(select(Notification))
    assert aware(sent.sent_at) == NOON  # type: ignore[arg-type]
    assert telegram.send_due(session, telegraph=_telegraph(api), now=NOON) == 0


def test_with_details_on_the_message_carries_the_mark_and_comment(
    session: Session, link: ChildLink, bot: Bot, api: telegram.BotApi
) -> None:
    _bound(session, bot, api, link.user_id)
    session.add(
        NotificationSettings(
            user_id=link.user_id,
            quiet_from=dt.time(21),
            quiet_until=dt.time(8),
            digest_at=dt.time(19),
            details=True,
        )
    )
    notify.plan(
        session,
        link,
        _changes(session, link, [grade("g1", "2", comment="Не готов")], at=NOON),
        now=NOON,
    )
    telegram.send_due(session, telegraph=_telegraph(api), now=NOON)
    assert "новая оценка «2»: «Не готов», низкая" in bot.to(CHAT)[-1]


def test_a_blocked_bot_deactivates_the_chat_and_plans_no_more(
    session: Session, link: ChildLink, bot: Bot, api: telegram.BotApi
) -> None:
    _bound(session, bot, api, link.user_id)
    requests.post(f"{bot.url}/__admin/chats/{CHAT}/block", timeout=5).raise_for_status()
    notify.plan(session, link, _changes(session, link, [grade("g1", "2")], at=NOON), now=NOON)
    assert telegram.send_due(session, telegraph=_telegraph(api), now=NOON) == 0
    session.commit()
    assert session.get(TelegramChat, link.user_id).active is False  # type: ignore[union-attr]
    [given_up] = session.scalars(select(Notification))
    assert given_up.attempts == notify.MAX_ATTEMPTS and given_up.sent_at is None
    later = NOON + dt.timedelta(minutes=5)
    changes = _changes(session, link, [grade("g2", "5")], at=later)
    assert notify.plan(session, link, changes, now=later) == 0  # no channel left


def test_too_many_requests_waits_its_retry_after_and_ends_the_round(
    session: Session, engine: sa.Engine, link: ChildLink, bot: Bot, api: telegram.BotApi
) -> None:
    other = session.get(ChildLink, make_link(engine, "s2"))
    assert other is not None
    _bound(session, bot, api, link.user_id)
    _bound(session, bot, api, other.user_id, chat=CHAT + 1)
    for child in (link, other):
        notify.plan(session, child, _changes(session, child, [grade("g1", "2")], at=NOON), now=NOON)
    session.commit()
    requests.post(f"{bot.url}/__admin/flood", json={"count": 1, "retry_after": 7}, timeout=5)
    assert telegram.send_due(session, telegraph=_telegraph(api), now=NOON) == 0
    rows = session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert [(n.attempts, aware(n.due_at)) for n in rows] == [
        (1, NOON + dt.timedelta(seconds=60)),  # at least 7 s: the first backoff is a minute
        (0, NOON),  # not tried this round
    ]
    assert telegram.send_due(session, telegraph=_telegraph(api), now=NOON) == 1
    later = NOON + dt.timedelta(seconds=61)
    assert telegram.send_due(session, telegraph=_telegraph(api), now=later) == 1


def _forty_people(session: Session, engine: sa.Engine, bot: Bot) -> None:
    """Forty parents whose chats are bound already (no welcome replies in the way)."""
    links = [make_link(engine, f"p{number}") for number in range(40)]
    for number, link_id in enumerate(links):
        child = session.get(ChildLink, link_id)
        assert child is not None
        chat = 7000 + number
        session.add(TelegramChat(user_id=child.user_id, chat_id=chat, name="P", bound_at=NOON))
        bot.state.names[chat] = "P"
        notify.plan(session, child, _changes(session, child, [grade("g1", "4")], at=NOON), now=NOON)
    session.commit()


def test_forty_people_at_once_stay_under_telegrams_thirty_a_second(
    session: Session, engine: sa.Engine, bot: Bot, api: telegram.BotApi
) -> None:
    _forty_people(session, engine, bot)
    assert telegram.send_due(session, telegraph=_telegraph(api, per_second=25), now=NOON) == 40
    assert bot.state.too_many == 0


def test_unpaced_the_stand_in_refuses_beyond_thirty_a_second(
    session: Session, engine: sa.Engine, bot: Bot, api: telegram.BotApi
) -> None:
    _forty_people(session, engine, bot)
    sent = telegram.send_due(session, telegraph=_telegraph(api, per_second=10_000), now=NOON)
    assert sent < 40 and bot.state.too_many == 1  # the round ended at the first 429


def test_unbinding_drops_what_was_still_to_be_sent(
    session: Session, link: ChildLink, bot: Bot, api: telegram.BotApi
) -> None:
    _bound(session, bot, api, link.user_id)
    notify.plan(session, link, _changes(session, link, [grade("g1", "2")], at=NOON), now=NOON)
    assert telegram.unbind(session, link.user_id)
    assert not telegram.unbind(session, link.user_id)
    session.commit()
    assert session.scalars(select(Notification)).all() == []


def test_the_bot_token_never_reaches_an_error(bot: Bot) -> None:
    api = telegram.BotApi(
        base_url="http://127.0.0.1:9", token="secret:token", http=requests.Session(), timeout=1
    )
    with pytest.raises(telegram.BotError) as err:
        api.call("getMe")
    assert err.value.status is None and "secret" not in str(err.value)
    wrong = telegram.BotApi(base_url=bot.url, token="wrong", http=requests.Session(), timeout=5)
    with pytest.raises(telegram.BotError) as refused:
        wrong.call("getMe")
    assert refused.value.status == 401
