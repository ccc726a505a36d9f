"""The mobile side of NetSchool: the identity token endpoint and ``classmeetings`` attendance."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import jsonify
from flask import request

from regional_mock.netschool import payloads
from regional_mock.netschool.sessions import MOBILE_TOKEN_SECONDS
from regional_mock.netschool.sessions import MobileToken
from regional_mock.netschool.wire import emulator
from regional_mock.netschool.wire import message
from regional_mock.netschool.wire import parse_day

bp = Blueprint("netschool_mobile", __name__)

DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


def _oauth_error(error: str, status: int = 400) -> Response:
    response = jsonify(error=error)
    response.status_code = status
    return response


def _token_answer(token: MobileToken) -> Response:
    return jsonify(
        access_token=token.access_token,
        refresh_token=token.refresh_token,
        expires_in=MOBILE_TOKEN_SECONDS,
        token_type="Bearer",
    )


@bp.post("/connect/token")
def connect_token() -> Response:
    """Stand in for identity.ir-tech.ru: exchange a pincode or refresh token for a token."""
    form = request.form
    state = emulator()
    if form.get("client_id") != "parent-mobile":
        return _oauth_error("invalid_client", 401)
    if form.get("client_secret") != state.mobile_client_secret:
        return _oauth_error("invalid_client", 401)
    grant = form.get("grant_type")
    if grant == DEVICE_CODE:
        account = state.state.take_pincode(form.get("device_code", ""))
        if account is None:
            return _oauth_error("invalid_grant")
        return _token_answer(state.state.issue_token(account))
    if grant == "refresh_token":
        token = state.state.refresh(form.get("refresh_token", ""))
        if token is None:
            return _oauth_error("invalid_grant")
        return _token_answer(token)
    return _oauth_error("unsupported_grant_type")


def _require_bearer() -> MobileToken:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    token = emulator().state.bearer(value) if scheme.lower() == "bearer" else None
    if token is None:
        abort(message(401, "Unauthorized"))
    return token


def _student_ids() -> list[str]:
    # Repeated ``studentIds=1&studentIds=2``; a comma-separated value is accepted too.
    return [part for raw in request.args.getlist("studentIds") for part in raw.split(",") if part]


@bp.get("/api/mobile/classmeetings")
def classmeetings() -> Response:
    """List lessons with each one's ``attendance`` code (Б, НП, УП, ОП) and teachers."""
    token = _require_bearer()
    world = emulator().world
    start = parse_day(request.args.get("startDate"))
    end = parse_day(request.args.get("endDate"))
    if start is None or end is None or end < start:
        return message(400, "The request is invalid.")
    rv = []
    for raw in _student_ids():
        if not raw.isdigit() or int(raw) not in token.account.student_ids:
            return message(403, "Доступ запрещен")
        student = world.student(int(raw))
        codes = {
            a.lesson_id: payloads.ATTENDANCE[a.kind]
            for a in world.absences_of(student.id, start, end)
        }
        for lesson in payloads.served_lessons(world, student, start, end):
            rv.append(payloads.class_meeting(world, lesson, student, codes.get(lesson.id)))
    return jsonify(rv)
