"""The MESH connector: Moscow's school diary through login.mos.ru and school.mos.ru."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Mapping
from functools import partial

import requests

from connectors.base import BackendSession
from connectors.base import Credentials
from connectors.clock import Clock
from connectors.clock import utcnow
from connectors.concurrency import gather
from connectors.concurrency import pooled_session
from connectors.errors import AccessDenied
from connectors.errors import InvalidCredentials
from connectors.errors import SessionExpired
from connectors.errors import reading
from connectors.mesh import normalize
from connectors.mesh.client import MESH
from connectors.mesh.client import MeshClient
from connectors.mesh.client import Tokens
from connectors.mesh.client import token_expiry
from connectors.mesh.settings import client_options
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
TOKEN_LIFETIME = dt.timedelta(hours=24)
# Renew half an hour before the JWT's exp, as the note recommends (§6.4).
RENEW_MARGIN = dt.timedelta(minutes=30)


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
        now: Clock = utcnow,
    ) -> MeshConnector:
        """Validate the settings (URLs, timeouts, subsystems) and return a live connector."""
        options = client_options(base_url, settings)
        # Our own session is pooled for the requests a fetch sends at once; an injected one is
        # used as it is (its owner sizes its pools).
        return cls(MeshClient(http if http is not None else pooled_session(), now=now, **options))

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
        profile = self._client.profile(tokens.access)
        with reading(MESH):
            ids: dict[str, t.Any] = {"profile_id": normalize.parent_profile_id(profile)}
            ids["children"] = normalize.children_ids(profile)
        return self._build(tokens, ids | {"device": tokens.device})

    def _build(self, tokens: Tokens, known: Mapping[str, t.Any]) -> BackendSession:
        """Return the session, expiring half an hour before the JWT does."""
        expiry = token_expiry(tokens.access) or self._client.now() + TOKEN_LIFETIME
        data = {**known, "token": tokens.access, "refresh_token": tokens.refresh}
        return BackendSession(connector=NAME, data=data, expires_at=expiry - RENEW_MARGIN)

    def _auth(self, session: BackendSession) -> tuple[str, t.Any]:
        """Return the session's token and the parent's profile id."""
        token = session.data.get("token") if session.connector == NAME else None
        if not token:
            raise SessionExpired("not a MESH session; log in again")
        return str(token), session.data.get("profile_id")

    def _person_id(self, session: BackendSession, student_id: str) -> str:
        """Return the child's contingent GUID, from the session or a fresh profile."""
        known = (session.data.get("children") or {}).get(student_id) or {}
        if not known.get("person_id"):
            token, profile_id = self._auth(session)
            with reading(MESH):
                profile = self._client.profile(token, profile_id=profile_id)
                known = normalize.children_ids(profile).get(student_id)
        if not known or not known.get("person_id"):
            raise AccessDenied("this MESH login does not show that student")
        return str(known["person_id"])

    def _calendar(
        self,
        session: BackendSession,
        student_id: str,
        period: Period,
    ) -> dict[str, t.Any]:
        """Return a child's event calendar of a period as one body (one read serves the
        marks, the timetable, the absences and the events)."""
        person = self._person_id(session, student_id)
        token, profile_id = self._auth(session)
        return self._client.calendar(token, profile_id, person, period)

    def students(self, session: BackendSession) -> list[Student]:
        """List the children of the family profile."""
        token, profile_id = self._auth(session)
        profile = self._client.profile(token, profile_id=profile_id)
        with reading(MESH):
            return normalize.students(profile)

    def fetch_grades(self, session: BackendSession, student_id: str, period: Period) -> list[Grade]:
        """Return the marks of lessons in the period, as the event calendar nests them."""
        body = self._calendar(session, student_id, period)
        with reading(MESH):
            return normalize.grades(body)

    def fetch_homework(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Homework]:
        """Return the homework due in the period."""
        bodies = self._client.homeworks(*self._auth(session), student_id, period)
        with reading(MESH):
            return [h for b in bodies for h in normalize.homeworks(b)]

    def fetch_schedule(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Lesson]:
        """Return the timetable lessons of the period, replaced and cancelled ones marked."""
        body = self._calendar(session, student_id, period)
        with reading(MESH):
            return normalize.lessons(body)

    def fetch_attendance(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Attendance]:
        """Return missed lessons, classified with the parent's absence notices."""
        token, profile_id = self._auth(session)
        body, notices = gather(
            [
                partial(self._calendar, session, student_id, period),
                partial(self._client.absence_notices, token, profile_id, student_id),
            ]
        )
        with reading(MESH):
            return normalize.attendance(body, notices, period)

    def fetch_events(self, session: BackendSession, student_id: str, period: Period) -> list[Event]:
        """Return parent meetings and school events of the period."""
        body = self._calendar(session, student_id, period)
        with reading(MESH):
            return normalize.events(body)

    def fetch_rating(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Rating]:
        """Return the child's place in the class at the end of the period (today at most)."""
        person = self._person_id(session, student_id)
        as_of = min(period.end, self._client.now().astimezone(normalize.MSK).date())
        rows = self._client.class_rank(*self._auth(session), person, as_of)
        with reading(MESH):
            return normalize.rating(rows, person, as_of)
