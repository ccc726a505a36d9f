"""Frozen records of the demo world, independent of any regional system's wire format."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field

_RECORD = {"frozen": True, "slots": True, "kw_only": True}


@dataclass(**_RECORD)
class School:
    """A school registered at one regional system."""

    id: int
    key: str
    name: str
    short_name: str
    region: str
    region_code: str
    system: str
    city: str
    inn: str
    ogrn: str
    city_id: int


@dataclass(**_RECORD)
class SchoolClass:
    """A class (grade and letter) of a school, with its class teacher."""

    id: int
    school_id: int
    grade: int
    letter: str
    teacher_id: int

    @property
    def name(self) -> str:
        """Return the name as people write it: 10 «А»."""
        return f"{self.grade} «{self.letter}»"

    @property
    def short_name(self) -> str:
        """Return the compact name regional systems use: 10А."""
        return f"{self.grade}{self.letter}"


@dataclass(**_RECORD)
class Student:
    """A child of the demo."""

    id: int
    full_name: str
    birth_date: dt.date
    school_id: int
    class_id: int

    @property
    def nick_name(self) -> str:
        """Return the surname and first name: Смирнов Максим."""
        return " ".join(self.full_name.split()[:2])


@dataclass(**_RECORD)
class Teacher:
    """A teacher of one school."""

    id: int
    school_id: int
    full_name: str


@dataclass(**_RECORD)
class Course:
    """A subject taught to one class by one teacher (NetSchool's subject group)."""

    id: int
    class_id: int
    subject: str
    teacher_id: int


@dataclass(**_RECORD)
class Account:
    """A school-issued parent login at one regional system."""

    system: str
    login: str
    password: str
    student_ids: tuple[int, ...]
    id: int = 0
    holder: str = ""


@dataclass(**_RECORD)
class WorkType:
    """A kind of graded work, with the weight its marks carry."""

    id: int
    name: str
    abbr: str
    order: int
    weight: int
    active: bool


@dataclass(**_RECORD)
class Lesson:
    """One lesson of a class; ``status`` is planned, replaced or cancelled."""

    id: int
    class_id: int
    course_id: int
    date: dt.date
    number: int
    starts_at: str
    ends_at: str
    subject: str
    teacher_id: int
    room: str | None
    theme: str
    status: str = "planned"
    planned_subject: str | None = None
    planned_teacher_id: int | None = None
    note: str | None = None


@dataclass(**_RECORD)
class Attachment:
    """A file attached to homework."""

    id: int
    name: str
    description: str | None

    @property
    def content(self) -> bytes:
        """Return the bytes served for the file."""
        return f"Демо-файл {self.name}: {self.description or ''}\n".encode()


@dataclass(**_RECORD)
class Mark:
    """A mark of one student; ``kind`` is numeric, text or dot (NetSchool's owed-work dot).

    ``id`` is the id of the graded assignment, unique in the world; ``shown`` is the mark as
    the backend displays it.
    """

    id: int
    student_id: int
    lesson_id: int
    date: dt.date
    subject: str
    teacher_id: int
    work_type_id: int
    work_type: str
    weight: int
    value: int | None
    shown: str
    kind: str
    topic: str
    comment: str | None = None
    description: str | None = None


@dataclass(**_RECORD)
class Homework:
    """A class's homework, set on one lesson and due on a later one."""

    id: int
    class_id: int
    subject: str
    teacher_id: int
    text: str
    assigned_on: dt.date
    due_on: dt.date
    issued_lesson_id: int
    due_lesson_id: int
    attachments: tuple[Attachment, ...] = field(default=())


@dataclass(**_RECORD)
class Absence:
    """A missed or late lesson; ``kind`` is ill, unexcused, excused or late."""

    student_id: int
    lesson_id: int
    date: dt.date
    subject: str
    number: int
    kind: str


@dataclass(**_RECORD)
class Event:
    """A parent meeting (``kind`` parent_meeting) or school event for a class or school."""

    id: int
    school_id: int
    class_id: int | None
    kind: str
    title: str
    starts_at: dt.datetime
    place: str
    agenda: tuple[str, ...]
    posted_at: dt.datetime
    author_id: int


@dataclass(**_RECORD)
class Message:
    """A teacher's message to a student's parents."""

    id: int
    student_id: int
    sender_id: int
    subject: str
    body: str
    sent_at: dt.datetime
    needs_acknowledgement: bool = False
