"""What matters today, tomorrow and this week, for every child, on one page."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Hashable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from connectors.schema import Attendance
from connectors.schema import Event
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Message
from connectors.schema import Section
from gateway.models import Grant
from gateway.services.attendance import is_absence
from gateway.services.diary import ChildDiary
from gateway.services.freshness import Freshness
from gateway.services.freshness import freshness

FAMILY_SECTIONS = (
    Section.SCHEDULE,
    Section.HOMEWORK,
    Section.GRADES,
    Section.ATTENDANCE,
    Section.EVENTS,
    Section.MESSAGES,
)
# Today (or the next day with lessons when today has none) and the school day after it.
DAYS_SHOWN = 2
WEEK = dt.timedelta(days=7)
Dated = t.TypeVar("Dated", Grade, Attendance)


@dataclass(frozen=True, slots=True, kw_only=True)
class SchoolDay:
    """A day with lessons on a child's card: its lessons and the homework due on it."""

    day: dt.date
    when: str  # "today", "tomorrow" or "later" (then named by its weekday and date)
    lessons: list[Lesson]
    homework: list[Homework]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildToday:
    """One child's card on the family page: only the sections the viewer may see."""

    diary: ChildDiary
    days: list[SchoolDay]
    changes: list[Lesson]  # changed lessons of the coming week, beyond the days shown
    homework_due: list[Homework]  # homework of the coming week, beyond the days shown
    new_marks: list[Grade]
    absences: list[Attendance]
    late: list[Attendance]
    messages: list[Message]
    freshness: Freshness | None
    shows: frozenset[Section]

    @property
    def link(self):  # type: ignore[no-untyped-def]
        """Return the child's link."""
        return self.diary.link


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedEvent:
    """A meeting or announcement, once, with every child it concerns."""

    event: Event
    children: list[str] = field(default_factory=list)


def _school_days(
    lessons: list[Lesson], homework: list[Homework], today: dt.date
) -> list[SchoolDay]:
    """Return the first days with lessons from today on, with the homework due on each."""
    dates = sorted({x.date for x in lessons if x.date >= today})[:DAYS_SHOWN]
    when = {today: "today", today + dt.timedelta(days=1): "tomorrow"}
    return [
        SchoolDay(
            day=day,
            when=when.get(day, "later"),
            lessons=[x for x in lessons if x.date == day],
            homework=sorted((h for h in homework if h.due_on == day), key=lambda h: h.subject),
        )
        for day in dates
    ]


def _newest_first(records: Sequence[Dated], since: dt.date) -> list[Dated]:
    return sorted((r for r in records if r.date >= since), key=lambda r: r.date, reverse=True)


def child_today(diary: ChildDiary, now: dt.datetime) -> ChildToday:
    """Pick what a parent needs to see this morning from a child's family-page diary.

    ``now`` is the viewer's local time.
    """
    today = now.date()
    lessons = sorted(diary.records(Section.SCHEDULE), key=lambda x: (x.date, x.number or 0))
    homework = [h for h in diary.records(Section.HOMEWORK) if today <= h.due_on <= today + WEEK]
    days = _school_days(lessons, homework, today)
    shown = {d.day for d in days}
    later = [x for x in lessons if x.date not in shown and x.date <= today + WEEK]
    attendance = _newest_first(diary.records(Section.ATTENDANCE), today - WEEK)
    return ChildToday(
        diary=diary,
        days=days,
        changes=[x for x in later if x.date >= today and x.status is not LessonStatus.PLANNED],
        homework_due=sorted(
            (h for h in homework if h.due_on not in shown), key=lambda h: (h.due_on, h.subject)
        ),
        new_marks=_newest_first(diary.records(Section.GRADES), today - WEEK),
        # A late arrival was at school: it is listed on its own, never among the absences.
        absences=[a for a in attendance if is_absence(a)],
        late=[a for a in attendance if not is_absence(a)],
        messages=[
            m
            for m in diary.records(Section.MESSAGES)
            if m.needs_acknowledgement and not m.acknowledged
        ],
        freshness=freshness(diary.sections.values(), now),
        shows=frozenset(diary.sections),
    )


def shared_events(diaries: Sequence[ChildDiary], now: dt.datetime) -> list[SharedEvent]:
    """Merge upcoming events that several siblings share into one entry each."""
    merged: dict[tuple[str, str, str | None], SharedEvent] = {}
    for diary in diaries:
        for event in diary.records(Section.EVENTS):
            starts = (
                event.starts_at
                if event.starts_at.tzinfo
                else event.starts_at.replace(tzinfo=now.tzinfo)
            )
            if starts < now - dt.timedelta(hours=2):
                continue
            key = (event.title, event.starts_at.isoformat(), event.place)
            entry = merged.setdefault(key, SharedEvent(event=event))
            if diary.link.label not in entry.children:
                entry.children.append(diary.link.label)
    return sorted(merged.values(), key=lambda e: e.event.starts_at.isoformat())


def card_key(diary: ChildDiary, grant: Grant | None, *, today: dt.date, locale: str) -> Hashable:
    """Name everything a child's card is drawn from, so a rendered card can be reused.

    A card shows the child's names, school, class, region and link status, what the school
    system is called and whether it reports timetable changes, who shared it and until
    when, and records picked by ``today`` from sections named here by state and fetch
    time (a section's records change only with a new fetch).
    """
    link = diary.link
    return (
        link.id,
        link.display_name,
        link.full_name,
        link.school,
        link.class_name,
        link.status,
        link.instance.key,
        link.instance.region_name,
        link.instance.connector,
        diary.backend,
        (grant.id, grant.owner.full_name, grant.ends_on) if grant else None,
        diary.period,
        today,
        locale,
        tuple((s, view.state, view.as_of) for s, view in diary.sections.items()),
    )
