"""Turn NetSchool's raw JSON into the normalized schema: pure functions, no I/O.

The shapes are those of the reference note: ``student/diary/init`` (§2.1), ``student/diary``
(§2.4, §3.7), ``grade/assignment/types`` (§2.3) and the mobile ``classmeetings`` (§2.13, §3.8).
Every function raises ``KeyError``, ``TypeError`` or ``ValueError`` on a shape it does not
understand; the connector turns those into ``UnexpectedResponse``.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from collections.abc import Iterator
from collections.abc import Mapping

from connectors.labels import class_label
from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Period
from connectors.schema import Scale
from connectors.schema import Student

JSON = Mapping[str, t.Any]

HOMEWORK_TYPE = 3
# «Не задано» means there is no task at all; «---Не указана---» means a task exists but its
# text was not filled in (note §4).
NO_TASK = "Не задано"
NO_TEXT = "---Не указана---"
# Mobile ``attendance`` codes (note §2.12) -> our kinds, with a note where the kind loses detail.
ATTENDANCE_CODES: Mapping[str, tuple[AttendanceKind, str | None]] = {
    "ОТ": (AttendanceKind.ABSENT, None),
    "УП": (AttendanceKind.EXCUSED, None),
    "Б": (AttendanceKind.ILL, None),
    "НП": (AttendanceKind.UNEXCUSED, None),
    "ОП": (AttendanceKind.LATE, None),
    "ОСВ": (AttendanceKind.EXCUSED, "освобождён"),
}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def day_of(raw: str) -> dt.date:
    """Parse NetSchool's naive ``YYYY-MM-DDT00:00:00`` (or plain ``YYYY-MM-DD``) date."""
    return dt.date.fromisoformat(raw[:10])


def time_of(raw: str | None) -> dt.time | None:
    """Parse a lesson time ``HH:MM``; the naive local school time stays naive."""
    return dt.time.fromisoformat(raw) if raw else None


def students(init: JSON, school: str | None = None) -> list[Student]:
    """List the children of ``student/diary/init``, at the school the sign-in chose.

    ``currentStudentId`` is an index into ``students`` (note §4), never an id: every id
    comes from ``studentId``, and we list all children, so the index is not needed.
    ``nickName`` is «Фамилия Имя»: NetSchool gives a parent no child's patronymic.
    """
    return [
        Student(
            id=str(int(item["studentId"])),
            full_name=str(item["nickName"]),
            school=school,
            class_name=class_label(item.get("className")),
        )
        for item in init["students"]
    ]


def school_name(answer: JSON) -> str | None:
    """Return the school a sign-in chose: ``accountInfo.currentOrganization`` (note §2.0)."""
    organization = (answer.get("accountInfo") or {}).get("currentOrganization") or {}
    name = " ".join(str(organization.get("name") or "").split())
    return name or None


def init_week(init: JSON, today: dt.date) -> Period:
    """Return the week ``student/diary/init`` opens on (``weekStart``), else today's week."""
    raw = init.get("weekStart")
    start = day_of(raw) if raw else today - dt.timedelta(days=today.weekday())
    return Period(start=start, end=start + dt.timedelta(days=6))


def class_of(diary: JSON) -> str | None:
    """Return the class a diary is of: its top-level ``className`` (note §2.4)."""
    return class_label(diary.get("className"))


def work_types(raw: list[JSON]) -> dict[int, str]:
    """Map the typeIds of ``grade/assignment/types?all=true`` to their names."""
    return {int(item["id"]): str(item["name"]) for item in raw}


def lessons_of(diary: JSON) -> Iterator[JSON]:
    """Yield every lesson of a diary; days without lessons are simply absent (note §4)."""
    for day in diary.get("weekDays") or ():
        yield from day.get("lessons") or ()


def assignments_of(lesson: JSON) -> list[JSON]:
    """Return a lesson's assignments; the list may be empty, null or absent (note §4)."""
    return list(lesson.get("assignments") or ())


def mark_value(raw: object) -> tuple[str, float | None]:
    """Return a mark as shown and its numeric value when it honestly is a number.

    Integers and decimals («4,5») are numbers; «зч», «н/а» or «4 (хорошо)» are kept as text
    with no numeric value (note §2.12).
    """
    if isinstance(raw, bool):
        raise TypeError("a mark cannot be a boolean")
    if isinstance(raw, int | float):
        shown = str(int(raw)) if float(raw).is_integer() else str(raw)
        return shown, float(raw)
    text = str(raw).strip()
    if _NUMBER.fullmatch(text):
        return text, float(text.replace(",", "."))
    return text, None


def _is_dot(mark: JSON) -> bool:
    """Tell whether a mark object is an owed-work dot rather than a mark."""
    # A dot (``dutyMark``) is owed work, not a grade: it comes with ``mark: null`` (note §2.4).
    return mark.get("mark") is None


def grades(
    diary: JSON,
    types: Mapping[int, str],
    teachers: Mapping[int, str] | None = None,
) -> list[Grade]:
    """Return every mark of a diary, one per graded assignment.

    Dots (``dutyMark`` with ``mark: null``) are skipped: they are owed work, not grades; a
    real mark that also carries ``dutyMark`` is kept. A diary weight of 0 means "unknown"
    (note §4) and becomes ``None``; the connector reads the real weight from ``assigns/{id}``.
    """
    teachers = teachers or {}
    rv: list[Grade] = []
    for lesson in lessons_of(diary):
        for item in assignments_of(lesson):
            mark = item.get("mark")
            if not mark or _is_dot(mark):
                continue
            rv.append(_grade(lesson, item, mark, types, teachers.get(lesson["classmeetingId"])))
    return rv


def _grade(
    lesson: JSON, item: JSON, mark: JSON, types: Mapping[int, str], teacher: str | None
) -> Grade:
    """Return one graded assignment as a grade."""
    shown, numeric = mark_value(mark["mark"])
    type_id = int(item["typeId"])
    weight = item.get("weight")
    comment = (item.get("markComment") or {}).get("name")
    return Grade(
        id=str(int(item["id"])),
        subject=str(lesson["subjectName"]),
        value=shown,
        numeric=numeric,
        scale=Scale.FIVE_POINT,
        date=day_of(lesson["day"]),
        weight=float(weight) if weight else None,
        work_type=types.get(type_id, str(type_id)),
        teacher=teacher,
        comment=comment or None,
        topic=item.get("assignmentName") or None,
    )


def homework(diary: JSON, period: Period) -> list[Homework]:
    """Return the homework (typeId 3) due in a period, once per assignment.

    «Не задано» is no task and is skipped; «---Не указана---» is a task without text.
    """
    dates = {lesson["classmeetingId"]: day_of(lesson["day"]) for lesson in lessons_of(diary)}
    seen: dict[str, Homework] = {}
    for lesson in lessons_of(diary):
        for item in assignments_of(lesson):
            task = _homework(lesson, item, dates)
            if task is not None and period.start <= task.due_on <= period.end:
                seen.setdefault(task.id, task)
    return list(seen.values())


def _homework(lesson: JSON, item: JSON, dates: Mapping[int, dt.date]) -> Homework | None:
    """Return an assignment as homework, or None when it is no task."""
    if int(item["typeId"]) != HOMEWORK_TYPE:
        return None
    text = homework_text(item.get("assignmentName"))
    if text is None:
        return None
    issued = item.get("issueClassMeetingId")
    return Homework(
        id=str(int(item["id"])),
        subject=str(lesson["subjectName"]),
        text=text,
        due_on=day_of(item.get("dueDate") or lesson["day"]),
        assigned_on=dates.get(issued) if issued else None,
    )


def homework_text(raw: str | None) -> str | None:
    """Return a homework's text, "" for a task without text, None when there is no task."""
    text = (raw or "").strip()
    if text == NO_TASK:
        return None
    return "" if text == NO_TEXT else text


def schedule(diary: JSON, teachers: Mapping[int, str] | None = None) -> list[Lesson]:
    """Return the lessons of a diary.

    The web diary has no change field, so every lesson is ``PLANNED``; a cancelled lesson
    simply is not served.
    """
    teachers = teachers or {}
    rv: list[Lesson] = []
    for lesson in lessons_of(diary):
        texts = (homework_text(a.get("assignmentName")) for a in _homework_items(lesson))
        number = lesson.get("number")
        rv.append(
            Lesson(
                id=str(int(lesson["classmeetingId"])),
                date=day_of(lesson["day"]),
                number=int(number) if number is not None else None,
                subject=str(lesson["subjectName"]),
                starts_at=time_of(lesson.get("startTime")),
                ends_at=time_of(lesson.get("endTime")),
                teacher=teachers.get(lesson["classmeetingId"]),
                room=lesson.get("room") or None,
                status=LessonStatus.PLANNED,
                homework=tuple(text for text in texts if text),
            )
        )
    return rv


def _homework_items(lesson: JSON) -> list[JSON]:
    """Return a lesson's homework assignments."""
    return [a for a in assignments_of(lesson) if int(a["typeId"]) == HOMEWORK_TYPE]


def unknown_weights(diary: JSON) -> list[int]:
    """Return the ids of graded assignments whose diary weight is 0 or missing (note §4)."""
    return [
        int(item["id"])
        for lesson in lessons_of(diary)
        for item in assignments_of(lesson)
        if item.get("mark") and not _is_dot(item["mark"]) and not item.get("weight")
    ]


def teacher_names(meetings: list[JSON]) -> dict[int, str]:
    """Map each mobile class meeting's id to its teachers' names, joined by commas."""
    rv: dict[int, str] = {}
    for meeting in meetings:
        names = [str(x["name"]) for x in meeting.get("teachers") or () if x.get("name")]
        if names:
            rv[int(meeting["classmeetingId"])] = ", ".join(names)
    return rv


def attendance(meetings: list[JSON]) -> list[Attendance]:
    """Return the absences and late arrivals of mobile ``classmeetings``.

    An unknown code counts as an absence and is kept in ``note``, since it is opaque text.
    """
    rv: list[Attendance] = []
    for meeting in meetings:
        code = (meeting.get("attendance") or "").strip()
        if not code:
            continue
        kind, note = ATTENDANCE_CODES.get(code.upper(), (AttendanceKind.ABSENT, code))
        number = meeting.get("scheduleTimeNumber")
        rv.append(
            Attendance(
                date=day_of(meeting["day"]),
                kind=kind,
                subject=meeting.get("subjectName") or None,
                lesson_number=int(number) if number is not None else None,
                note=note,
            )
        )
    return rv
