"""A teacher's school day over the frozen demo world, one per emulator process.

The generated world never changes; ``SchoolDay`` keeps mutable copies of the five
collections a school day touches (lessons, marks, homework, absences, events), changes them
as a teacher would, and after every change publishes a new frozen ``World`` to its emulator
(``publish``). Every wire endpoint reads ``emulator().world``, so each serves the changed day
in its own format; each read of it is one consistent world, never a half-changed one. Other
collections (the accounts NetSchool's operator API issues, say) are taken from the
emulator's current world (``read``), so a reset gives back the seeded school day only.

Ids: an added mark or homework takes the next id after every assignment id of the world (from
``DAY_FIRST_IDS``), a meeting the next post id; the counters never go back, not even on
reset, so no id is ever reused in the process. An edited record keeps its id: the gateway's
change detection keys records by the backend's id.

Actions (each takes a JSON-like mapping; values may be strings, as an HTML form sends them):

- ``add_mark({student, lesson_id | date + subject [+ number], value 1..5, work_type?,
  comment?}) -> Mark``; ``edit_mark(id, {value?, comment?})``; ``delete_mark(id)``;
- ``mark_absence({student, lesson_id | date + subject, kind}) -> Absence``;
- ``replace_lesson(id, {subject?, teacher?, room?})``; ``cancel_lesson(id)`` -> Lesson;
- ``set_homework({lesson_id | student + date + subject, text}) -> (Homework, created)``;
- ``call_meeting({student | class_id, starts_at, place, title?, agenda?}) -> Event``;
- ``edits()``: what was done, oldest first; ``reset()``: back to the seeded world.

Where a system serves no such records, a change is kept but shows nowhere: Dnevnik.ru's
emulator has no events endpoint (dnevnik_ru.md documents none), so its meetings stay unseen.

A student is named by world id, full name, «Фамилия Имя» or a first name unique at the
emulator. Bad input raises ``DayError(field, message)`` (status 400), unknown records
``DayError(..., status=404)``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import typing as t
from collections.abc import Callable
from collections.abc import Mapping

from flask import Flask

from regional_mock.records import Absence
from regional_mock.records import Event
from regional_mock.records import Homework
from regional_mock.records import Lesson
from regional_mock.records import Mark
from regional_mock.records import SchoolClass
from regional_mock.records import Student
from regional_mock.records import Teacher
from regional_mock.records import WorkType
from regional_mock.student_month import make_mark
from regional_mock.world import DEMO_ZONE
from regional_mock.world import World

# Far above the generated ids (a few thousand per kind), yet inside the ranges the MESH ids
# keep (id % 1_000_000), so a day record is recognisable and maps back like a world one.
DAY_FIRST_IDS = {"assignment": 371_900_001, "post": 7_900_001}
ABSENCE_KINDS = ("ill", "unexcused", "excused", "late")
HOMEWORK_TYPE = 3  # NetSchool's homework work type: clients read a mark of it as homework
DEFAULT_WORK_TYPE = 10  # «Ответ на уроке»
Body = Mapping[str, object]


class DayError(Exception):
    """Input the school day cannot take: ``field`` names the culprit."""

    def __init__(self, field: str | None, message: str, status: int = 400) -> None:
        """Remember the field, the message and the HTTP status to answer with."""
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


def jsonable(record: object) -> t.Any:
    """Return a record as JSON values: dates ISO strings, tuples lists."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: jsonable(getattr(record, f.name)) for f in dataclasses.fields(record)}
    if isinstance(record, dt.date | dt.datetime):
        return record.isoformat()
    if isinstance(record, tuple | list):
        return [jsonable(item) for item in record]
    return record


def _only(body: Body, allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise DayError(unknown[0], f"неизвестное поле {unknown[0]!r}")


def _int(body: Body, name: str) -> int:
    raw = body.get(name)
    if isinstance(raw, bool) or raw is None or raw == "":
        raise DayError(name, f"поле {name!r} обязательно")
    try:
        return int(str(raw))
    except (TypeError, ValueError):
        raise DayError(name, f"{name!r} должно быть целым числом") from None


def _text(body: Body, name: str, *, required: bool = True) -> str | None:
    raw = body.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise DayError(name, f"поле {name!r} обязательно")
        return None
    if not isinstance(raw, str):
        raise DayError(name, f"{name!r} должно быть строкой")
    return raw.strip()


def _date(body: Body, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(_text(body, name)))
    except ValueError:
        raise DayError(name, f"{name!r}: дата в виде ГГГГ-ММ-ДД") from None


def _value(body: Body) -> int:
    value = _int(body, "value")
    if not 1 <= value <= 5:
        raise DayError("value", "оценка от 1 до 5")
    return value


class SchoolDay:
    """The school day of one emulator: changes to its world, made by a teacher."""

    def __init__(
        self, system: str, *, read: Callable[[], World], publish: Callable[[World], None]
    ) -> None:
        """Start from the emulator's current world, as seeded."""
        self.system = system
        self._read = read
        self._publish = publish
        self._lock = threading.RLock()
        self._seeded = read()
        seeded = self._seeded
        highest = {
            "assignment": max([x.id for x in seeded.marks] + [x.id for x in seeded.homework]),
            "post": max([x.id for x in seeded.events] + [x.id for x in seeded.messages]),
        }
        self._next = {kind: max(start, highest[kind] + 1) for kind, start in DAY_FIRST_IDS.items()}
        self._edits: list[dict[str, t.Any]] = []
        self._load(seeded)

    def _load(self, world: World) -> None:
        self.lessons = {x.id: x for x in world.lessons}
        self.marks = {x.id: x for x in world.marks}
        self.homework = {x.id: x for x in world.homework}
        self.absences = {(x.student_id, x.lesson_id): x for x in world.absences}
        self.events = {x.id: x for x in world.events}

    @property
    def world(self) -> World:
        """Return the world the emulator serves now."""
        return self._read()

    def _new_id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind] - 1

    def _commit(self, action: str, summary: str, record: object) -> None:
        """Log an edit and publish the changed world."""
        world = self._read()
        self._publish(
            dataclasses.replace(
                world,
                lessons=tuple(self.lessons.values()),
                marks=tuple(self.marks.values()),
                homework=tuple(self.homework.values()),
                absences=tuple(self.absences.values()),
                events=tuple(self.events.values()),
            )
        )
        moment = dt.datetime.now(DEMO_ZONE).replace(tzinfo=None, microsecond=0)
        self._edits.append(
            {
                "number": len(self._edits) + 1,
                "action": action,
                "summary": summary,
                "at": moment.isoformat(),
                "record": jsonable(record),
            }
        )

    # Lookups -----------------------------------------------------------------------------

    def students(self) -> tuple[Student, ...]:
        """Return the children whose schools use this emulator's system."""
        world = self._read()
        return tuple(s for s in world.students if world.school_of(s.id).system == self.system)

    def student(self, raw: object, field: str = "student") -> Student:
        """Return the child named by id, full name, «Фамилия Имя» or a unique first name."""
        if raw is None or raw == "":
            raise DayError(field, f"поле {field!r} обязательно")
        students = self.students()
        if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit()):
            found = [s for s in students if s.id == int(raw)]
        elif isinstance(raw, str):
            wanted = " ".join(raw.split()).casefold()
            found = [
                s
                for s in students
                if wanted
                in (
                    s.full_name.casefold(),
                    s.nick_name.casefold(),
                    s.full_name.split()[1].casefold(),
                )
            ]
        else:
            raise DayError(field, f"{field!r}: id или имя ученика")
        if len(found) > 1:
            raise DayError(field, f"имя {raw!r} носят несколько учеников: укажите полное")
        if not found:
            raise DayError(field, f"нет ученика {raw!r} в системе {self.system}", 404)
        return found[0]

    def _school_class(self, class_id: int) -> SchoolClass:
        world = self._read()
        for cls in world.classes:
            if cls.id == class_id and world.school(cls.school_id).system == self.system:
                return cls
        raise DayError("class_id", f"нет класса {class_id} в системе {self.system}", 404)

    def lesson(self, lesson_id: int, field: str = "lesson_id") -> Lesson:
        """Return a lesson of this system's classes (as changed today)."""
        lesson = self.lessons.get(lesson_id)
        if lesson is None:
            raise DayError(field, f"нет урока {lesson_id}", 404)
        self._school_class(lesson.class_id)
        return lesson

    def _lesson_of(self, body: Body, student: Student | None) -> Lesson:
        """Find the lesson by ``lesson_id``, or by ``date``, ``subject`` (and ``number``)."""
        if body.get("lesson_id") not in (None, ""):
            lesson = self.lesson(_int(body, "lesson_id"))
            if student is not None and lesson.class_id != student.class_id:
                raise DayError("lesson_id", f"урок {lesson.id} не в классе ученика")
            return lesson
        if student is None or body.get("date") in (None, ""):
            raise DayError("lesson_id", "нужен lesson_id или student, date и subject")
        day = _date(body, "date")
        subject = str(_text(body, "subject")).casefold()
        number = _int(body, "number") if body.get("number") not in (None, "") else None
        found = sorted(
            (
                x
                for x in self.lessons.values()
                if x.class_id == student.class_id
                and x.date == day
                and x.subject.casefold() == subject
                and number in (None, x.number)
            ),
            key=lambda x: x.number,
        )
        if not found:
            raise DayError("subject", f"в этот день нет урока «{body.get('subject')}»", 404)
        return found[0]

    def _held(self, lesson: Lesson) -> None:
        if lesson.date > self._read().today:
            raise DayError("lesson_id", "урок ещё не прошёл")
        if lesson.status == "cancelled":
            raise DayError("lesson_id", "урок отменён")

    def _work_type(self, raw: object) -> WorkType:
        world = self._read()
        if raw is None or raw == "":
            return world.work_type(DEFAULT_WORK_TYPE)
        for work in world.work_types:
            if str(raw).strip().casefold() in (
                str(work.id),
                work.name.casefold(),
                work.abbr.casefold(),
            ):
                if work.id == HOMEWORK_TYPE or not work.active:
                    break
                return work
        raise DayError("work_type", f"нет такого вида работы для оценки: {raw!r}")

    def _mark(self, mark_id: int) -> Mark:
        mark = self.marks.get(mark_id)
        if mark is None or mark.student_id not in {s.id for s in self.students()}:
            raise DayError("id", f"нет оценки {mark_id}", 404)
        return mark

    def _teacher(self, raw: object, school_id: int) -> Teacher:
        world = self._read()
        staff = [x for x in world.teachers if x.school_id == school_id]
        wanted = str(raw).strip().casefold()
        for teacher in staff:
            if wanted in (str(teacher.id), teacher.full_name.casefold()):
                return teacher
        raise DayError("teacher", f"нет учителя {raw!r} в этой школе")

    # Actions -----------------------------------------------------------------------------

    def add_mark(self, body: Body) -> Mark:
        """Give a student a numeric mark on a held lesson; it gets a new id."""
        _only(
            body,
            {"student", "lesson_id", "date", "subject", "number", "value"}
            | {"work_type", "comment"},
        )
        with self._lock:
            student = self.student(body.get("student"))
            lesson = self._lesson_of(body, student)
            self._held(lesson)
            value = _value(body)
            mark = make_mark(
                mark_id=self._new_id("assignment"),
                student_id=student.id,
                lesson=lesson,
                work_type=self._work_type(body.get("work_type")),
                value=value,
                comment=_text(body, "comment", required=False),
            )
            self.marks[mark.id] = mark
            summary = (
                f"{student.nick_name}: {value} по предмету «{lesson.subject}» за {lesson.date}"
            )
            self._commit("add_mark", summary, mark)
            return mark

    def edit_mark(self, mark_id: int, body: Body) -> Mark:
        """Change a mark's value and/or comment; it keeps its id."""
        _only(body, {"value", "comment"})
        if "value" not in body and "comment" not in body:
            raise DayError("value", "нужно value или comment")
        with self._lock:
            mark = self._mark(mark_id)
            changes: dict[str, t.Any] = {}
            if "value" in body:
                value = _value(body)
                changes |= {"value": value, "shown": str(value), "kind": "numeric"}
            if "comment" in body:
                changes["comment"] = _text(body, "comment", required=False)
            mark = dataclasses.replace(mark, **changes)
            self.marks[mark.id] = mark
            self._commit("edit_mark", f"оценка {mark.id} исправлена: {mark.shown}", mark)
            return mark

    def delete_mark(self, mark_id: int) -> Mark:
        """Remove a mark."""
        with self._lock:
            mark = self.marks.pop(self._mark(mark_id).id)
            self._commit("delete_mark", f"оценка {mark.id} ({mark.shown}) удалена", mark)
            return mark

    def mark_absence(self, body: Body) -> Absence:
        """Mark a student absent (or late) on a held lesson, replacing an earlier mark."""
        _only(body, {"student", "lesson_id", "date", "subject", "number", "kind"})
        with self._lock:
            student = self.student(body.get("student"))
            lesson = self._lesson_of(body, student)
            self._held(lesson)
            kind = _text(body, "kind")
            if kind not in ABSENCE_KINDS:
                raise DayError("kind", f"kind: одно из {', '.join(ABSENCE_KINDS)}")
            absence = Absence(
                student_id=student.id,
                lesson_id=lesson.id,
                date=lesson.date,
                subject=lesson.subject,
                number=lesson.number,
                kind=kind,
            )
            self.absences[(student.id, lesson.id)] = absence
            summary = f"{student.nick_name}: {kind} на уроке «{lesson.subject}» {lesson.date}"
            self._commit("mark_absence", summary, absence)
            return absence

    def replace_lesson(self, lesson_id: int, body: Body) -> Lesson:
        """Give a lesson another subject, teacher and/or room, as generate.py's replacements."""
        _only(body, {"subject", "teacher", "room"})
        if not any(body.get(k) not in (None, "") for k in ("subject", "teacher", "room")):
            raise DayError("subject", "нужно subject, teacher или room")
        with self._lock:
            lesson = self.lesson(lesson_id, "id")
            world = self._read()
            planned_subject = lesson.planned_subject or lesson.subject
            planned_teacher = lesson.planned_teacher_id or lesson.teacher_id
            subject, teacher_id = lesson.subject, lesson.teacher_id
            if body.get("subject") not in (None, ""):
                wanted = str(_text(body, "subject")).casefold()
                course = next(
                    (
                        c
                        for c in world.courses
                        if c.class_id == lesson.class_id and c.subject.casefold() == wanted
                    ),
                    None,
                )
                if course is None:
                    raise DayError("subject", f"у класса нет предмета «{body.get('subject')}»")
                subject, teacher_id = course.subject, course.teacher_id
            if body.get("teacher") not in (None, ""):
                school_id = world.school_class(lesson.class_id).school_id
                teacher_id = self._teacher(body["teacher"], school_id).id
            room = _text(body, "room", required=False) or lesson.room
            if (subject, teacher_id) == (planned_subject, planned_teacher):  # back to the plan
                plan: tuple[str | None, int | None] = (None, None)
                status, note = "planned", None
            else:
                what = (
                    f"{subject} вместо «{planned_subject}»"
                    if subject != planned_subject
                    else f"урок ведёт {world.teacher(teacher_id).full_name}"
                )
                status, note = "replaced", f"Замена: {what}"
                plan = (planned_subject, planned_teacher)
            lesson = dataclasses.replace(
                lesson,
                subject=subject,
                teacher_id=teacher_id,
                room=room,
                status=status,
                note=note,
                planned_subject=plan[0],
                planned_teacher_id=plan[1],
            )
            self.lessons[lesson.id] = lesson
            self._commit(
                "replace_lesson",
                f"{lesson.date} урок {lesson.number}: {lesson.note or 'по плану'}",
                lesson,
            )
            return lesson

    def cancel_lesson(self, lesson_id: int) -> Lesson:
        """Cancel a lesson, as generate.py cancels one of the coming week."""
        with self._lock:
            lesson = self.lesson(lesson_id, "id")
            lesson = dataclasses.replace(lesson, status="cancelled", note="Урок отменён")
            self.lessons[lesson.id] = lesson
            self._commit(
                "cancel_lesson",
                f"{lesson.date} урок {lesson.number} «{lesson.subject}» отменён",
                lesson,
            )
            return lesson

    def set_homework(self, body: Body) -> tuple[Homework, bool]:
        """Set the homework due on a lesson; return it and whether it is new.

        Homework already due on that lesson gets the new text and keeps its id; new homework
        is set on the subject's previous lesson (or on the lesson itself when it is the first).
        """
        _only(body, {"student", "lesson_id", "date", "subject", "number", "text"})
        with self._lock:
            student = (
                self.student(body["student"]) if body.get("student") not in (None, "") else None
            )
            due = self._lesson_of(body, student)
            text = str(_text(body, "text"))
            existing = next((h for h in self.homework.values() if h.due_lesson_id == due.id), None)
            if existing is not None:
                homework = dataclasses.replace(existing, text=text)
            else:
                earlier = [
                    x
                    for x in self.lessons.values()
                    if x.course_id == due.course_id
                    and (x.date, x.number) < (due.date, due.number)
                    and x.status != "cancelled"
                ]
                issued = max(earlier, key=lambda x: (x.date, x.number), default=due)
                homework = Homework(
                    id=self._new_id("assignment"),
                    class_id=due.class_id,
                    subject=due.subject,
                    teacher_id=due.teacher_id,
                    text=text,
                    assigned_on=issued.date,
                    due_on=due.date,
                    issued_lesson_id=issued.id,
                    due_lesson_id=due.id,
                )
            self.homework[homework.id] = homework
            self._commit("set_homework", f"задание к {due.date} «{due.subject}»: {text}", homework)
            return homework, existing is None

    def call_meeting(self, body: Body) -> Event:
        """Announce a parent meeting of a class (named by a student or ``class_id``)."""
        _only(body, {"student", "class_id", "starts_at", "place", "title", "agenda"})
        with self._lock:
            if body.get("class_id") not in (None, ""):
                school_class = self._school_class(_int(body, "class_id"))
            else:
                student = self.student(body.get("student"))
                school_class = self._read().class_of(student.id)
            try:
                starts_at = dt.datetime.fromisoformat(str(_text(body, "starts_at")))
            except ValueError:
                raise DayError("starts_at", "starts_at: ГГГГ-ММ-ДДTЧЧ:ММ") from None
            agenda = body.get("agenda") or ()
            if isinstance(agenda, str):
                agenda = [line.strip() for line in agenda.splitlines() if line.strip()]
            if not isinstance(agenda, list | tuple) or not all(isinstance(x, str) for x in agenda):
                raise DayError("agenda", "agenda: список строк")
            event = Event(
                id=self._new_id("post"),
                school_id=school_class.school_id,
                class_id=school_class.id,
                kind="parent_meeting",
                title=_text(body, "title", required=False)
                or f"Родительское собрание {school_class.name} класса",
                starts_at=starts_at.replace(tzinfo=None, second=0, microsecond=0),
                place=str(_text(body, "place")),
                agenda=tuple(agenda),
                posted_at=dt.datetime.now(DEMO_ZONE).replace(tzinfo=None),
                author_id=school_class.teacher_id,
            )
            self.events[event.id] = event
            self._commit(
                "call_meeting",
                f"{event.title}: {event.starts_at:%d.%m.%Y %H:%M}, {event.place}",
                event,
            )
            return event

    def edits(self) -> list[dict[str, t.Any]]:
        """Return the edits since the last reset, oldest first."""
        with self._lock:
            return list(self._edits)

    def reset(self) -> None:
        """Give back the seeded school day (ids handed out stay used)."""
        with self._lock:
            self._load(self._seeded)
            self._commit("reset", "день сброшен", None)
            self._edits.clear()


def of(app: Flask) -> SchoolDay:
    """Return the school day of an emulator app (for tests that drive it in-process)."""
    return t.cast(SchoolDay, app.extensions["school_day"])
