"""The words of a notification e-mail: what happened, to which child, and where to look.

An e-mail says what happened and links to it; the marks, comments and texts themselves go
in only when the person turned that on (``details``), because mail passes through servers
the family does not choose.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime
from email.utils import formataddr
from email.utils import make_msgid

from gateway.models import ChildLink
from gateway.models import Notification
from gateway.models import RecordChange
from gateway.models import User
from gateway.services.news import SECTION_OF
from gateway.services.news import NewsKind

MONTHS = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
WHAT: Mapping[NewsKind, str] = {
    NewsKind.MARK: "новая оценка",
    NewsKind.MARK_CHANGED: "оценку исправили",
    NewsKind.MARK_REMOVED: "оценку убрали",
    NewsKind.ABSENCE: "отметка о пропуске",
    NewsKind.TIMETABLE: "изменение в расписании",
    NewsKind.HOMEWORK: "новое домашнее задание",
    NewsKind.EVENT: "новое событие",
    NewsKind.MESSAGE: "новое сообщение от учителя",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Links:
    """The absolute addresses a letter points to."""

    child: t.Callable[[int, str], str]  # (link id, section) -> the child's page
    preferences: str
    unsubscribe: str


@dataclasses.dataclass(frozen=True, slots=True)
class Item:
    """One notification with what it is about."""

    notification: Notification
    change: RecordChange
    link: ChildLink


def day_text(day: dt.date | None) -> str:
    """Write a day as «3 декабря»."""
    return "" if day is None else f"{day.day} {MONTHS[day.month - 1]}"


def line(item: Item, *, details: bool) -> str:
    """Return one news line: «Алгебра — новая оценка «2», низкая, 3 декабря»."""
    kind = NewsKind(item.notification.kind)
    payload = item.change.after or item.change.before or {}
    topic = payload.get("subject") or payload.get("title") or ""
    if kind is NewsKind.MESSAGE and not details:
        topic = ""  # a message's subject is its content: shown only with details on
    what = WHAT[kind]
    if kind is NewsKind.ABSENCE and item.notification.urgent:
        what = "пропуск без уважительной причины"
    if details:
        what += _detail(kind, item.change)
    if item.notification.low:
        what += ", низкая"
    parts = [part for part in (str(topic), what) if part]
    when = day_text(item.change.day)
    return " — ".join(parts) + (f", {when}" if when else "")


def _detail(kind: NewsKind, change: RecordChange) -> str:
    after, before = change.after or {}, change.before or {}
    if kind is NewsKind.MARK:
        comment = f": «{after['comment']}»" if after.get("comment") else ""
        return f" «{after.get('value', '')}»{comment}"
    if kind is NewsKind.MARK_CHANGED:
        return f": «{before.get('value', '')}» → «{after.get('value', '')}»"
    if kind is NewsKind.HOMEWORK:
        return f": {after.get('text', '')}"
    return ""


def subject(items: Sequence[Item]) -> str:
    """Return the letter's subject: the news itself when there is one, the count otherwise."""
    if len(items) == 1:
        item = items[0]
        return f"{item.link.display_name}: {WHAT[NewsKind(item.notification.kind)]}"
    children = sorted({item.link.display_name for item in items})
    return f"Дневник: новостей — {len(items)} ({', '.join(children)})"


def letter(
    person: User,
    items: Sequence[Item],
    *,
    details: bool,
    links: Links,
    sender: str,
    domain: str,
    now: dt.datetime,
) -> EmailMessage:
    """Compose one e-mail of a person's due news, grouped by child, with RFC 8058 headers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((person.full_name, person.email or ""))
    message["Subject"] = subject(items)
    message["Message-ID"] = make_msgid(domain=domain)
    message["Date"] = format_datetime(now)
    # RFC 8058: a mail client's «Unsubscribe» button POSTs to this address, no page needed.
    message["List-Unsubscribe"] = f"<{links.unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    body = [f"Здравствуйте, {person.full_name or 'родитель'}!", ""]
    by_child: dict[int, list[Item]] = {}
    for item in items:
        by_child.setdefault(item.link.id, []).append(item)
    for group in by_child.values():
        body.append(f"{group[0].link.display_name}:")
        body += [f"  • {line(item, details=details)}" for item in group]
        section = SECTION_OF[NewsKind(group[0].notification.kind)].value
        body += [f"  Открыть дневник: {links.child(group[0].link.id, section)}", ""]
    body += [
        "Какие уведомления и когда присылать: " + links.preferences,
        "Отписаться от писем: " + links.unsubscribe,
    ]
    message.set_content("\n".join(body))
    return message
