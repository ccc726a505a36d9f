"""Telegram: a person binds a chat with the gateway's bot, and hears of news there.

Binding never puts a credential in a link: the preferences page makes a one-time token
(only its SHA-256 is stored, valid for ``BINDING_MINUTES``) and shows the deep link
``t.me/<bot>?start=<token>``; pressing «Start» in Telegram sends the bot ``/start <token>``,
which the gateway reads with getUpdates and binds to that chat. The sender writes each
person's due news as one message, saying what happened and linking to it (marks and
comments only when the person turned details on), paced under Telegram's limits (about 30
messages a second overall; one message per chat a round). A 403 (the person blocked the
bot) deactivates the chat; a 429 waits the ``retry_after`` it names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
import time
import typing as t
from collections.abc import Callable
from collections.abc import Sequence

import requests
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import ChildLink
from gateway.models import Notification
from gateway.models import NotificationSettings
from gateway.models import RecordChange
from gateway.models import TelegramBinding
from gateway.models import TelegramChat
from gateway.models import TelegramCursor
from gateway.services import letters
from gateway.services import notify
from gateway.services import upserts
from gateway.services.news import SECTION_OF
from gateway.services.news import NewsKind

log = logging.getLogger(__name__)
BINDING_MINUTES = 15
MAX_TEXT = 4096
CURSOR_ROW = 1


class BotError(Exception):
    """The Bot API refused a call or could not be reached."""

    def __init__(self, status: int | None, description: str, retry_after: int = 0) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True, slots=True)
class BotApi:
    """The Bot API at ``base_url`` (Telegram's, or a stand-in) for the bot of ``token``."""

    base_url: str
    token: str
    http: requests.Session
    timeout: float

    def call(self, method: str, **params: t.Any) -> t.Any:
        """Call a method; return its ``result``.

        :raise BotError: with the status and ``retry_after`` of a refusal, or no status
            when the API did not answer.
        """
        url = f"{self.base_url}/bot{self.token}/{method}"
        try:
            answer = self.http.post(url, json=params, timeout=self.timeout)
            body = answer.json()
        except (requests.RequestException, ValueError) as err:
            # The URL holds the bot's token: never in a log line.
            raise BotError(None, type(err).__name__) from None
        if not isinstance(body, dict) or not body.get("ok"):
            body = body if isinstance(body, dict) else {}
            parameters = body.get("parameters") or {}
            raise BotError(
                int(body.get("error_code") or answer.status_code),
                str(body.get("description") or answer.reason),
                int(parameters.get("retry_after") or 0),
            )
        return body["result"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_binding(session: Session, user_id: int, *, now: dt.datetime) -> str:
    """Make a person's one-time binding token (their earlier ones stop working)."""
    session.execute(delete(TelegramBinding).where(TelegramBinding.user_id == user_id))
    token = secrets.token_urlsafe(24)  # 32 characters of the deep link's alphabet
    session.add(
        TelegramBinding(
            digest=_digest(token),
            user_id=user_id,
            expires_at=now + dt.timedelta(minutes=BINDING_MINUTES),
        )
    )
    return token


def deep_link(link_url: str, bot: str, token: str) -> str:
    """Return ``https://t.me/<bot>?start=<token>``, on the configured link host."""
    return f"{link_url.rstrip('/')}/{bot}?start={token}"


def chat_of(session: Session, user_id: int) -> TelegramChat | None:
    """Return the person's bound chat, if any."""
    return session.get(TelegramChat, user_id)


def unbind(session: Session, user_id: int) -> bool:
    """Forget a person's chat and drop what was still to be sent there."""
    removed = session.execute(
        delete(TelegramChat)
        .where(TelegramChat.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    notify.drop_unsent(session, user_id, channel=notify.TELEGRAM)
    return bool(getattr(removed, "rowcount", 0))


BOUND = (
    "Готово: сюда будут приходить уведомления из дневников. "
    "Что и когда присылать — в настройках уведомлений: {preferences}"
)
STALE = (
    "Эта ссылка уже не работает. Откройте настройки уведомлений и нажмите "
    "«Подключить Telegram» ещё раз: {preferences}"
)
HELLO = "Чтобы получать уведомления, нажмите «Подключить Telegram» в настройках: {preferences}"


def receive(session: Session, *, api: BotApi, preferences_url: str, now: dt.datetime) -> int:
    """Read the bot's new updates and bind every chat that sent a valid ``/start`` token;
    return how many were bound. The caller commits (the offset moves with the bindings)."""
    cursor = session.get(TelegramCursor, CURSOR_ROW)
    offset = cursor.next_update if cursor is not None else 0
    updates = api.call("getUpdates", offset=offset, timeout=0, allowed_updates=["message"])
    bound = 0
    for update in updates:
        offset = max(offset, int(update["update_id"]) + 1)
        message = update.get("message") or {}
        chat = message.get("chat") or {}
        text = str(message.get("text") or "")
        if chat.get("type") != "private" or not text.startswith("/start"):
            continue
        token = text.removeprefix("/start").strip()
        person = _redeem(session, token, now=now) if token else None
        if person is None:
            reply = (STALE if token else HELLO).format(preferences=preferences_url)
        else:
            _bind(session, person, int(chat["id"]), str(chat.get("first_name") or ""), now=now)
            reply = BOUND.format(preferences=preferences_url)
            bound += 1
        try:
            api.call("sendMessage", chat_id=chat["id"], text=reply)
        except BotError as err:
            log.warning("the bot could not answer a /start: %s", err.status)
    session.execute(
        upserts.insert(session, TelegramCursor)
        .values(id=CURSOR_ROW, next_update=offset)
        .on_conflict_do_update(index_elements=["id"], set_={"next_update": offset})
    )
    return bound


def _redeem(session: Session, token: str, *, now: dt.datetime) -> int | None:
    """Use a binding token up; return whose it was, or None when unknown or expired."""
    binding = session.get(TelegramBinding, _digest(token))
    if binding is None:
        return None
    session.delete(binding)
    expires = binding.expires_at
    if expires.tzinfo is None:  # SQLite gives back naive UTC
        expires = expires.replace(tzinfo=dt.UTC)
    return binding.user_id if expires > now else None


def _bind(session: Session, user_id: int, chat_id: int, name: str, *, now: dt.datetime) -> None:
    values = {"chat_id": chat_id, "name": name[:64], "active": True, "bound_at": now}
    session.execute(
        upserts.insert(session, TelegramChat)
        .values(user_id=user_id, **values)
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
    )


def text_of(items: Sequence[letters.Item], *, details: bool, links: letters.Links) -> str:
    """Write one message of a person's due news: what happened, per child, with links."""
    lines = [letters.subject(items), ""]
    by_child: dict[int, list[letters.Item]] = {}
    for item in items:
        by_child.setdefault(item.link.id, []).append(item)
    for group in by_child.values():
        lines.append(f"{group[0].link.display_name}:")
        lines += [f"• {letters.line(item, details=details)}" for item in group]
        section = SECTION_OF[NewsKind(group[0].notification.kind)].value
        lines += [f"Открыть: {links.child(group[0].link.id, section)}", ""]
    lines.append(f"Настройки уведомлений: {links.preferences}")
    text = "\n".join(lines)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


@dataclasses.dataclass(frozen=True, slots=True)
class Telegraph:
    """What sending needs: the API, the pages' address, the pace, a clock to pace by."""

    api: BotApi
    public_url: str
    per_second: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def links(self) -> letters.Links:
        """Return the addresses a message links to."""
        base = self.public_url
        return letters.Links(
            child=lambda link_id, section: f"{base}/child/{link_id}?section={section}",
            preferences=f"{base}/notifications/",
            unsubscribe=f"{base}/notifications/",
        )


def send_due(
    session: Session,
    *,
    telegraph: Telegraph,
    now: dt.datetime,
    people: int = 200,
    claimed: str | None = None,
) -> int:
    """Send each person's due news as one Telegram message; return messages sent.

    Paced to ``per_second``. A 429 ends the round: that person's news and everyone's not
    yet sent wait (the former at least ``retry_after``).
    Only what ``claimed`` (:func:`notify.claim`) holds, when given.
    """
    due = notify.due(session, channel=notify.TELEGRAM, now=now, people=people, claimed=claimed)
    if not due:
        return 0
    batches: dict[int, list[Notification]] = {}
    for notification in due:
        batches.setdefault(notification.user_id, []).append(notification)
    chats = {
        c.user_id: c
        for c in session.scalars(select(TelegramChat).where(TelegramChat.user_id.in_(batches)))
    }
    children = notify.rows_by_id(session, ChildLink, {n.link_id for n in due})
    changes = notify.rows_by_id(session, RecordChange, {n.change_id for n in due})
    details = dict(
        session.execute(
            select(NotificationSettings.user_id, NotificationSettings.details).where(
                NotificationSettings.user_id.in_(batches)
            )
        ).all()
    )
    links = telegraph.links()
    gap = 1.0 / telegraph.per_second
    sent, last = 0, None
    for user_id, batch in batches.items():
        chat = chats.get(user_id)
        if chat is None or not chat.active:
            notify.give_up(batch)
            continue
        items = [letters.Item(n, changes[n.change_id], children[n.link_id]) for n in batch]
        text = text_of(items, details=bool(details.get(user_id, False)), links=links)
        if last is not None:
            telegraph.sleep(max(0.0, last + gap - telegraph.clock()))
        last = telegraph.clock()
        try:
            telegraph.api.call(
                "sendMessage",
                chat_id=chat.chat_id,
                text=text,
                link_preview_options={"is_disabled": True},
            )
        except BotError as err:
            if err.status == 429:
                notify.retry_later(batch, now=now, at_least=err.retry_after)
                break
            if err.status in (400, 403):  # blocked, or the chat is gone
                chat.active = False
                notify.give_up(batch)
                continue
            notify.retry_later(batch, now=now)
            continue
        for notification in batch:
            notification.sent_at = now
        sent += 1
    session.flush()
    return sent
