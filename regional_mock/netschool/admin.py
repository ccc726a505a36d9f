"""Development admin of the NetSchool emulator, and the operator-side API of the region.

``POST /password`` changes a password as the school would (no key: development only).

The operator-side API stands in for what a regional operator's account can do at the real
system; it needs the ``X-Operator-Key`` header equal to ``NETSCHOOL_OPERATOR_API_KEY``:

- ``GET /roster?full_name=&birth_date=YYYY-MM-DD&school=&class_name=`` answers
  ``{"found": bool}``: is this student enrolled in that school and class?
- ``POST /credentials`` with JSON ``{full_name, birth_date, school, class_name,
  parent_name}`` creates a school-issued parent login showing the student (login «НовиковПО»,
  a generated Cyrillic password) and answers ``{"found": true, "login", "password",
  "school"}``, or ``{"found": false}`` when the roster has no such student. The login works
  with the normal sign-in at once; it lives in memory until the emulator restarts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import threading
from collections.abc import Mapping

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import jsonify
from flask import request

from regional_mock.netschool.wire import emulator
from regional_mock.netschool.wire import message
from regional_mock.records import Account
from regional_mock.records import Student

bp = Blueprint("netschool_admin", __name__, url_prefix="/__admin/netschool")
_issuing = threading.Lock()


@bp.post("/password")
def change_password() -> tuple[Response, int] | Response:
    """``{"login", "password"}``: the school resets a parent's password; sessions end."""
    body = request.get_json(silent=True) or {}
    account = emulator().world.account("netschool", str(body.get("login", "")))
    password = body.get("password")
    if account is None or not isinstance(password, str) or not password:
        return jsonify(error="unknown login or empty password"), 400
    ended = emulator().state.change_password(account, password)
    return jsonify(login=account.login, sessions_ended=ended)


@bp.before_request
def require_operator_key() -> Response | None:
    """Let only the regional operator's key through to the operator-side API."""
    if request.endpoint == "netschool_admin.change_password":
        return None
    expected = str(current_app.config.get("NETSCHOOL_OPERATOR_API_KEY") or "")
    given = request.headers.get("X-Operator-Key", "")
    if not expected or not secrets.compare_digest(given, expected):
        return message(403, "Доступ запрещен")
    return None


def _squeeze(text: str) -> str:
    """Compare class names and schools without spaces, quotes or case: 8 «А» == 8А."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _enrolled(query: Mapping[str, object]) -> Student | None:
    """Return the student the query names, when enrolled in the named school and class."""
    world = emulator().world
    try:
        student = world.student_by_name(str(query.get("full_name", "")).strip())
        born = dt.date.fromisoformat(str(query.get("birth_date", "")))
    except (KeyError, ValueError):
        return None
    school, school_class = world.school_of(student.id), world.class_of(student.id)
    wanted_school = _squeeze(str(query.get("school", "")))
    names = (school.name, school.short_name)
    return (
        student
        if student.birth_date == born
        and school.system == "netschool"
        and bool(wanted_school)
        and any(wanted_school in _squeeze(name) for name in names)
        and _squeeze(str(query.get("class_name", "")))
        in {_squeeze(school_class.name), _squeeze(school_class.short_name)}
        else None
    )


@bp.get("/roster")
def roster() -> Response:
    """Tell whether a student with this name and birth date is in that school and class."""
    return jsonify(found=_enrolled(request.args) is not None)


def _login_for(parent_name: str) -> str:
    """Return «НовиковПО»: the surname and the initials, unique at this system."""
    surname, *rest = parent_name.split() or ["Родитель"]
    base = surname + "".join(part[0].upper() for part in rest)
    world, login, number = emulator().world, base, 1
    while world.account("netschool", login) is not None:
        number += 1
        login = f"{base}{number}"
    return login


@bp.post("/credentials")
def issue_credentials() -> Response:
    """Create a parent's login that shows an enrolled student."""
    body = request.get_json(silent=True) or {}
    student = _enrolled(body)
    parent_name = str(body.get("parent_name", "")).strip()
    if student is None or not parent_name:
        return jsonify(found=False)
    state = emulator()
    with _issuing:
        world = state.world
        account = Account(
            system="netschool",
            login=_login_for(parent_name),
            password=f"Пароль-{secrets.randbelow(9000) + 1000}",
            student_ids=(student.id,),
            id=max((a.id for a in world.accounts), default=7712000) + 1,
            holder=parent_name,
        )
        state.world = dataclasses.replace(world, accounts=(*world.accounts, account))
    school = world.school_of(student.id)
    return jsonify(
        found=True, login=account.login, password=account.password, school=school.short_name
    )
