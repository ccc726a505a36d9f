"""Dnevnik.ru API v2: the lesson log (attendance) and homework files."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.dnevnik_ru import ids
from regional_mock.dnevnik_ru.diary import STATUSES
from regional_mock.dnevnik_ru.diary import child
from regional_mock.dnevnik_ru.diary import lesson_of
from regional_mock.dnevnik_ru.diary import make_journal
from regional_mock.dnevnik_ru.diary import subject_name
from regional_mock.dnevnik_ru.wire import at
from regional_mock.dnevnik_ru.wire import emulator
from regional_mock.dnevnik_ru.wire import fail
from regional_mock.dnevnik_ru.wire import parse_range
from regional_mock.dnevnik_ru.wire import require_id
from regional_mock.dnevnik_ru.wire import require_token

bp = Blueprint("dnevnik_attendance", __name__)


@bp.get("/lesson-log-entries/statuses")
def statuses() -> Response:
    """List the lesson-log statuses."""
    require_token()
    return jsonify(STATUSES)


@bp.get("/persons/<person>/lesson-log-entries")
def person_entries(person: str) -> Response:
    """List a child's absences and late arrivals in ``startDate``–``endDate``."""
    student = child(person)
    start, end = parse_range(
        request.args.get("startDate"), request.args.get("endDate"), ("startDate", "endDate")
    )
    journal = make_journal()
    return jsonify(
        [journal.log_entry(a) for a in emulator().world.absences_of(student.id, start, end)]
    )


@bp.get("/lesson-log-entries/person/<person>/subject/<subject>")
def subject_entries(person: str, subject: str) -> Response:
    """List a child's lesson-log entries in one subject, ``from``–``to``."""
    student = child(person)
    name = subject_name(student, subject)
    start, end = parse_range(request.args.get("from"), request.args.get("to"), ("from", "to"))
    journal = make_journal()
    found = emulator().world.absences_of(student.id, start, end)
    return jsonify([journal.log_entry(a) for a in found if a.subject == name])


@bp.get("/lesson-log-entries/lesson/<lesson>/person/<person>")
def lesson_entry(lesson: str, person: str) -> Response:
    """Describe a child's attendance at one held lesson (``Attend`` when nothing is noted)."""
    student = child(person)
    found = lesson_of(student, lesson)
    world = emulator().world
    if found.status == "cancelled" or found.date > world.today:
        fail("resourceUnavailable", f"No log entry for lesson {lesson}")
    for absence in world.absences_of(student.id, found.date, found.date):
        if absence.lesson_id == found.id:
            return jsonify(make_journal().log_entry(absence))
    return jsonify(
        {
            **ids.pair("person", "student", student.id),
            **ids.pair("lesson", "lesson", found.id),
            "comment": None,
            "status": "Attend",
            "createdDate": at(found.date, found.starts_at) + ".000",
        }
    )


def _attachment(raw: str) -> tuple[str, bytes, dict[str, object]]:
    token = require_token("EducationalInfo")
    file_id = require_id("file", raw)
    world = emulator().world
    for student in world.students_of(token.account):
        for homework in world.homework_of(student.id, world.first_day, world.last_day):
            for item in homework.attachments:
                if item.id == file_id:
                    base = request.host_url.rstrip("/")
                    return item.name, item.content, make_journal().file(item, base)
    fail("resourceUnavailable", f"File {raw} not found")


@bp.get("/files/<file>")
def file_info(file: str) -> Response:
    """Describe a homework file."""
    return jsonify(_attachment(file)[2])


@bp.get("/files/<file>/download")
def file_download(file: str) -> Response:
    """Stream a homework file."""
    name, content, _ = _attachment(file)
    response = Response(content, mimetype="application/octet-stream")
    response.headers.set("Content-Disposition", "attachment", filename=name)
    return response
