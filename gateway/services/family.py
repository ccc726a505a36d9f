"""What matters today and this week, for every child, on one page."""

from __future__ import annotations

import datetime as dt
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


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildToday:
    """One child's card on the family page."""

    diary: ChildDiary
    day: dt.date | None
    today: list[Lesson]
    changes: list[Lesson]
    homework_due: list[Homework]
    new_marks: list[Grade]
    absences: list[Attendance]
    messages: list[Message]
    freshness: Freshness | None

    @property
    def link(self):  # type: ignore[no-untyped-def]
        """Return the child's link."""
        return self.diary.link


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedEvent:
    """A meeting or announcement, once, with every child it concerns."""

    event: Event
    children: list[str] = field(default_factory=list)


def child_today(diary: ChildDiary, now: dt.datetime) -> ChildToday:
    """Pick what a parent needs to see this morning from a child's family-page diary.

    ``now`` is the viewer's local time.
    """
    today = now.date()
    lessons = sorted(diary.records(Section.SCHEDULE), key=lambda x: (x.date, x.number or 0))
    week_ahead = today + dt.timedelta(days=7)
    # Today's lessons, or the next school day's when today has none (evenings, weekends).
    day = next((x.date for x in lessons if x.date >= today), None)
    changed = [x for x in lessons if x.status is not LessonStatus.PLANNED]
    homework = [h for h in diary.records(Section.HOMEWORK) if today <= h.due_on <= week_ahead]
    recent = [g for g in diary.records(Section.GRADES) if g.date >= today - dt.timedelta(days=7)]
    return ChildToday(
        diary=diary,
        day=day,
        today=[x for x in lessons if x.date == day],
        changes=[x for x in changed if today <= x.date <= week_ahead],
        homework_due=sorted(homework, key=lambda h: (h.due_on, h.subject)),
        new_marks=sorted(recent, key=lambda g: g.date, reverse=True),
        absences=sorted(
            (
                a
                for a in diary.records(Section.ATTENDANCE)
                if a.date >= today - dt.timedelta(days=7)
            ),
            key=lambda a: a.date,
            reverse=True,
        ),
        messages=[
            m
            for m in diary.records(Section.MESSAGES)
            if m.needs_acknowledgement and not m.acknowledged
        ],
        freshness=freshness(diary.sections.values(), now),
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
            if diary.link.display_name not in entry.children:
                entry.children.append(diary.link.display_name)
    return sorted(merged.values(), key=lambda e: e.event.starts_at.isoformat())


def card_key(diary: ChildDiary, grant: Grant | None, *, today: dt.date, locale: str) -> Hashable:
    """Name everything a child's card is drawn from, so a rendered card can be reused.

    A card shows the child's names, class, region and link status, who shared it and until
    when, and records picked by ``today`` from sections named here by state and fetch time
    (a section's records change only with a new fetch).
    """
    link = diary.link
    return (
        link.id,
        link.display_name,
        link.full_name,
        link.class_name,
        link.status,
        link.instance.key,
        link.instance.region_name,
        (grant.id, grant.owner.full_name, grant.ends_on) if grant else None,
        diary.period,
        today,
        locale,
        tuple((s, view.state, view.as_of) for s, view in diary.sections.items()),
    )
