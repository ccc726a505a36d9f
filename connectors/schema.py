"""Normalize every regional diary into the same plain, typed records.

Nothing here depends on Flask, SQLAlchemy or any wire format: connectors produce these
records and the gateway renders them.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from dataclasses import field


class Section(enum.StrEnum):
    """One area of a child's diary that a connector may provide."""

    GRADES = "grades"
    ATTENDANCE = "attendance"
    HOMEWORK = "homework"
    SCHEDULE = "schedule"
    EVENTS = "events"
    MESSAGES = "messages"
    RATING = "rating"


class Scale(enum.StrEnum):
    """The mark scale a school uses, kept as the backend shows it."""

    FIVE_POINT = "five_point"
    TEN_POINT = "ten_point"
    HUNDRED_POINT = "hundred_point"
    PASS_FAIL = "pass_fail"


class LessonStatus(enum.StrEnum):
    """Whether a lesson runs as planned or was changed."""

    PLANNED = "planned"
    REPLACED = "replaced"
    CANCELLED = "cancelled"
    MOVED = "moved"


class AttendanceKind(enum.StrEnum):
    """Why a child missed (part of) a lesson."""

    ABSENT = "absent"
    LATE = "late"
    ILL = "ill"
    EXCUSED = "excused"
    UNEXCUSED = "unexcused"


class EventKind(enum.StrEnum):
    """What kind of school event this is."""

    PARENT_MEETING = "parent_meeting"
    EXAM = "exam"
    SCHOOL_EVENT = "school_event"


_RECORD = {"frozen": True, "slots": True, "kw_only": True}


@dataclass(**_RECORD)
class Period:
    """An inclusive range of school days."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        """Reject a period that ends before it starts."""
        if self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    def spans(self, days: int) -> list[Period]:
        """Split the period into consecutive chunks of at most ``days`` days."""
        chunks: list[Period] = []
        start = self.start
        while start <= self.end:
            end = min(start + dt.timedelta(days=days - 1), self.end)
            chunks.append(Period(start=start, end=end))
            start = end + dt.timedelta(days=1)
        return chunks

    def days(self) -> list[dt.date]:
        """Return every date of the period, in order."""
        count = (self.end - self.start).days + 1
        return [self.start + dt.timedelta(days=n) for n in range(count)]

    def weeks(self) -> list[Period]:
        """Split the period into Monday-to-Sunday chunks, clipped to the period."""
        chunks: list[Period] = []
        start = self.start
        while start <= self.end:
            sunday = start + dt.timedelta(days=6 - start.weekday())
            chunks.append(Period(start=start, end=min(sunday, self.end)))
            start = sunday + dt.timedelta(days=1)
        return chunks


@dataclass(**_RECORD)
class Student:
    """A child as one regional system knows them."""

    id: str
    full_name: str
    school: str | None = None
    class_name: str | None = None
    birth_date: dt.date | None = None


@dataclass(**_RECORD)
class Grade:
    """One mark, exactly as the school shows it, plus its numeric value when one exists."""

    id: str
    subject: str
    value: str
    numeric: float | None
    scale: Scale
    date: dt.date
    weight: float | None = None
    work_type: str | None = None
    teacher: str | None = None
    comment: str | None = None
    topic: str | None = None


@dataclass(**_RECORD)
class Attachment:
    """A file attached to homework or a message."""

    name: str
    url: str | None = None


@dataclass(**_RECORD)
class Homework:
    """A task a child has to do by a date."""

    id: str
    subject: str
    text: str
    due_on: dt.date
    assigned_on: dt.date | None = None
    attachments: tuple[Attachment, ...] = field(default=())


@dataclass(**_RECORD)
class Lesson:
    """One lesson of the timetable, with what changed about it."""

    id: str
    date: dt.date
    number: int | None
    subject: str
    starts_at: dt.time | None = None
    ends_at: dt.time | None = None
    teacher: str | None = None
    room: str | None = None
    status: LessonStatus = LessonStatus.PLANNED
    note: str | None = None
    homework: tuple[str, ...] = field(default=())
    # What the slot held before a change the gateway detected itself, for a system that does
    # not mark replacements: the subject, and the teacher when only the teacher changed.
    was: str | None = None


@dataclass(**_RECORD)
class Attendance:
    """A missed or late lesson."""

    date: dt.date
    kind: AttendanceKind
    subject: str | None = None
    lesson_number: int | None = None
    note: str | None = None


@dataclass(**_RECORD)
class Event:
    """A parent meeting, exam or school event."""

    id: str
    kind: EventKind
    title: str
    starts_at: dt.datetime
    place: str | None = None
    agenda: str | None = None


@dataclass(**_RECORD)
class Message:
    """A message from a teacher or the school to the parent."""

    id: str
    sender: str
    subject: str
    body: str
    sent_at: dt.datetime
    needs_acknowledgement: bool = False
    acknowledged: bool = False


@dataclass(**_RECORD)
class Rating:
    """A child's place among classmates, where the backend computes one."""

    place: int
    out_of: int
    subject: str | None = None
    as_of: dt.date | None = None
