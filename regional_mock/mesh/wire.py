"""Helpers shared by the MESH emulator's views: state, token checks, errors and time formats."""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from flask import Response
from flask import abort
from flask import current_app
from flask import jsonify
from flask import request

from regional_mock.mesh.ids import MeshIds
from regional_mock.mesh.state import MeshState
from regional_mock.mesh.state import Token
from regional_mock.records import Account
from regional_mock.records import Student
from regional_mock.world import World

MSK = dt.timezone(dt.timedelta(hours=3))
EXPIRED = "Предыдущая сессия работы в ЭЖД завершена. Войдите в ЭЖД заново"
DENIED = "Доступ запрещён"


@dataclass(frozen=True)
class Settings:
    """Config values the views need (see ``regional_mock.mesh.app``)."""

    pow_bits: int
    sms_code: str
    sms_attempts: int
    lockout_attempts: int
    token_seconds: float
    refresh_seconds: float
    sso_seconds: float
    require_subsystem: bool
    legacy_trust: bool


@dataclass
class Emulator:
    """What the MESH views need: the world, its MESH ids, sign-in state, settings, logins."""

    world: World
    ids: MeshIds
    state: MeshState
    settings: Settings
    accounts: tuple[Account, ...]

    def publish(self, world: World) -> None:
        """Serve a changed world (the school day's), with its MESH ids, from now on."""
        self.world, self.ids = world, MeshIds(world)

    def account(self, login: str) -> Account | None:
        """Return the login of MESH, compared without regard to case."""
        wanted = login.strip().casefold()
        return next((a for a in self.accounts if a.login.casefold() == wanted), None)


def emulator() -> Emulator:
    """Return the emulator of the current app."""
    return t.cast(Emulator, current_app.extensions["mesh"])


def api_error(status: int, description: str, kind: str | None = None) -> Response:
    """Return the error body the API area of the request path uses (note §1.9, §4.8)."""
    path = request.path
    if path.startswith("/api/ej/rating/"):
        response = jsonify(message=description)
    elif path.startswith("/api/pass/"):
        response = jsonify(code=status, description=description)
    else:
        kinds = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "ACCESS_DENIED", 404: "NOT_FOUND"}
        body = {"type": kind or kinds.get(status, "ERROR"), "description": description}
        response = jsonify({**body, "details": None})
    response.status_code = status
    return response


def presented_tokens() -> list[str]:
    """Return every token the request carries (§1.5: Bearer, Auth-Token, cookies)."""
    found: list[str] = []
    authorization = request.headers.get("Authorization", "").strip()
    if authorization:
        scheme, _, rest = authorization.partition(" ")
        found.append(rest.strip() if scheme.lower() == "bearer" and rest else authorization)
    if request.headers.get("Auth-Token"):
        found.append(request.headers["Auth-Token"].strip())
    for cookie in ("aupd_token", "aupdtoken"):
        if request.cookies.get(cookie):
            found.append(request.cookies[cookie])
    return found


def require_token() -> Token:
    """Return the live token of the request, or abort with 401 (and 400/403 on bad headers)."""
    em = emulator()
    token = next((x for x in map(em.state.mesh_token, presented_tokens()) if x), None)
    if token is None:
        abort(api_error(401, EXPIRED))
    if em.settings.require_subsystem and request.path.startswith("/api/"):
        if not request.headers.get("X-Mes-Subsystem"):
            abort(api_error(400, "Не указана подсистема (заголовок X-Mes-Subsystem)"))
    profile = request.headers.get("Profile-Id", "").strip()
    if profile and profile != str(em.ids.parent_profile_id(token.account)):
        abort(api_error(403, DENIED))
    return token


def require_child(account: Account, raw_id: str | None) -> Student:
    """Return the child with a student profile id the account may read; else 400 or 403."""
    try:
        profile_id = int(raw_id or "")
    except ValueError:
        abort(api_error(400, "Параметр student_id обязателен"))
    student = emulator().ids.student_by_profile(profile_id)
    if student is None or student.id not in account.student_ids:
        abort(api_error(403, DENIED))
    return student


def require_day(*names: str) -> dt.date:
    """Return the first of the query parameters given as ``yyyy-mm-dd``; 400 otherwise."""
    for name in names:
        raw = request.args.get(name)
        if raw:
            try:
                return dt.date.fromisoformat(raw[:10])
            except ValueError:
                abort(api_error(400, f"Неверный формат даты: {name}"))
    abort(api_error(400, f"Параметр {names[0]} обязателен"))


def day_range(start_names: tuple[str, ...], end_names: tuple[str, ...]) -> tuple[dt.date, dt.date]:
    """Return an inclusive date range from the query; 400 when missing or reversed."""
    start, end = require_day(*start_names), require_day(*end_names)
    if end < start:
        abort(api_error(400, "Дата окончания раньше даты начала"))
    return start, end


def at(day: dt.date, hhmm: str) -> dt.datetime:
    """Return a naive Moscow datetime of a day and ``HH:MM``."""
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm))


def naive(moment: dt.datetime) -> str:
    """Format ``yyyy-mm-ddTHH:MM:SS`` without a zone (marks, homework; §4.6)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def with_offset(moment: dt.datetime) -> str:
    """Format an event calendar time with the Moscow offset (§4.6)."""
    return moment.replace(tzinfo=MSK).isoformat(timespec="seconds")


def epoch(moment: dt.datetime) -> int:
    """Return epoch seconds of a naive Moscow datetime (``begin_utc``)."""
    return int(moment.replace(tzinfo=MSK).timestamp())


def micro(moment: dt.datetime) -> str:
    """Format ``yyyy-mm-dd HH:MM:SS.ffffff`` with no zone (notifications)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def school_year(today: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day of the school year containing ``today``."""
    first = today.year if today.month >= 9 else today.year - 1
    return dt.date(first, 9, 1), dt.date(first + 1, 8, 31)


def class_name(grade: int, letter: str) -> str:
    """Return MESH's class name: ``7-Б``."""
    return f"{grade}-{letter}"
