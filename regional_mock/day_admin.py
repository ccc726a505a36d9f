"""The school day's development admin API and page, shared by every emulator.

JSON API under ``/__admin/day`` (bodies as ``regional_mock.school_day`` describes; ids are
world ids, as ``GET /__admin/day`` and the answers show them):

- ``POST /marks`` -> 201 ``{"mark"}``; ``PATCH /marks/<id>`` -> ``{"mark"}``;
  ``DELETE /marks/<id>`` -> ``{"deleted": id}``;
- ``POST /absences`` -> 201 ``{"absence"}``;
- ``POST /lessons/<id>/replace``, ``POST /lessons/<id>/cancel`` -> ``{"lesson"}``;
- ``POST /homework`` -> 201 (new) or 200 (new text) ``{"homework"}``;
- ``POST /meetings`` -> 201 ``{"event"}``;
- ``GET /`` -> ``{"system", "students": [{id, full_name}], "edits"}``; ``DELETE /`` resets.

Errors: 400 or 404 with ``{"error": message, "field": name}``. ``GET /page`` is the HTML
page; its forms post to ``POST /page/<action>`` and come back to the page (303).
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from urllib.parse import urlencode

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import request
from flask import url_for

from regional_mock import school_day
from regional_mock.day_page import render_page
from regional_mock.school_day import DayError
from regional_mock.school_day import SchoolDay
from regional_mock.school_day import jsonable
from regional_mock.world import World

bp = Blueprint("school_day", __name__, url_prefix="/__admin/day", template_folder="templates")
Answer = Response | tuple[Response, int]


def install(
    app: Flask, system: str, *, read: Callable[[], World], publish: Callable[[World], None]
) -> SchoolDay:
    """Give an emulator app its school day, and its admin API and page under EMULATOR_ADMIN."""
    day = SchoolDay(system, read=read, publish=publish)
    app.extensions["school_day"] = day
    if app.config.get("EMULATOR_ADMIN", True):
        app.register_blueprint(bp)
    return day


def _day() -> SchoolDay:
    return school_day.of(current_app)


@bp.errorhandler(DayError)
def _refuse(err: DayError) -> Answer:
    return jsonify(error=err.message, field=err.field), err.status


def _body() -> dict[str, object]:
    """Return the JSON object (or form) the request carries; 400 on anything else."""
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise DayError(None, "ожидался JSON-объект")
        return body
    return {k: v for k, v in request.form.items() if v != ""}


@bp.get("")
@bp.get("/")
def show() -> Response:
    """Return the edits of the day so far and the children that can be edited."""
    day = _day()
    students = [{"id": s.id, "full_name": s.full_name} for s in day.students()]
    return jsonify(system=day.system, students=students, edits=day.edits())


@bp.delete("")
@bp.delete("/")
def reset() -> Response:
    """Give back the seeded world."""
    _day().reset()
    return show()


@bp.post("/marks")
def add_mark() -> Answer:
    """Add a mark; it gets a new id."""
    return jsonify(mark=jsonable(_day().add_mark(_body()))), 201


@bp.patch("/marks/<int:mark_id>")
def edit_mark(mark_id: int) -> Answer:
    """Change a mark's value or comment; it keeps its id."""
    return jsonify(mark=jsonable(_day().edit_mark(mark_id, _body())))


@bp.delete("/marks/<int:mark_id>")
def delete_mark(mark_id: int) -> Answer:
    """Delete a mark."""
    return jsonify(deleted=_day().delete_mark(mark_id).id)


@bp.post("/absences")
def mark_absence() -> Answer:
    """Mark an absence or a late arrival."""
    return jsonify(absence=jsonable(_day().mark_absence(_body()))), 201


@bp.post("/lessons/<int:lesson_id>/replace")
def replace_lesson(lesson_id: int) -> Answer:
    """Replace a lesson's subject, teacher or room."""
    return jsonify(lesson=jsonable(_day().replace_lesson(lesson_id, _body())))


@bp.post("/lessons/<int:lesson_id>/cancel")
def cancel_lesson(lesson_id: int) -> Answer:
    """Cancel a lesson."""
    return jsonify(lesson=jsonable(_day().cancel_lesson(lesson_id)))


@bp.post("/homework")
def set_homework() -> Answer:
    """Set the homework due on a lesson."""
    homework, created = _day().set_homework(_body())
    return jsonify(homework=jsonable(homework)), 201 if created else 200


@bp.post("/meetings")
def call_meeting() -> Answer:
    """Announce a parent meeting."""
    return jsonify(event=jsonable(_day().call_meeting(_body()))), 201


# The page ------------------------------------------------------------------------------

_PAGE_ACTIONS: dict[str, Callable[[SchoolDay, dict[str, object]], object]] = {
    "mark": lambda day, body: day.add_mark(body),
    "edit_mark": lambda day, body: day.edit_mark(_pop_id(body, "mark_id"), body),
    "delete_mark": lambda day, body: day.delete_mark(_pop_id(body, "mark_id")),
    "absence": lambda day, body: day.mark_absence(body),
    "replace": lambda day, body: day.replace_lesson(_pop_id(body, "lesson_id"), body),
    "cancel": lambda day, body: day.cancel_lesson(_pop_id(body, "lesson_id")),
    "homework": lambda day, body: day.set_homework(body),
    "meeting": lambda day, body: day.call_meeting(body),
    "reset": lambda day, body: day.reset(),
}


def _pop_id(body: dict[str, object], name: str) -> int:
    raw = body.pop(name, "")
    if not str(raw).isdigit():
        raise DayError(name, f"выберите {name}")
    return int(str(raw))


@bp.get("/page")
def page() -> Response:
    """Show the page where a person plays the teacher."""
    day = _day()
    chosen = request.args.get("student")
    student = day.student(chosen) if chosen else day.students()[0]
    html = render_page(
        day, student, notice=request.args.get("notice"), error=request.args.get("error")
    )
    return Response(html, content_type="text/html; charset=utf-8")


@bp.post("/page/<action>")
def page_action(action: str) -> Response:
    """Do a page form's action, then show the page again with what happened."""
    if action not in _PAGE_ACTIONS:
        raise DayError("action", f"нет действия {action!r}", 404)
    body = _body()
    student = str(body.pop("page_student", ""))
    query: dict[str, str] = {"student": student} if student else {}
    try:
        _PAGE_ACTIONS[action](_day(), body)
        edits = _day().edits()
        query["notice"] = f"Готово: {edits[-1]['summary']}" if edits else "День сброшен"
    except DayError as err:
        query["error"] = f"{err.field or 'запрос'}: {err.message}"
    target = url_for("school_day.page") + "?" + urlencode(query)
    return t.cast(Response, redirect(target, code=303))
