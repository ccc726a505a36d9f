"""Take a child's diary out of the gateway: a CSV of marks and a secret iCalendar feed.

The feed's URL token is the only credential a calendar application can carry, so it is
long, random, stored only as a SHA-256 digest, and rotatable; unlinking the child deletes
the feed row and with it every URL ever issued for that child.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import hmac
import io
import re
import secrets
import typing as t
from collections.abc import Iterable
from urllib.parse import quote
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as VEvent
from icalendar import Timezone
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.schema import Event
from connectors.schema import EventKind
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Period
from connectors.schema import Scale
from connectors.schema import Section
from gateway.models import CalendarFeed
from gateway.models import ChildLink
from gateway.services import upserts
from gateway.services.diary import ChildDiary
from gateway.services.diary import State

# --- CSV of marks -------------------------------------------------------------------------

# Russian Excel reads a CSV with the list separator of the system locale, which is «;»
# in ru-RU (the comma is the decimal separator there), and assumes a legacy code page
# unless the file starts with a UTF-8 byte order mark. Both together make a double-click
# open the file in columns with readable Cyrillic; LibreOffice and pandas cope as well.
CSV_SEPARATOR = ";"
CSV_BOM = "\ufeff"
CSV_COLUMNS = (
    "Дата",
    "Предмет",
    "Оценка",
    "Числовое значение",
    "Шкала",
    "Вес",
    "Вид работы",
    "Учитель",
    "Комментарий",
)
SCALE_NAMES = {
    Scale.FIVE_POINT: "пятибалльная",
    Scale.TEN_POINT: "десятибалльная",
    Scale.HUNDRED_POINT: "стобалльная",
    Scale.PASS_FAIL: "зачёт/незачёт",
}
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# injection"); a teacher's comment «=HYPERLINK(...)» must stay text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Return the cell as text a spreadsheet will not evaluate."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _number(value: float | None) -> str:
    """Write a number the Russian way: no trailing «,0», a decimal comma."""
    if value is None:
        return ""
    return f"{value:g}".replace(".", ",")


def _row(grade: Grade) -> list[str]:
    return [
        grade.date.strftime("%d.%m.%Y"),
        grade.subject,
        grade.value,
        _number(grade.numeric),
        SCALE_NAMES.get(grade.scale, str(grade.scale)),
        _number(grade.weight),
        grade.work_type or "",
        grade.teacher or "",
        grade.comment or "",
    ]


def grades_csv(grades: Iterable[Grade]) -> str:
    """Write marks as a CSV for Russian Excel, oldest first, every cell injection-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for grade in sorted(grades, key=lambda g: (g.date, g.subject, g.id)):
        writer.writerow([safe_cell(cell) for cell in _row(grade)])
    return CSV_BOM + buffer.getvalue()


# Russian letters in Latin ones, as ICAO Doc 9303 (and Russian passports) write them, «ь»
# as nothing; only for the ASCII fallback file name of browsers that ignore ``filename*``.
_LATIN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch ie y  e iu ia".split(" "),
        strict=True,
    )
)


def _latin(text: str) -> str:
    """Spell Russian text in Latin letters; a capital letter stays a capital («Щ»: «Shch»)."""
    spelled = []
    for char in text:
        latin = _LATIN.get(char.lower(), char)
        spelled.append(latin.capitalize() if char.isupper() else latin)
    return "".join(spelled)


def _file_part(text: str) -> str:
    """Keep letters, digits, dots and hyphens; any run of anything else becomes one «_»."""
    return re.sub(r"[^\w.-]+", "_", text).strip("_")


def grades_disposition(link: ChildLink, period: Period) -> str:
    """Name the CSV download after the child's account and real names and the period.

    Browsers use ``filename*`` (RFC 6266 with RFC 5987 encoding), e.g.
    «Оценки_Child1_Смирнов_Максим_2026-11-01_2026-11-29.csv»; the plain ``filename`` is its
    ASCII spelling («grades_Child1_Smirnov_Maksim_…») for the few that ignore it.
    """
    dates = f"{period.start.isoformat()}_{period.end.isoformat()}"
    child = _file_part(" ".join(link.label_parts)) or "child"
    fallback = re.sub(r"[^A-Za-z0-9.-]+", "_", _latin(child)).strip("_") or "child"
    wanted = quote(f"Оценки_{child}_{dates}.csv", safe="")
    return f"attachment; filename=\"grades_{fallback}_{dates}.csv\"; filename*=UTF-8''{wanted}"


# --- Feed tokens --------------------------------------------------------------------------

TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


class FeedNotFound(LookupError):
    """No feed has this token: never issued, rotated away, or its child was unlinked."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_of(session: Session, link: ChildLink) -> CalendarFeed | None:
    """Return the child's feed, if the parent has created one."""
    return session.scalar(select(CalendarFeed).where(CalendarFeed.link_id == link.id))


def issue_feed(session: Session, link: ChildLink, *, now: dt.datetime) -> str:
    """Create the child's feed, or rotate its token; return the new token (shown once).

    Rotation replaces the stored digest, so the previous URL stops working at once.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    # One statement, so that two tabs creating the feed at once cannot collide on link_id.
    statement = upserts.insert(session, CalendarFeed).values(
        link_id=link.id, token_hash=_digest(token), created_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["link_id"],
        set_={"token_hash": statement.excluded.token_hash, "rotated_at": now},
    )
    session.scalars(
        statement.returning(CalendarFeed), execution_options={"populate_existing": True}
    ).one()
    return token


def link_for_token(session: Session, token: str) -> ChildLink:
    """Return the child link a feed token grants.

    The lookup goes by the digest, so timing says nothing about the token itself; the
    final comparison is constant-time as well.

    :raise FeedNotFound: for a malformed, unknown or rotated token.
    """
    if not _TOKEN_SHAPE.fullmatch(token):
        raise FeedNotFound(token[:4])
    digest = _digest(token)
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == digest))
    if feed is None or not hmac.compare_digest(feed.token_hash, digest):
        raise FeedNotFound(token[:4])
    return feed.link


def webcal_url(url: str) -> str:
    """Return the ``webcal://`` form of a feed URL, which opens the calendar application."""
    return "webcal://" + url.split("://", 1)[1]


# --- The iCalendar feed -------------------------------------------------------------------

FEED_SECTIONS = (Section.SCHEDULE, Section.HOMEWORK, Section.EVENTS)
DAYS_BACK = 7
DAYS_AHEAD = 21
# Russian school lessons last 45 minutes; used when a backend gives only the start.
LESSON = dt.timedelta(minutes=45)
# Backends give a meeting's start only; an hour is what schools usually book.
MEETING = dt.timedelta(hours=1)
PRODID = "-//Diary Gateway//Child calendar feed//RU"
UID_DOMAIN = "diary-gateway"
LESSON_PREFIX = {
    LessonStatus.REPLACED: "Замена: ",
    LessonStatus.CANCELLED: "Отменён: ",
    LessonStatus.MOVED: "Перенос: ",
}
EVENT_CATEGORY = {
    EventKind.PARENT_MEETING: "Родительское собрание",
    EventKind.EXAM: "Экзамен",
    EventKind.SCHOOL_EVENT: "Мероприятие",
}


class FeedUnavailable(RuntimeError):
    """Nothing of the child's diary could be read; an empty feed would wipe the calendar."""


def feed_window(today: dt.date) -> Period:
    """Return the feed's period: the last week and the next three weeks."""
    return Period(
        start=today - dt.timedelta(days=DAYS_BACK), end=today + dt.timedelta(days=DAYS_AHEAD)
    )


@functools.lru_cache(maxsize=64)
def _vtimezone(tzid: str, first: dt.date, last: dt.date) -> Timezone:
    """Describe a zone's offsets over the window (computing it is slow, so it is cached)."""
    return Timezone.from_tzid(tzid, first_date=first, last_date=last)


def _uid(section: Section, record_id: str, link: ChildLink) -> str:
    """Name an event stably; the link id keeps siblings in one class apart."""
    return f"{section.value}-{record_id}-{link.id}@{UID_DOMAIN}"


def _event(uid: str, summary: str, link: ChildLink, now: dt.datetime, **props: t.Any) -> VEvent:
    """Build an event whose title names the child: siblings' calendars merge in one view."""
    event = VEvent()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("summary", f"{summary} · {link.label}")
    for name, value in props.items():
        if value is not None and value != "":
            event.add(name.replace("_", "-"), value)
    return event


def lesson_event(lesson: Lesson, link: ChildLink, zone: ZoneInfo, now: dt.datetime) -> VEvent:
    """Turn a timed lesson into an event in the school's zone, changes in the title."""
    assert lesson.starts_at is not None
    start = dt.datetime.combine(lesson.date, lesson.starts_at, tzinfo=zone)
    end = (
        dt.datetime.combine(lesson.date, lesson.ends_at, tzinfo=zone)
        if lesson.ends_at
        else start + LESSON
    )
    cancelled = lesson.status is LessonStatus.CANCELLED
    return _event(
        _uid(Section.SCHEDULE, lesson.id, link),
        LESSON_PREFIX.get(lesson.status, "") + lesson.subject,
        link,
        now,
        dtstart=start,
        dtend=end,
        location=f"каб. {lesson.room}" if lesson.room else None,
        description=lesson.note,
        status="CANCELLED" if cancelled else "CONFIRMED",
        transp="TRANSPARENT" if cancelled else "OPAQUE",
    )


def homework_event(homework: Homework, link: ChildLink, now: dt.datetime) -> VEvent:
    """Turn homework into an all-day event on its due date.

    Not a VTODO: Google Calendar and Apple Calendar ignore tasks in subscribed feeds,
    while an all-day event shows everywhere. It is transparent, so it blocks no time.
    """
    return _event(
        _uid(Section.HOMEWORK, homework.id, link),
        f"ДЗ: {homework.subject}",
        link,
        now,
        dtstart=homework.due_on,
        dtend=homework.due_on + dt.timedelta(days=1),
        description=homework.text,
        transp="TRANSPARENT",
    )


def school_event(event: Event, link: ChildLink, zone: ZoneInfo, now: dt.datetime) -> VEvent:
    """Turn a meeting, exam or school event into an event in the school's zone."""
    start = event.starts_at
    start = start.replace(tzinfo=zone) if start.tzinfo is None else start.astimezone(zone)
    return _event(
        _uid(Section.EVENTS, event.id, link),
        event.title,
        link,
        now,
        dtstart=start,
        dtend=start + MEETING,
        location=event.place,
        description=event.agenda,
        categories=EVENT_CATEGORY.get(event.kind),
        status="CONFIRMED",
    )


def _readable(diary: ChildDiary) -> None:
    """Refuse to publish when no section could be read and nothing is known of any."""
    views = [v for v in diary.sections.values() if v.state is not State.UNSUPPORTED]
    if views and all(v.state is not State.FRESH and not v.records for v in views):
        raise FeedUnavailable(diary.link.id)


def _in_window(day: dt.date, window: Period) -> bool:
    return window.start <= day <= window.end


def build_calendar(diary: ChildDiary, *, now: dt.datetime) -> bytes:
    """Render a child's lessons, homework and events as an RFC 5545 calendar.

    :raise FeedUnavailable: when the school system gave nothing and no copy is kept.
    """
    _readable(diary)
    link, window = diary.link, diary.period
    zone = ZoneInfo(link.instance.timezone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Дневник: {link.label}")
    calendar.add("x-wr-timezone", zone.key)
    # Hints for subscribers; the data behind the feed changes at most every few minutes.
    calendar.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    first, last = window.start - dt.timedelta(days=1), window.end + dt.timedelta(days=1)
    calendar.add_component(_vtimezone(zone.key, first, last))
    for lesson in diary.records(Section.SCHEDULE):
        if lesson.starts_at is not None and _in_window(lesson.date, window):
            calendar.add_component(lesson_event(lesson, link, zone, now))
    for homework in diary.records(Section.HOMEWORK):
        if _in_window(homework.due_on, window):
            calendar.add_component(homework_event(homework, link, now))
    for event in diary.records(Section.EVENTS):
        if _in_window(event.starts_at.date(), window):
            calendar.add_component(school_event(event, link, zone, now))
    feed: bytes = calendar.to_ical()
    return feed
