"""The MESH connector: Moscow's school diary through login.mos.ru and school.mos.ru."""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from functools import partial
from urllib.parse import urlsplit

import requests

from connectors.base import BackendSession
from connectors.base import Credentials
from connectors.concurrency import gather
from connectors.concurrency import pooled_session
from connectors.errors import AccessDenied
from connectors.errors import InvalidCredentials
from connectors.errors import SessionExpired
from connectors.mesh import normalize
from connectors.mesh.client import MeshClient
from connectors.mesh.client import Tokens
from connectors.mesh.client import parsing
from connectors.mesh.client import token_expiry
from connectors.schema import Attendance
from connectors.schema import Event
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Period
from connectors.schema import Rating
from connectors.schema import Section
from connectors.schema import Student

__all__ = ["MeshConnector"]

NAME = "mesh"
PROFILE = "/api/family/web/v1/profile"
CALENDAR = "/api/eventcalendar/v1/api/events"
LESSON_SOURCES = "PLAN"
EVENT_SOURCES = "EVENTS,AFISHA,ORGANIZER,OLYMPIAD,PROF"
ABSENCE_FIELDS = "absence_reason_id,nonattendance_reason_id,health_status"
TOKEN_LIFETIME = dt.timedelta(hours=24)
# Renew half an hour before the JWT's exp, as the note recommends (§6.4).
RENEW_MARGIN = dt.timedelta(minutes=30)
DEFAULTS: dict[str, t.Any] = {
    "connect_timeout": 3.05,
    "read_timeout": 10.0,
    "subsystem": "familyweb",
    "mobile_subsystem": "familymp",
    "login_url": None,
}
SUBSYSTEM = re.compile(r"^[a-z]{2,32}$")


def _url(value: t.Any, key: str) -> str:
    """Return an http(s) base URL without a trailing slash, or raise ValueError."""
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"MESH {key} must be an http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError(f"MESH {key} must not carry a query or fragment")
    return value.rstrip("/")


def _seconds(value: t.Any, key: str) -> float:
    """Return a timeout in seconds, or raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 120:
        raise ValueError(f"MESH setting {key} must be a number of seconds in (0, 120]")
    return float(value)


def _subsystem(value: t.Any, key: str) -> str:
    """Return an ``X-Mes-Subsystem`` value, or raise ValueError."""
    if not isinstance(value, str) or not SUBSYSTEM.match(value):
        raise ValueError(f"MESH setting {key} must be an X-Mes-Subsystem value like familyweb")
    return value


def client_options(base_url: str, settings: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Validate an operator's settings and return the client's keyword arguments."""
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown MESH settings: {', '.join(unknown)}")
    merged = {**DEFAULTS, **settings}
    base = _url(base_url, "base URL")
    login = _url(merged["login_url"], "setting login_url") if merged["login_url"] else base
    connect = _seconds(merged["connect_timeout"], "connect_timeout")
    read = _seconds(merged["read_timeout"], "read_timeout")
    return {
        "base_url": base,
        "login_url": login,
        "timeout": (connect, read),
        "subsystem": _subsystem(merged["subsystem"], "subsystem"),
        "mobile_subsystem": _subsystem(merged["mobile_subsystem"], "mobile_subsystem"),
    }


class MeshConnector:
    """Московская электронная школа: marks, homework, timetable, absences, meetings, rating.

    Holds no per-user state: everything about a parent travels in the ``BackendSession``.
    """

    name: t.ClassVar[str] = NAME
    title: t.ClassVar[str] = "Московская электронная школа (МЭШ)"
    display_names: t.ClassVar[Mapping[str, str]] = {"ru": "МЭШ", "en": "MESH"}
    sections: t.ClassVar[frozenset[Section]] = frozenset(
        {
            Section.GRADES,
            Section.HOMEWORK,
            Section.SCHEDULE,
            Section.ATTENDANCE,
            Section.EVENTS,
            Section.RATING,
        }
    )
    requires_school: t.ClassVar[bool] = False
    # The event calendar's change flags (note §2.4 a): ``replaced`` and ``cancelled``.
    lesson_changes: t.ClassVar[frozenset[LessonStatus]] = frozenset(
        {LessonStatus.REPLACED, LessonStatus.CANCELLED}
    )

    def __init__(self, client: MeshClient) -> None:
        """Wrap a configured wire client."""
        self._client = client

    @classmethod
    def from_settings(
        cls,
        base_url: str,
        settings: Mapping[str, t.Any],
        *,
        http: requests.Session | None = None,
    ) -> MeshConnector:
        """Validate the settings (URLs, timeouts, subsystems) and return a live connector."""
        options = client_options(base_url, settings)
        # Our own session is pooled for the requests a fetch sends at once; an injected one is
        # used as it is (its owner sizes its pools).
        return cls(MeshClient(http if http is not None else pooled_session(), **options))

    def login(
        self, credentials: Credentials, *, previous: BackendSession | None = None
    ) -> BackendSession:
        """Sign in; a trusted-device cookie from ``previous`` spares the parent an SMS."""
        device = None
        if previous is not None and previous.connector == NAME:
            device = previous.data.get("device")
        tokens = self._client.sign_in(credentials.login, credentials.password, device=device)
        return self._session(tokens)

    def confirm_second_factor(self, challenge: Mapping[str, t.Any], code: str) -> BackendSession:
        """Finish a sign-in with the SMS code, trusting this device for later logins."""
        return self._session(self._client.confirm_second_factor(challenge, code))

    def refresh(self, session: BackendSession) -> BackendSession:
        """Rotate the token pair without the password; refused pairs mean log in again."""
        refresh_token = session.data.get("refresh_token")
        if not refresh_token:
            raise InvalidCredentials("the MESH session holds no refresh token")
        try:
            tokens = self._client.refresh(refresh_token)
        except (SessionExpired, AccessDenied) as err:
            raise InvalidCredentials("MESH refused the refresh token") from err
        return self._build(tokens, session.data)

    def _session(self, tokens: Tokens) -> BackendSession:
        """Read the family profile once and keep its ids with the tokens."""
        profile = self._client.get(tokens.access, PROFILE)
        with parsing():
            ids = {"profile_id": normalize.parent_profile_id(profile)}
            ids["children"] = normalize.children_ids(profile)
        return self._build(tokens, ids | {"device": tokens.device})

    def _build(self, tokens: Tokens, known: Mapping[str, t.Any]) -> BackendSession:
        """Return the session, expiring half an hour before the JWT does."""
        expiry = token_expiry(tokens.access) or dt.datetime.now(dt.UTC) + TOKEN_LIFETIME
        data = {**known, "token": tokens.access, "refresh_token": tokens.refresh}
        return BackendSession(connector=NAME, data=data, expires_at=expiry - RENEW_MARGIN)

    def _get(self, session: BackendSession, path: str, params: t.Any, **kw: t.Any) -> t.Any:
        """GET an API path with the session's token and the parent's profile id."""
        token = session.data.get("token") if session.connector == NAME else None
        if not token:
            raise SessionExpired("not a MESH session; log in again")
        return self._client.get(
            token, path, params, profile_id=session.data.get("profile_id"), **kw
        )

    def _person_id(self, session: BackendSession, student_id: str) -> str:
        """Return the child's contingent GUID, from the session or a fresh profile."""
        known = (session.data.get("children") or {}).get(student_id) or {}
        if not known.get("person_id"):
            with parsing():
                known = normalize.children_ids(self._get(session, PROFILE, None)).get(student_id)
        if not known or not known.get("person_id"):
            raise AccessDenied("this MESH login does not show that student")
        return str(known["person_id"])

    def _weekly(
        self,
        session: BackendSession,
        path: str,
        period: Period,
        params: Callable[[Period], t.Any],
        **kw: t.Any,
    ) -> list[Callable[[], t.Any]]:
        """Return the GETs of a range endpoint, one per week (no paging; note §4.4)."""
        return [partial(self._get, session, path, params(week), **kw) for week in period.weeks()]

    def _calendar(
        self,
        session: BackendSession,
        student_id: str,
        period: Period,
        sources: str,
        expand: str | None,
    ) -> list[Callable[[], t.Any]]:
        """Return the event calendar's GETs, one per week; see :func:`_events`."""
        person = self._person_id(session, student_id)

        def params(week: Period) -> dict[str, str | None]:
            """Return the calendar query of one week."""
            return {
                "person_ids": person,
                "begin_date": week.start.isoformat(),
                "end_date": week.end.isoformat(),
                "expand": expand,
                "source_types": sources,
            }

        return self._weekly(session, CALENDAR, period, params, calendar=True)

    def students(self, session: BackendSession) -> list[Student]:
        """List the children of the family profile."""
        profile = self._get(session, PROFILE, None)
        with parsing():
            return normalize.students(profile)

    def fetch_grades(self, session: BackendSession, student_id: str, period: Period) -> list[Grade]:
        """Return the marks of lessons in the period."""
        path = "/api/family/web/v1/marks"
        bodies = gather(self._weekly(session, path, period, _range(student_id)))
        with parsing():
            return [g for b in bodies for g in normalize.grades(b)]

    def fetch_homework(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Homework]:
        """Return the homework due in the period."""
        path = "/api/family/web/v1/homeworks"
        bodies = gather(self._weekly(session, path, period, _range(student_id)))
        with parsing():
            return [h for b in bodies for h in normalize.homeworks(b)]

    def fetch_schedule(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Lesson]:
        """Return the timetable lessons of the period, replaced and cancelled ones marked."""
        weeks = self._calendar(session, student_id, period, LESSON_SOURCES, "homework")
        body = _events(gather(weeks))
        with parsing():
            return normalize.lessons(body)

    def fetch_attendance(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Attendance]:
        """Return missed lessons, classified with the parent's absence notices."""
        weeks = self._calendar(session, student_id, period, LESSON_SOURCES, ABSENCE_FIELDS)
        path = "/api/family/mobile/v1/attendance/"
        notices = partial(self._get, session, path, {"student_id": student_id}, mobile=True)
        *bodies, notices_body = gather([*weeks, notices])
        body = _events(bodies)
        with parsing():
            return normalize.attendance(body, notices_body, period)

    def fetch_events(self, session: BackendSession, student_id: str, period: Period) -> list[Event]:
        """Return parent meetings and school events of the period."""
        body = _events(gather(self._calendar(session, student_id, period, EVENT_SOURCES, None)))
        with parsing():
            return normalize.events(body)

    def fetch_rating(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Rating]:
        """Return the child's place in the class at the end of the period (today at most)."""
        person = self._person_id(session, student_id)
        as_of = min(period.end, dt.datetime.now(normalize.MSK).date())
        params = {"personId": person, "date": as_of.isoformat()}
        rows = self._get(session, "/api/ej/rating/v1/rank/class", params, mobile=True)
        with parsing():
            return normalize.rating(rows, person, as_of)


def _events(bodies: list[t.Any]) -> dict[str, t.Any]:
    """Join the weekly bodies of the event calendar into one body."""
    with parsing():
        return {"response": [item for b in bodies for item in b["response"]]}


def _range(student_id: str) -> Callable[[Period], dict[str, str]]:
    """Return the query builder of the family range endpoints (marks, homework)."""

    def params(week: Period) -> dict[str, str]:
        """Return the query of one week."""
        return {
            "student_id": student_id,
            "from": week.start.isoformat(),
            "to": week.end.isoformat(),
        }

    return params
