"""Shared wire helpers of the Dnevnik.ru emulator: clients, scopes, errors, tokens, dates."""

from __future__ import annotations

import datetime as dt
import re
import threading
import typing as t
from dataclasses import dataclass
from dataclasses import field

from flask import abort
from flask import current_app
from flask import jsonify
from flask import request

from regional_mock.dnevnik_ru import ids
from regional_mock.dnevnik_ru.state import SignInState
from regional_mock.dnevnik_ru.state import Token
from regional_mock.records import Student
from regional_mock.world import World

COARSE_SCOPES = (
    "CommonInfo",
    "ContactInfo",
    "FriendsAndRelatives",
    "EducationalInfo",
    "SocialInfo",
    "Files",
    "Wall",
    "Messages",
    "PersonalData",
)
# Legacy fine-grained scopes (v1 era, still sent by the mobile app) -> the coarse scope.
LEGACY_SCOPES = {
    "avatar": "CommonInfo",
    "fullname": "CommonInfo",
    "birthday": "CommonInfo",
    "age": "CommonInfo",
    "sex": "CommonInfo",
    "roles": "CommonInfo",
    "schools": "EducationalInfo",
    "organizations": "EducationalInfo",
    "edugroups": "EducationalInfo",
    "lessons": "EducationalInfo",
    "marks": "EducationalInfo",
    "eduworks": "EducationalInfo",
    "relatives": "FriendsAndRelatives",
    "friends": "FriendsAndRelatives",
    "contacts": "ContactInfo",
    "emailaddress": "ContactInfo",
    "groups": "SocialInfo",
    "networks": "SocialInfo",
    "events": "SocialInfo",
    "socialentitymembership": "SocialInfo",
}
# short code -> (long code or None, HTTP status, description as SchoolMosregRuAPI ships it)
ERRORS: dict[str, tuple[str | None, int, str]] = {
    "invalidRequest": (None, 400, "Неверный запрос"),
    "parameterInvalid": (None, 400, "Неверное значение одного из параметров"),
    "resourceUnavailable": ("apiResourceUnavailable", 404, "Ресурс не существует"),
    "methodNotSupported": ("apiMethodNotSupported", 405, "Метод не поддерживается"),
    "requestLimit": ("apiRequestLimit", 429, "Превышен лимит запросов для данного токена"),
    "serverError": ("apiServerError", 500, "Ошибка на сервере"),
    "invalidToken": ("authorizationInvalidToken", 401, "Неверный или неактивный токен"),
    "tokenRequired": ("authorizationTokenRequired", 401, "Для доступа нужна авторизация"),
    "outOfScope": ("authorizationOutOfScope", 403, "Токен содержит недостаточно прав доступа"),
    "notOwner": ("authorizationNotOwner", 403, "Пользователь не является владельцем ресурса"),
}
# Like .NET DateTime binding: a date, optionally a time after "T" or a space (str(datetime)).
DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?")


@dataclass(frozen=True)
class Client:
    """A registered application: a partner (with a secret), public or mobile client."""

    client_id: str
    client_secret: str | None
    redirect_uris: tuple[str, ...]
    scope: tuple[str, ...]


@dataclass
class ErrorStyle:
    """How API errors are spelled and whether they come with HTTP 200 (changeable live)."""

    spelling: str = "short"
    with_200: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, *, spelling: str | None = None, with_200: bool | None = None) -> None:
        """Change the style; raise ``ValueError`` on an unknown spelling."""
        if spelling is not None and spelling not in ("short", "long"):
            raise ValueError("spelling must be 'short' or 'long'")
        with self._lock:
            if spelling is not None:
                self.spelling = spelling
            if with_200 is not None:
                self.with_200 = bool(with_200)

    def as_dict(self) -> dict[str, object]:
        """Return the style as the admin endpoint shows it."""
        return {"spelling": self.spelling, "errors_with_200": self.with_200}


@dataclass
class Emulator:
    """What the Dnevnik.ru views need: the world, sign-in state, clients and settings."""

    world: World
    state: SignInState
    partners: dict[str, Client]
    public: dict[str, Client]
    mobile: dict[str, Client]
    errors: ErrorStyle
    legacy_bycredentials: bool
    esia_offer: bool
    subjects: dict[tuple[int, str], int]

    def publish(self, world: World) -> None:
        """Serve a changed world (the school day's) from the next request on."""
        self.world = world


def emulator() -> Emulator:
    """Return the emulator of the current app."""
    return t.cast(Emulator, current_app.extensions["dnevnik_ru"])


def error_body(code: str, description: str | None = None) -> tuple[dict[str, str], int]:
    """Return ``({"type", "description"}, status)`` in the configured spelling and status."""
    long, status, text = ERRORS[code]
    style = emulator().errors
    kind = long if style.spelling == "long" and long else code
    return {"type": kind, "description": description or text}, 200 if style.with_200 else status


def fail(code: str, description: str | None = None) -> t.NoReturn:
    """Abort with a Dnevnik.ru error body."""
    body, status = error_body(code, description)
    response = jsonify(body)
    response.status_code = status
    abort(response)


def parse_scope(text: str | None) -> tuple[str, ...] | None:
    """Return the coarse scopes of a comma list (case-insensitive); None if one is unknown."""
    coarse = {name.casefold(): name for name in COARSE_SCOPES}
    rv: list[str] = []
    for raw in re.split(r"[,\s]+", text or ""):
        key = raw.strip().casefold()
        if not key:
            continue
        name = coarse.get(key) or LEGACY_SCOPES.get(key)
        if name is None:
            return None
        if name not in rv:
            rv.append(name)
    return tuple(rv)


def presented_token() -> str:
    """Return the token of the request: ``Access-Token``, Bearer or ``access_token``."""
    header = request.headers.get("Access-Token", "").strip()
    if header:
        return header
    authorization = request.headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return request.args.get("access_token", "").strip()


def require_token(*scopes: str) -> Token:
    """Return the live token of the request, or abort with a token or scope error."""
    presented = presented_token()
    if not presented:
        fail("tokenRequired")
    token, alive = emulator().state.token(presented)
    if token is None or not alive:
        fail("invalidToken", "Token is invalid or expired")
    if any(scope not in token.scope for scope in scopes):
        fail("outOfScope")
    return token


def require_student(token: Token, raw: str) -> Student:
    """Return the child whose person id is ``raw``; abort unless the token's user is a parent."""
    world = emulator().world
    student_id = ids.decode("student", raw)
    if student_id is None or student_id not in {s.id for s in world.students}:
        if ids.decode("parent", raw) == token.account.id:
            fail("notOwner", "У пользователя нет такого ученика")
        fail("resourceUnavailable", f"Person {raw} not found")
    if student_id not in token.account.student_ids:
        fail("notOwner")
    return world.student(student_id)


def require_id(kind: ids.Kind, raw: str) -> int:
    """Return the world id behind a path id, or abort with resourceUnavailable."""
    world_id = ids.decode(kind, raw)
    if world_id is None:
        fail("resourceUnavailable", f"{kind} {raw} not found")
    return world_id


def parse_day(raw: str | None, name: str) -> dt.date:
    """Parse ``YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]]``, or abort with parameterInvalid."""
    if not raw or not DATE.fullmatch(raw):
        fail("parameterInvalid", f"Parameter '{name}' has invalid value '{raw or ''}'")
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        fail("parameterInvalid", f"Parameter '{name}' has invalid value '{raw}'")


def parse_range(
    raw_start: str | None, raw_end: str | None, names: tuple[str, str]
) -> tuple[dt.date, dt.date]:
    """Parse an inclusive date range, or abort with parameterInvalid."""
    start = parse_day(raw_start, names[0])
    end = parse_day(raw_end, names[1])
    if end < start:
        fail("parameterInvalid", f"'{names[1]}' is earlier than '{names[0]}'")
    return start, end


def day(value: dt.date) -> str:
    """Format a date as Dnevnik.ru's naive local midnight."""
    return f"{value.isoformat()}T00:00:00"


def at(value: dt.date, hhmm: str) -> str:
    """Format a lesson time: ``YYYY-MM-DDTHH:MM:SS``, no fraction, no offset."""
    return f"{value.isoformat()}T{hhmm}:00"


def stamp(moment: dt.datetime) -> str:
    """Format a set-at time with milliseconds: ``YYYY-MM-DDTHH:MM:SS.fff``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def short_name(full_name: str) -> str:
    """Return «Фамилия И.О.» for a full name."""
    surname, *rest = full_name.split()
    return surname + (" " + "".join(f"{part[0]}." for part in rest) if rest else "")
