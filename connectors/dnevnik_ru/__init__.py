"""The Dnevnik.ru connector: REST API v2, linked by password (mobile API) or OAuth2 code."""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from functools import partial
from http.cookiejar import DefaultCookiePolicy

import requests

from connectors.base import BackendSession
from connectors.base import Credentials
from connectors.clock import Clock
from connectors.clock import utcnow
from connectors.concurrency import Early
from connectors.concurrency import gather
from connectors.concurrency import pooled_session
from connectors.dnevnik_ru import normalize
from connectors.dnevnik_ru.client import DnevnikClient
from connectors.dnevnik_ru.client import Grant
from connectors.dnevnik_ru.lessons import LessonIndex
from connectors.dnevnik_ru.settings import Settings
from connectors.dnevnik_ru.settings import parse
from connectors.errors import AccessDenied
from connectors.errors import InvalidCredentials
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
from connectors.errors import reading
from connectors.schema import Attendance
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Period
from connectors.schema import Section
from connectors.schema import Student

__all__ = ["DnevnikRuConnector"]

PASSWORD = "password"
PARTNER = "partner"
DNEVNIK = "Дневник.ру"
# A schedules bundle carries a day's lessons with their marks and absences; the web diary
# asks a week at a time (note §6, the span is undocumented). A period of up to two bundles a
# group reads grades and attendance from them; a longer one from the marks and the lesson
# log, which cost one request whatever the period.
BUNDLE_DAYS = 7
SHORT_DAYS = 2 * BUNDLE_DAYS


class DnevnikRuConnector:
    """Read a child's Dnevnik.ru diary; holds no per-user state, so one instance serves all."""

    name: t.ClassVar[str] = "dnevnik_ru"
    title: t.ClassVar[str] = "Дневник.ру"
    display_names: t.ClassVar[Mapping[str, str]] = {"ru": "Дневник.ру", "en": "Dnevnik.ru"}
    sections: t.ClassVar[frozenset[Section]] = frozenset(
        {Section.GRADES, Section.HOMEWORK, Section.SCHEDULE, Section.ATTENDANCE}
    )
    requires_school: t.ClassVar[bool] = False
    # The v2 schedule marks no replacement, and nobody has observed its lesson ``status``
    # vocabulary (note §2.8, §6.4): a cancelled lesson may simply be missing.
    lesson_changes: t.ClassVar[frozenset[LessonStatus]] = frozenset()

    def __init__(self, settings: Settings, client: DnevnikClient) -> None:
        """Bind validated settings and the wire client."""
        self._settings = settings
        self._client = client
        self._index = LessonIndex(client)

    @classmethod
    def from_settings(
        cls,
        base_url: str,
        settings: Mapping[str, t.Any],
        *,
        http: requests.Session | None = None,
        now: Clock = utcnow,
    ) -> DnevnikRuConnector:
        """Validate an operator's settings (see ``settings.py``) and return a connector."""
        parsed = parse(base_url, settings)
        if http is None:
            # Pooled for the requests a fetch sends at once; an injected session is used as
            # it is, cookie policy and pools included (its owner decides them).
            http = pooled_session()
            # One session serves every parent: never keep a backend cookie between them.
            http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        client = DnevnikClient(
            http,
            login_url=parsed.login_url,
            api_url=parsed.api_url,
            timeout=parsed.timeout,
            backend_zone=parsed.zone,
            now=now,
        )
        return cls(parsed, client)

    def login(
        self, credentials: Credentials, *, previous: BackendSession | None = None
    ) -> BackendSession:
        """Sign in with the school-issued login and password through the mobile API."""
        if self._settings.mobile is None:
            raise AccessDenied("Дневник.ру: password sign-in is not enabled for this region")
        grant = self._client.sign_in(
            self._settings.mobile, login=credentials.login, password=credentials.password
        )
        return self._open(grant, PASSWORD)

    def authorization_url(self, *, redirect_uri: str, state: str) -> str | None:
        """Return Dnevnik.ru's sign-in address, or None without a partner client."""
        if self._settings.partner is None:
            return None
        return self._client.authorization_url(
            self._settings.partner, redirect_uri=redirect_uri, state=state
        )

    def complete_authorization(self, *, code: str, redirect_uri: str) -> BackendSession:
        """Exchange the code the parent's browser brought back."""
        if self._settings.partner is None:
            raise AccessDenied("Дневник.ру: no partner client is configured for this region")
        grant = self._client.exchange_code(
            self._settings.partner, code=code, redirect_uri=redirect_uri
        )
        return self._open(grant, PARTNER)

    def refresh(self, session: BackendSession) -> BackendSession:
        """Renew the access token with the refresh token of the flow that issued it."""
        data = session.data
        app = self._settings.partner if data.get("flow") == PARTNER else self._settings.mobile
        refresh_token = data.get("refresh_token")
        if app is None or not refresh_token:
            raise InvalidCredentials("Дневник.ру: this session cannot be refreshed")
        renew = (
            self._client.refresh_partner
            if data.get("flow") == PARTNER
            else self._client.refresh_mobile
        )
        try:
            grant = renew(app, str(refresh_token))
        except SessionExpired as err:
            raise InvalidCredentials("Дневник.ру: the refresh token was refused") from err
        renewed = dict(data)
        renewed["access_token"] = grant.access_token
        renewed["refresh_token"] = grant.refresh_token or refresh_token
        return BackendSession(connector=self.name, data=renewed, expires_at=grant.expires_at)

    def students(self, session: BackendSession) -> list[Student]:
        """List the children of the login, with school and class names."""
        token = self._token(session)
        context = self._client.context(token)
        with reading(DNEVNIK):
            links = normalize.child_links(context)
        people = [person for person, link in links.items() if link["group_ids"]]
        with_schools = any(link["school_id"] for link in links.values())
        # The schools and every child's groups are asked for at once.
        schools, *edu_groups = gather(
            [partial(self._client.person_schools, token) if with_schools else list]
            + [partial(self._client.edu_groups, token, person) for person in people]
        )
        groups = dict(zip(people, edu_groups, strict=True))
        with reading(DNEVNIK):
            return normalize.students(context, schools, groups)

    def fetch_grades(self, session: BackendSession, student_id: str, period: Period) -> list[Grade]:
        """Return a period's marks weighted by work type.

        A short period takes them from the schedules bundles a read asks for the timetable
        anyway; a longer one from the marks, beside the class's lessons. The work types are
        asked at once with either: only they carry the weights (note §2.4).
        """
        token, school, groups = self._child(session, student_id)
        work_types = Early(partial(self._client.work_types, token, school))
        if _short(period):
            reads: list[Callable[[], t.Any]] = [
                *self._bundles(token, student_id, groups, period),
                work_types,
            ]
            *bundles, types = gather(reads)
            with reading(DNEVNIK):
                marks = normalize.bundle_marks(bundles)
            if not marks:
                return []
            weights = types.result()
            with reading(DNEVNIK):
                return normalize.grades(marks, weights, normalize.bundle_lessons(bundles))
        calls: list[Callable[[], t.Any]] = [
            partial(self._client.marks, token, student_id, school, period),
            work_types,
            *self._index.early(token, groups, period),
        ]
        marks, types, *class_lessons = gather(calls)
        if not marks:
            return []
        weights = types.result()
        with reading(DNEVNIK):
            wanted = normalize.marked_lessons(marks)
        lessons = self._index.complete(token, class_lessons, wanted)
        with reading(DNEVNIK):
            return normalize.grades(marks, weights, lessons)

    def fetch_homework(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Homework]:
        """Return the homework due in a period, with its files."""
        token, school, _ = self._child(session, student_id)
        bundle = self._client.homework(token, student_id, school, period)
        with reading(DNEVNIK):
            return normalize.homework(bundle)

    def fetch_schedule(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Lesson]:
        """Return the lessons of a period: a schedules bundle per week and group, all at once."""
        token, _, groups = self._child(session, student_id)
        bundles = gather(self._bundles(token, student_id, groups, period))
        found: dict[str, Lesson] = {}
        with reading(DNEVNIK):
            for bundle in bundles:
                found |= {x.id: x for x in normalize.schedule(bundle)}
        return sorted(found.values(), key=lambda x: (x.date, x.number or 0, x.id))

    def fetch_attendance(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Attendance]:
        """Return a period's absences and late arrivals: from the schedules bundles of a short
        period, else from the lesson log, asked at once with the class's lessons."""
        token, _, groups = self._child(session, student_id)
        if _short(period):
            bundles = gather(self._bundles(token, student_id, groups, period))
            with reading(DNEVNIK):
                entries = normalize.bundle_log(bundles)
                return normalize.attendance(entries, normalize.bundle_lessons(bundles))
        calls: list[Callable[[], t.Any]] = [
            partial(self._client.lesson_log, token, student_id, period),
            *self._index.early(token, groups, period),
        ]
        entries, *class_lessons = gather(calls)
        with reading(DNEVNIK):
            wanted = normalize.absent_lessons(entries)
        if not wanted:
            return []
        lessons = self._index.complete(token, class_lessons, wanted)
        with reading(DNEVNIK):
            return normalize.attendance(entries, lessons)

    def _bundles(
        self, token: str, student_id: str, groups: list[str], period: Period
    ) -> list[Callable[[], dict[str, t.Any]]]:
        """Return the reads of a period's schedules bundles, a week and a group each: the same
        spans for every section, so that one read of several sections asks each once."""
        return [
            partial(self._client.schedule, token, student_id, group, span)
            for span in period.spans(BUNDLE_DAYS)
            for group in groups
        ]

    def _open(self, grant: Grant, flow: str) -> BackendSession:
        """Read the context and the children's groups once, and keep the ids every fetch needs
        in the session."""
        token = grant.access_token
        context = self._client.context(token)
        with reading(DNEVNIK):
            links = normalize.child_links(context)
        people = [person for person, link in links.items() if link["group_ids"]]
        groups = gather([partial(self._client.edu_groups, token, person) for person in people])
        with reading(DNEVNIK):
            data = {
                "flow": flow,
                "access_token": token,
                "refresh_token": grant.refresh_token,
                "user_id": grant.user_id or normalize.ident(context, "userId"),
                "person_id": normalize.ident(context, "personId"),
                "children": normalize.with_subgroups(links, dict(zip(people, groups, strict=True))),
            }
        return BackendSession(connector=self.name, data=data, expires_at=grant.expires_at)

    def _token(self, session: BackendSession) -> str:
        """Return the session's access token."""
        token = session.data.get("access_token")
        if session.connector != self.name or not isinstance(token, str) or not token:
            raise SessionExpired("Дневник.ру: the session carries no access token")
        return token

    def _child(self, session: BackendSession, student_id: str) -> tuple[str, str, list[str]]:
        """Return the token, school id and group ids of a child of the session."""
        token = self._token(session)
        link = (session.data.get("children") or {}).get(student_id)
        if not isinstance(link, Mapping):
            raise AccessDenied("Дневник.ру: this student is not visible to the login")
        if not link.get("school_id"):
            raise UnexpectedResponse("Дневник.ру: the context names no school for the student")
        return token, str(link["school_id"]), [str(g) for g in link.get("group_ids") or []]


def _short(period: Period) -> bool:
    """Whether a period is read from schedules bundles rather than marks and the log."""
    return len(period.days()) <= SHORT_DAYS
