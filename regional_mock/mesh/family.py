"""Family API data: marks, homework (with files and ticks) and notifications (§2.1, §2.3, §2.7)."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Callable
from urllib.parse import quote

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.mesh import payloads
from regional_mock.mesh.ids import subject_id
from regional_mock.mesh.wire import DENIED
from regional_mock.mesh.wire import api_error
from regional_mock.mesh.wire import at
from regional_mock.mesh.wire import day_range
from regional_mock.mesh.wire import emulator
from regional_mock.mesh.wire import micro
from regional_mock.mesh.wire import require_child
from regional_mock.mesh.wire import require_token
from regional_mock.records import Student

bp = Blueprint("mesh_family", __name__)

F = t.TypeVar("F", bound=Callable[..., t.Any])
PREFIXES = ("/api/family/web/v1", "/api/family/mobile/v1")


def family_route(path: str, blueprint: Blueprint = bp, **options: t.Any) -> Callable[[F], F]:
    """Register a view under both the web and the mobile family prefixes."""

    def register(view: F) -> F:
        for prefix in PREFIXES:
            blueprint.add_url_rule(prefix + path, view_func=view, **options)
        return view

    return register


def child() -> Student:
    """Return the child of ``student_id`` after checking the token."""
    token = require_token()
    return require_child(token.account, request.args.get("student_id"))


@family_route("/marks")
def marks() -> Response:
    """Return the child's marks of lessons in ``from``..``to`` (§2.1)."""
    student = child()
    start, end = day_range(("from",), ("to",))
    items = emulator().world.marks_of(student.id, start, end)
    return jsonify(payload=[payloads.mark(m) for m in items])


@family_route("/homeworks")
def homeworks() -> Response:
    """Return the homework due in ``from``..``to`` (§2.3)."""
    student = child()
    start, end = day_range(("from",), ("to",))
    items = sorted(emulator().world.homework_of(student.id, start, end), key=lambda h: h.due_on)
    if request.args.get("sort_direction") == "desc":
        items.reverse()
    return jsonify(payload=[payloads.homework(student, h) for h in items])


@family_route("/homeworks/short")
def homeworks_short() -> Response:
    """Return the short homework list (§2.3)."""
    student = child()
    start, end = day_range(("from",), ("to",))
    items = sorted(emulator().world.homework_of(student.id, start, end), key=lambda h: h.due_on)
    rows = []
    for item in items:
        full = payloads.homework(student, item)
        keys = ("description", "subject_id", "subject_name", "date", "date_assigned_on")
        keys += ("homework_entry_student_id", "is_done", "type", "has_teacher_answer")
        row = {k: full[k] for k in keys}
        amount = len(item.attachments)
        row["materials_count"] = [{"amount": amount, "selected_mode": "learn"}] if amount else []
        rows.append({**row, "has_written_answer": False})
    return jsonify(payload=rows)


@family_route("/homeworks/<int:homework_id>/done", methods=["POST", "DELETE"])
def homework_done(homework_id: int) -> Response:
    """Tick (POST) or untick (DELETE) a homework for the family's child."""
    token = require_token()
    em = emulator()
    world_id = em.ids.homework_by_id(homework_id)
    if world_id is None:
        return api_error(404, "Домашнее задание не найдено")
    item = em.world.homework_item(world_id)
    students = [s for s in em.world.students_of(token.account) if s.class_id == item.class_id]
    if not students:
        return api_error(403, DENIED)
    em.state.set_done(students[0].id, item.id, request.method == "POST")
    return jsonify(success=True)


@bp.get("/ej/attachments/<int:attachment_id>")
def attachment(attachment_id: int) -> Response:
    """Serve a homework file to a family whose child's class has it."""
    token = require_token()
    world = emulator().world
    try:
        item = world.attachment(attachment_id)
    except KeyError:
        return api_error(404, "Файл не найден")
    classes = {s.class_id for s in world.students_of(token.account)}
    owner = next(h for h in world.homework if item in h.attachments)
    if owner.class_id not in classes:
        return api_error(403, DENIED)
    response = Response(item.content, content_type="application/octet-stream")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(item.name)}"
    return response


@family_route("/notifications/search")
def notifications() -> Response:
    """Return a bare array of mark and homework notifications, newest first (§2.7)."""
    student = child()
    em = emulator()
    world = em.world
    rows = [
        row
        for m in world.marks_of(student.id, world.first_day, world.today)
        for row in _mark_rows(student, m)
    ]
    rows += [
        _homework_row(student, h)
        for h in world.homework
        if h.class_id == student.class_id and h.assigned_on <= world.today
    ]
    rows.sort(key=lambda row: row["datetime"], reverse=True)
    return jsonify(rows)


def _common(
    student: Student, moment: dt.datetime, subject: str, teacher_id: int
) -> dict[str, t.Any]:
    em = emulator()
    stamp = micro(moment)
    return {
        "datetime": stamp,
        "created_at": stamp,
        "updated_at": stamp,
        "subject_name": subject,
        "teacher_name": em.world.teacher(teacher_id).full_name,
        "student_profile_id": em.ids.student_profile_id(student),
        "author_profile_id": em.ids.teacher_id(teacher_id),
    }


def _mark_rows(student: Student, item: t.Any) -> list[dict[str, t.Any]]:
    body = payloads.mark(item)
    moment = dt.datetime.fromisoformat(body["created_at"])
    common = _common(student, moment, item.subject, item.teacher_id)
    lesson_date = f"{item.date.isoformat()} 00:00:00"
    row = {"event_type": "create_mark", **common, "lesson_date": lesson_date}
    row |= {"new_mark_value": item.shown, "old_mark_value": None, "new_is_exam": body["is_exam"]}
    row |= {"new_mark_weight": body["weight"], "control_form_name": body["control_form_name"]}
    rows = [row]
    if item.comment:
        later = _common(student, moment + dt.timedelta(minutes=1), item.subject, item.teacher_id)
        comment = {"event_type": "create_mark_comment", **later, "new_mark_value": item.shown}
        rows.append({**comment, "lesson_date": lesson_date, "comment": item.comment})
    return rows


def _homework_row(student: Student, item: t.Any) -> dict[str, t.Any]:
    lesson = emulator().world.lesson(item.issued_lesson_id)
    moment = at(item.assigned_on, lesson.ends_at) + dt.timedelta(minutes=item.id % 50)
    row = {
        "event_type": "create_homework",
        **_common(student, moment, item.subject, item.teacher_id),
    }
    row |= {"new_hw_description": item.text, "new_date_assigned_on": item.assigned_on.isoformat()}
    return {
        **row,
        "new_date_prepared_for": item.due_on.isoformat(),
        "subject_id": subject_id(item.subject),
    }
