"""Build the one deterministic demo world that every regional emulator serves.

``build_world(*, today, seed=2026) -> World`` generates the six children of DEMO.md, their
schools, classes, teachers and a school month (four weeks before ``today``, from a Monday, to
the Sunday of the week of ``today + 21``: the three weeks a calendar feed shows) from
``random.Random(seed)`` and per-child ``random.Random(f"{seed}/{student_id}")``: the same seed
and date give the same world.

Records (frozen dataclasses in ``regional_mock.records``):

- ``School(id, key, name, short_name, region, region_code, system, city, inn, ogrn, city_id)``;
  ``system`` is ``"mesh"``, ``"dnevnik_ru"`` or ``"netschool"``.
- ``SchoolClass(id, school_id, grade, letter, teacher_id)``, ``.name`` «10 «А»», ``.short_name``
  «10А».
- ``Student(id, full_name, birth_date, school_id, class_id)``, ``.nick_name`` «Смирнов Максим».
- ``Teacher(id, school_id, full_name)``; ``Course(id, class_id, subject, teacher_id)``.
- ``Account(system, login, password, student_ids, id, holder)``: a school-issued login.
- ``WorkType(id, name, abbr, order, weight, active)`` in NetSchool numbering (weights 10/20/40).
- ``Lesson(id, class_id, course_id, date, number, starts_at, ends_at, subject, teacher_id, room,
  theme, status, planned_subject, planned_teacher_id, note)``; ``status`` is ``planned``,
  ``replaced`` (subject and teacher changed; the planned ones kept) or ``cancelled``.
- ``Mark(id, student_id, lesson_id, date, subject, teacher_id, work_type_id, work_type, weight,
  value, shown, kind, topic, comment, description)``; ``kind`` is ``numeric``, ``text`` or
  ``dot`` (NetSchool's owed-work dot, ``value`` None, ``shown`` "•"); ``id`` is the graded
  assignment's id, unique in the world.
- ``Homework(id, class_id, subject, teacher_id, text, assigned_on, due_on, issued_lesson_id,
  due_lesson_id, attachments)``; ``Attachment(id, name, description)``, ``.content`` bytes.
- ``Absence(student_id, lesson_id, date, subject, number, kind)``; ``kind`` is ``ill``,
  ``unexcused``, ``excused`` or ``late``.
- ``Event(id, school_id, class_id, kind, title, starts_at, place, agenda, posted_at,
  author_id)``; ``kind`` is ``parent_meeting`` (class) or ``school_event`` (class_id None).
- ``Message(id, student_id, sender_id, subject, body, sent_at, needs_acknowledgement)``.

``World`` holds them as tuples (``schools``, ``classes``, ``students``, ``teachers``,
``courses``, ``accounts``, ``work_types``, ``lessons``, ``marks``, ``homework``, ``absences``,
``events``, ``messages``) plus ``today``, ``seed``, ``first_day``, ``last_day``, and lookups:
``school(id)``, ``school_class(id)``, ``student(id)``, ``teacher(id)``, ``course(id)``,
``lesson(id)``, ``mark(id)``, ``homework_item(id)``, ``attachment(id)``, ``work_type(id)``
(each raises ``KeyError`` when unknown); ``student_by_name(full_name)``;
``schools_for(system)``; ``accounts_for(system)``; ``account(system, login)`` (or None);
``students_of(account)``; ``class_of(student_id)``; ``school_of(student_id)``; and, for an
inclusive date range, ``lessons_of(student_id, start, end)`` (cancelled ones included),
``marks_of(student_id, start, end)``, ``homework_of(student_id, start, end)`` (by due date),
``absences_of(student_id, start, end)``; ``events_of(student_id)``; ``messages_of(student_id)``.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass
from dataclasses import field
from zoneinfo import ZoneInfo

from regional_mock.generate import Builder
from regional_mock.records import Absence
from regional_mock.records import Account
from regional_mock.records import Attachment
from regional_mock.records import Course
from regional_mock.records import Event
from regional_mock.records import Homework
from regional_mock.records import Lesson
from regional_mock.records import Mark
from regional_mock.records import Message
from regional_mock.records import School
from regional_mock.records import SchoolClass
from regional_mock.records import Student
from regional_mock.records import Teacher
from regional_mock.records import WorkType

__all__ = [
    "Absence",
    "Account",
    "Attachment",
    "Course",
    "Event",
    "Homework",
    "Lesson",
    "Mark",
    "Message",
    "School",
    "SchoolClass",
    "Student",
    "Teacher",
    "WorkType",
    "World",
    "build_world",
    "demo_today",
]

R = t.TypeVar("R")
# The demo's school day is Moscow's, as the gateway's pages are: at 01:30 in Moscow (22:30
# UTC) the family page asks for today's lessons, and the world must already be on that day.
DEMO_ZONE = ZoneInfo("Europe/Moscow")


def demo_today() -> dt.date:
    """Return the day the demo world is generated for: today in Moscow."""
    return dt.datetime.now(DEMO_ZONE).date()


def build_world(*, today: dt.date, seed: int = 2026) -> World:
    """Generate the demo world for ``today`` from ``seed``."""
    builder = Builder(today=today, seed=seed)
    collections = builder.build()
    return World(
        today=today,
        seed=seed,
        first_day=builder.first_day,
        last_day=builder.last_day,
        **collections,  # type: ignore[arg-type]
    )


def _by_id(records: tuple[R, ...]) -> dict[int, R]:
    return {record.id: record for record in records}  # type: ignore[attr-defined]


def _in(day: dt.date, start: dt.date, end: dt.date) -> bool:
    return start <= day <= end


@dataclass(frozen=True)
class World:
    """Every record of the demo world, with lookups for emulators and tests."""

    today: dt.date
    seed: int
    first_day: dt.date
    last_day: dt.date
    schools: tuple[School, ...]
    classes: tuple[SchoolClass, ...]
    students: tuple[Student, ...]
    teachers: tuple[Teacher, ...]
    courses: tuple[Course, ...]
    accounts: tuple[Account, ...]
    work_types: tuple[WorkType, ...]
    lessons: tuple[Lesson, ...]
    marks: tuple[Mark, ...]
    homework: tuple[Homework, ...]
    absences: tuple[Absence, ...]
    events: tuple[Event, ...]
    messages: tuple[Message, ...]
    _index: dict[str, dict[int, t.Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index records by id."""
        attachments = tuple(a for h in self.homework for a in h.attachments)
        index = {
            "school": _by_id(self.schools),
            "class": _by_id(self.classes),
            "student": _by_id(self.students),
            "teacher": _by_id(self.teachers),
            "course": _by_id(self.courses),
            "lesson": _by_id(self.lessons),
            "mark": _by_id(self.marks),
            "homework": _by_id(self.homework),
            "attachment": _by_id(attachments),
            "work_type": _by_id(self.work_types),
        }
        object.__setattr__(self, "_index", index)

    def school(self, school_id: int) -> School:
        """Return the school with an id."""
        return t.cast(School, self._index["school"][school_id])

    def school_class(self, class_id: int) -> SchoolClass:
        """Return the class with an id."""
        return t.cast(SchoolClass, self._index["class"][class_id])

    def student(self, student_id: int) -> Student:
        """Return the student with an id."""
        return t.cast(Student, self._index["student"][student_id])

    def teacher(self, teacher_id: int) -> Teacher:
        """Return the teacher with an id."""
        return t.cast(Teacher, self._index["teacher"][teacher_id])

    def course(self, course_id: int) -> Course:
        """Return the course (subject group) with an id."""
        return t.cast(Course, self._index["course"][course_id])

    def lesson(self, lesson_id: int) -> Lesson:
        """Return the lesson with an id."""
        return t.cast(Lesson, self._index["lesson"][lesson_id])

    def mark(self, mark_id: int) -> Mark:
        """Return the mark with an id."""
        return t.cast(Mark, self._index["mark"][mark_id])

    def homework_item(self, homework_id: int) -> Homework:
        """Return the homework with an id."""
        return t.cast(Homework, self._index["homework"][homework_id])

    def attachment(self, attachment_id: int) -> Attachment:
        """Return the attachment with an id."""
        return t.cast(Attachment, self._index["attachment"][attachment_id])

    def work_type(self, type_id: int) -> WorkType:
        """Return the work type with an id."""
        return t.cast(WorkType, self._index["work_type"][type_id])

    def student_by_name(self, full_name: str) -> Student:
        """Return the student with a full name; raise ``KeyError`` when there is none."""
        for student in self.students:
            if student.full_name == full_name:
                return student
        raise KeyError(full_name)

    def schools_for(self, system: str) -> tuple[School, ...]:
        """Return the schools registered at a regional system."""
        return tuple(s for s in self.schools if s.system == system)

    def accounts_for(self, system: str) -> tuple[Account, ...]:
        """Return the school-issued logins of a regional system."""
        return tuple(a for a in self.accounts if a.system == system)

    def account(self, system: str, login: str) -> Account | None:
        """Return the login of a system, compared without regard to case."""
        for account in self.accounts_for(system):
            if account.login.casefold() == login.casefold():
                return account
        return None

    def students_of(self, account: Account) -> tuple[Student, ...]:
        """Return the students a login shows, in the login's order."""
        return tuple(self.student(student_id) for student_id in account.student_ids)

    def class_of(self, student_id: int) -> SchoolClass:
        """Return a student's class."""
        return self.school_class(self.student(student_id).class_id)

    def school_of(self, student_id: int) -> School:
        """Return a student's school."""
        return self.school(self.student(student_id).school_id)

    def lessons_of(self, student_id: int, start: dt.date, end: dt.date) -> tuple[Lesson, ...]:
        """Return a student's lessons in a date range, cancelled ones included."""
        class_id = self.student(student_id).class_id
        return tuple(x for x in self.lessons if x.class_id == class_id and _in(x.date, start, end))

    def marks_of(self, student_id: int, start: dt.date, end: dt.date) -> tuple[Mark, ...]:
        """Return a student's marks of lessons in a date range."""
        return tuple(
            m for m in self.marks if m.student_id == student_id and _in(m.date, start, end)
        )

    def homework_of(self, student_id: int, start: dt.date, end: dt.date) -> tuple[Homework, ...]:
        """Return the homework of a student's class due in a date range."""
        class_id = self.student(student_id).class_id
        return tuple(
            h for h in self.homework if h.class_id == class_id and _in(h.due_on, start, end)
        )

    def absences_of(self, student_id: int, start: dt.date, end: dt.date) -> tuple[Absence, ...]:
        """Return a student's absences and late arrivals in a date range."""
        return tuple(
            a for a in self.absences if a.student_id == student_id and _in(a.date, start, end)
        )

    def events_of(self, student_id: int) -> tuple[Event, ...]:
        """Return the events of a student's class and school."""
        student = self.student(student_id)
        return tuple(
            e
            for e in self.events
            if e.school_id == student.school_id and e.class_id in (None, student.class_id)
        )

    def messages_of(self, student_id: int) -> tuple[Message, ...]:
        """Return the teachers' messages about a student."""
        return tuple(m for m in self.messages if m.student_id == student_id)
