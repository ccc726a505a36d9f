"""Schedule and attendance: the event calendar, day timetable, short timetable, notices."""

from __future__ import annotations

import datetime as dt
import typing as t

from flask import Blueprint
from flask import Response
from flask import abort
from flask import jsonify
from flask import request

from regional_mock.mesh import payloads
from regional_mock.mesh.family import child
from regional_mock.mesh.family import family_route
from regional_mock.mesh.ids import subject_id
from regional_mock.mesh.wire import DENIED
from regional_mock.mesh.wire import api_error
from regional_mock.mesh.wire import at
from regional_mock.mesh.wire import day_range
from regional_mock.mesh.wire import emulator
from regional_mock.mesh.wire import epoch
from regional_mock.mesh.wire import require_day
from regional_mock.mesh.wire import require_token
from regional_mock.mesh.wire import school_year
from regional_mock.records import Absence
from regional_mock.records import Lesson
from regional_mock.records import Student

bp = Blueprint("mesh_timetable", __name__)

ALL_SOURCES = ("PLAN", "AE", "EC", "EVENTS", "AFISHA", "ORGANIZER", "OLYMPIAD", "PROF")


def _absences(student: Student, start: dt.date, end: dt.date) -> dict[int, Absence]:
    return {a.lesson_id: a for a in emulator().world.absences_of(student.id, start, end)}


def _calendar_children() -> list[Student]:
    token = require_token()
    em = emulator()
    wanted = [p.strip() for p in request.args.get("person_ids", "").split(",") if p.strip()]
    if not wanted:
        abort(api_error(400, "Параметр person_ids обязателен"))
    found = [em.ids.student_by_guid(p) for p in wanted]
    if any(s is None or s.id not in token.account.student_ids for s in found):
        abort(api_error(403, DENIED))
    return [s for s in found if s is not None]


@bp.get("/api/eventcalendar/v1/api/events")
def events() -> Response:
    """Return lessons, meetings and school events of ``begin_date``..``end_date`` (§2.4 a)."""
    students = _calendar_children()
    start, end = day_range(("begin_date",), ("end_date",))
    raw_sources = request.args.get("source_types", "")
    sources = {s.strip().upper() for s in raw_sources.split(",") if s.strip()} or set(ALL_SOURCES)
    expand = {e.strip() for e in request.args.get("expand", "").split(",") if e.strip()}
    world = emulator().world
    items: list[dict[str, t.Any]] = []
    for student in students:
        if "PLAN" in sources:
            missed = _absences(student, start, end)
            for lesson in world.lessons_of(student.id, start, end):
                items.append(payloads.lesson_event(student, lesson, expand, missed.get(lesson.id)))
        for event in world.events_of(student.id):
            body = payloads.school_event(event)
            if body["source"] in sources and start <= event.starts_at.date() <= end:
                items.append(body)
    items.sort(key=lambda item: (item["start_at"], item["id"]))
    return jsonify(total_count=len(items), response=items, errors=None)


def _lesson(student: Student, lesson: Lesson, missed: Absence | None) -> dict[str, t.Any]:
    world = emulator().world
    due = payloads.due_at(student, lesson)
    marks = [
        m for m in world.marks_of(student.id, lesson.date, lesson.date) if m.lesson_id == lesson.id
    ]
    is_missed, reason = payloads.ABSENCE_CODES.get(missed.kind if missed else "", (False, None))
    body = {"schedule_item_id": emulator().ids.schedule_item_id(lesson.id)}
    body |= {"subject_id": subject_id(lesson.subject), "subject_name": lesson.subject}
    body |= {"course_lesson_type": None, "teacher": payloads.teacher(lesson.teacher_id)}
    body |= {"marks": [payloads.event_mark(m) for m in marks]}
    body |= {"homework": "; ".join(h.text for h in due), "link_types": []}
    body |= {"materials_count": {}, "lesson_type": "NORMAL", "lesson_education_type": "OO"}
    body |= {"evaluation": None, "absence_reason_id": reason, "bell_id": 50 + lesson.number}
    body |= {"replaced": lesson.status == "replaced"}
    done = sum(payloads.is_done(student, h) for h in due)
    body |= {"homework_count": {"total_count": len(due), "ready_count": done}}
    body |= {"esz_field_id": None, "is_cancelled": lesson.status == "cancelled"}
    return {**body, "is_missed_lesson": is_missed, "is_virtual": False}


def _activity(student: Student, lesson: Lesson, missed: Absence | None) -> dict[str, t.Any]:
    number, name = payloads.room(lesson)
    begin, end = at(lesson.date, lesson.starts_at), at(lesson.date, lesson.ends_at)
    due = payloads.due_at(student, lesson)
    body = {"type": "LESSON", "info": f"{lesson.number} урок"}
    body |= {"begin_utc": epoch(begin), "end_utc": epoch(end)}
    body |= {"begin_time": lesson.starts_at, "end_time": lesson.ends_at}
    body |= {"room_number": number, "room_name": name, "building_name": payloads.BUILDING}
    body |= {"homework_presence_status_id": 1 if due else 0}
    return {**body, "lesson": _lesson(student, lesson, missed)}


def lessons_word(count: int) -> str:
    """Return «N урок/урока/уроков» with the Russian plural."""
    if count % 10 == 1 and count % 100 != 11:
        return f"{count} урок"
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return f"{count} урока"
    return f"{count} уроков"


@family_route("/schedule", bp)
def schedule() -> Response:
    """Return one day's timetable with breaks (§2.4 b)."""
    student = child()
    day = require_day("date")
    lessons = sorted(emulator().world.lessons_of(student.id, day, day), key=lambda x: x.number)
    missed = _absences(student, day, day)
    activities: list[dict[str, t.Any]] = []
    for previous, lesson in zip([None, *lessons], lessons, strict=False):
        if previous is not None:
            begin, end = at(day, previous.ends_at), at(day, lesson.starts_at)
            activities.append(
                {
                    "type": "BREAK",
                    "info": "Перемена",
                    "begin_utc": epoch(begin),
                    "end_utc": epoch(end),
                    "duration": int((end - begin).total_seconds()),
                }
            )
        activities.append(_activity(student, lesson, missed.get(lesson.id)))
    has_homework = any(payloads.due_at(student, x) for x in lessons)
    return jsonify(
        summary=lessons_word(len(lessons)),
        date=day.isoformat(),
        has_homework=has_homework,
        activities=activities,
    )


@family_route("/schedule/short", bp)
def schedule_short() -> Response:
    """Return the lessons of each date in ``dates`` (§2.4 c)."""
    student = child()
    raw = [d.strip() for d in request.args.get("dates", "").split(",") if d.strip()]
    try:
        days = [dt.date.fromisoformat(d) for d in raw]
    except ValueError:
        return api_error(400, "Неверный формат даты: dates")
    if not days:
        return api_error(400, "Параметр dates обязателен")
    em = emulator()
    missed = _absences(student, min(days), max(days))
    payload = []
    for day in days:
        lessons = sorted(em.world.lessons_of(student.id, day, day), key=lambda x: x.number)
        payload.append({"date": day.isoformat(), "lessons": [_short(x, missed) for x in lessons]})
    return jsonify(payload=payload)


def _short(lesson: Lesson, missed: dict[int, Absence]) -> dict[str, t.Any]:
    em = emulator()
    cls = em.world.school_class(lesson.class_id)
    item = em.ids.schedule_item_id(lesson.id)
    absence = missed.get(lesson.id)
    reason = payloads.ABSENCE_CODES.get(absence.kind if absence else "", (False, None))[1]
    body = {"lesson_id": item, "begin_time": lesson.starts_at, "end_time": lesson.ends_at}
    body |= {"bell_id": 50 + lesson.number, "subject_name": lesson.subject}
    body |= {"lesson_type": "NORMAL", "group_id": em.ids.group_id(lesson.course_id)}
    body |= {"group_name": f"{lesson.subject} {cls.grade}-{cls.letter}"}
    body |= {"lesson_education_type": "OO", "evaluation": None, "absence_reason_id": reason}
    body |= {"subject_id": subject_id(lesson.subject), "lesson_name": lesson.theme}
    return {**body, "schedule_item_id": item, "is_virtual": False}


@bp.get("/api/family/mobile/v1/attendance/")
@bp.get("/api/family/mobile/v1/attendance")
def attendance() -> Response:
    """Return the parent's absence notices: the day of illness and the excused lesson (§2.5)."""
    student = child()
    em = emulator()
    world = em.world
    start, end = school_year(world.today)
    parent = em.ids.parent_profile_id(require_token().account)
    by_day: dict[dt.date, list[Absence]] = {}
    for absence in world.absences_of(student.id, start, end):
        if absence.kind in ("ill", "excused"):
            by_day.setdefault(absence.date, []).append(absence)
    notices = []
    for day, items in sorted(by_day.items()):
        ill = items[0].kind == "ill"
        summary = (
            "Отсутствовал(а) весь день" if ill else f"Отсутствовал(а) на {items[0].number} уроке"
        )
        notices.append(
            {
                "date": day.isoformat(),
                "summary": summary,
                "notified": True,
                "lessons": [],
                "description": "болезнь" if ill else "семейные обстоятельства",
                "reason_id": 6 if ill else None,
                "is_system": False,
                "parent_profile_id": parent,
            }
        )
    year = f"{start.year}/{end.year} учебный год"
    return jsonify(days_count=len(notices), year_description=year, attendance=notices)
