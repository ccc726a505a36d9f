"""Helpers shared by the NetSchool emulator's views: state, auth checks and wire formats."""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from flask import Response
from flask import abort
from flask import current_app
from flask import jsonify
from flask import request

from regional_mock.netschool.sessions import SignInState
from regional_mock.netschool.sessions import WebSession
from regional_mock.records import Account
from regional_mock.records import Student
from regional_mock.world import World

COOKIE = "NSSESSIONID"
VERSION = "5.47.0"
PRODUCT = "Сетевой Город. Образование"
# ASP.NET Web API's own text for a request without a valid session.
DENIED = "Authorization has been denied for this request."


@dataclass
class Emulator:
    """What the NetSchool views need: the world, sign-in state and settings."""

    world: World
    state: SignInState
    zero_weights: bool
    mobile_client_secret: str

    def publish(self, world: World) -> None:
        """Serve a changed world (the school day's) from the next request on."""
        self.world = world


def emulator() -> Emulator:
    """Return the emulator of the current app."""
    return t.cast(Emulator, current_app.extensions["netschool"])


def message(status: int, text: str, **headers: str) -> Response:
    """Return ``{"message": text}`` with a status, as the ASP.NET host does."""
    response = jsonify(message=text)
    response.status_code = status
    response.headers.update(headers)
    return response


def iso(day: dt.date) -> str:
    """Format a date the way NetSchool does: naive local midnight."""
    return f"{day.isoformat()}T00:00:00"


def stamp(moment: dt.datetime) -> str:
    """Format a timestamp with NetSchool's variable number of fraction digits."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text


def parse_day(text: str | None) -> dt.date | None:
    """Parse ``YYYY-MM-DD`` or ``YYYY-MM-DDT00:00:00``; None when absent or malformed."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def require_session() -> WebSession:
    """Return the session of the ``at`` header and cookie, or abort with 401."""
    at = request.headers.get("at", "")
    session = emulator().state.session(at) if at else None
    if session is None or request.cookies.get(COOKIE) != session.cookie:
        abort(message(401, DENIED))
    return session


def require_student(account: Account, raw_id: str | None) -> Student:
    """Return a student the account may read, or abort with 400 or 403."""
    try:
        student_id = int(raw_id or "")
    except ValueError:
        abort(message(400, "The request is invalid."))
    if student_id not in account.student_ids:
        abort(message(403, "Доступ запрещен"))
    return emulator().world.student(student_id)


def school_year(today: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day of the school year containing ``today``."""
    start_year = today.year if today.month >= 9 else today.year - 1
    return dt.date(start_year, 9, 1), dt.date(start_year + 1, 8, 31)


def year_id(today: dt.date) -> int:
    """Return the server's id of the school year containing ``today``."""
    return 417 + (school_year(today)[0].year - 2025)


def term_name(day: dt.date) -> str:
    """Return the quarter (четверть) a date falls into."""
    quarter = {9: 1, 10: 1, 11: 2, 12: 2, 1: 3, 2: 3, 3: 3}.get(day.month, 4)
    return f"{quarter} четверть"


def short_person(full_name: str) -> str:
    """Return «Фамилия И. О.» for a full name."""
    surname, *rest = full_name.split()
    return " ".join([surname, *(f"{part[0]}." for part in rest)])
