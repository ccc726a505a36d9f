"""The Dnevnik.ru connector: REST API v2, linked by password (mobile API) or OAuth2 code."""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from functools import partial
from http.cookiejar import DefaultCookiePolicy

import requests

from connectors.base import BackendSession
from connectors.base import Credentials
from connectors.concurrency import gather
from connectors.concurrency import pooled_session
from connectors.dnevnik_ru import normalize
from connectors.dnevnik_ru.client import DnevnikClient
from connectors.dnevnik_ru.client import Grant
from connectors.dnevnik_ru.settings import Settings
from connectors.dnevnik_ru.settings import parse
from connectors.errors import AccessDenied
from connectors.errors import InvalidCredentials
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
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
R = t.TypeVar("R")


def _shaped(build: Callable[..., R], *args: t.Any) -> R:
    """Run a normalizer; a missing key or a wrong type is schema drift."""
    try:
        return build(*args)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise UnexpectedResponse(f"Дневник.ру: unexpected shape ({type(err).__name__})") from err


def _list(body: t.Any) -> list[t.Any]:
    """Return a JSON array, or raise UnexpectedResponse."""
    if not isinstance(body, list):
        raise UnexpectedResponse("Дневник.ру: expected a JSON array")
    return body


def _object(body: t.Any) -> dict[str, t.Any]:
    """Return a JSON object, or raise UnexpectedResponse."""
    if not isinstance(body, dict):
        raise UnexpectedResponse("Дневник.ру: expected a JSON object")
    return body


class _Early(t.Generic[R]):
    """A request sent before it is known to be needed: its failure counts only when used.

    The marks (or the lesson log) decide whether the work types and the class's lessons are
    needed at all; sending them at the same time saves round trips, and keeping their
    failures until :meth:`result` keeps the answers and errors of the sequential order.
    """

    def __init__(self, call: Callable[[], R]) -> None:
        """Wrap the request (and the reading of its answer)."""
        self._call = call
        self._value: R | None = None
        self._error: Exception | None = None

    def __call__(self) -> _Early[R]:
        """Send the request now and keep its answer or its failure."""
        try:
            self._value = self._call()
        except Exception as err:
            self._error = err
        return self

    def result(self) -> R:
        """Return the answer, or raise the failure unchanged."""
        if self._error is not None:
            raise self._error
        return t.cast(R, self._value)


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

    @classmethod
    def from_settings(
        cls,
        base_url: str,
        settings: Mapping[str, t.Any],
        *,
        http: requests.Session | None = None,
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
        context = _object(self._client.get(token, "users/me/context", what="context"))
        links = _shaped(normalize.child_links, context)

        def read(path: str, what: str) -> list[t.Any]:
            """GET a JSON array."""
            return _list(self._client.get(token, path, what=what))

        people = [person for person, link in links.items() if link["group_ids"]]
        with_schools = any(link["school_id"] for link in links.values())
        # The schools and every child's groups are asked for at once.
        schools, *edu_groups = gather(
            [partial(read, "schools/person-schools", "schools") if with_schools else list]
            + [partial(read, f"persons/{person}/edu-groups", "groups") for person in people]
        )
        groups = dict(zip(people, edu_groups, strict=True))
        return _shaped(normalize.students, context, schools, groups)

    def fetch_grades(self, session: BackendSession, student_id: str, period: Period) -> list[Grade]:
        """Return a period's marks weighted by work type; marks, types, lessons asked at once."""
        token, school, groups = self._child(session, student_id)
        path = f"persons/{student_id}/schools/{school}/marks/{period.start}/{period.end}"
        read_types = partial(self._client.get, token, f"work-types/{school}", what="work types")
        raw_marks, work_types, *class_lessons = gather(
            [
                partial(self._client.get, token, path, what="marks"),
                _Early(lambda: _list(read_types())),
                *self._class_lessons(token, groups, period),
            ]
        )
        marks = _list(raw_marks)
        if not marks:
            return []
        types = work_types.result()
        wanted = _shaped(normalize.marked_lessons, marks)
        lessons = self._lessons(token, class_lessons, wanted)
        return _shaped(normalize.grades, marks, types, lessons)

    def fetch_homework(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Homework]:
        """Return the homework due in a period, with its files."""
        token, school, _ = self._child(session, student_id)
        params = {"startDate": period.start.isoformat(), "endDate": period.end.isoformat()}
        path = f"persons/{student_id}/school/{school}/homeworks"
        bundle = _object(self._client.get(token, path, params=params, what="homework"))
        return _shaped(normalize.homework, bundle)

    def fetch_schedule(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Lesson]:
        """Return the lessons of a period, one schedules call per week and group, all at once."""
        token, _, groups = self._child(session, student_id)

        def read(week: Period, group: str) -> list[Lesson]:
            """Read one week of one group's timetable."""
            params = {"startDate": week.start.isoformat(), "endDate": week.end.isoformat()}
            path = f"persons/{student_id}/groups/{group}/schedules"
            bundle = _object(self._client.get(token, path, params=params, what="schedule"))
            return _shaped(normalize.schedule, bundle)

        found: dict[str, Lesson] = {}
        for lessons in gather([partial(read, w, g) for w in period.weeks() for g in groups]):
            found |= {x.id: x for x in lessons}
        return sorted(found.values(), key=lambda x: (x.date, x.number or 0, x.id))

    def fetch_attendance(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Attendance]:
        """Return a period's absences and late arrivals: the log and lessons asked at once."""
        token, _, groups = self._child(session, student_id)
        params = {"startDate": period.start.isoformat(), "endDate": period.end.isoformat()}
        path = f"persons/{student_id}/lesson-log-entries"
        log, *class_lessons = gather(
            [
                partial(self._client.get, token, path, params=params, what="lesson log"),
                *self._class_lessons(token, groups, period),
            ]
        )
        entries = _list(log)
        wanted = _shaped(normalize.absent_lessons, entries)
        if not wanted:
            return []
        lessons = self._lessons(token, class_lessons, wanted)
        return _shaped(normalize.attendance, entries, lessons)

    def _open(self, grant: Grant, flow: str) -> BackendSession:
        """Read the context once and keep the ids every fetch needs in the session."""
        context = _object(self._client.get(grant.access_token, "users/me/context", what="context"))
        data = {
            "flow": flow,
            "access_token": grant.access_token,
            "refresh_token": grant.refresh_token,
            "user_id": grant.user_id or _shaped(normalize.ident, context, "userId"),
            "person_id": _shaped(normalize.ident, context, "personId"),
            "children": _shaped(normalize.child_links, context),
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

    def _class_lessons(
        self, token: str, groups: Iterable[str], period: Period
    ) -> list[_Early[dict[str, normalize.LessonRef]]]:
        """Return the early reads of the class's lessons of a period, one per group."""

        def read(group: str) -> dict[str, normalize.LessonRef]:
            """Read and index one group's lessons."""
            path = f"edu-groups/{group}/lessons/{period.start}/{period.end}"
            lessons = _list(self._client.get(token, path, what="group lessons"))
            return _shaped(normalize.lesson_refs, lessons)

        return [_Early(partial(read, group)) for group in groups]

    def _lessons(
        self,
        token: str,
        class_lessons: Iterable[_Early[dict[str, normalize.LessonRef]]],
        wanted: set[str],
    ) -> dict[str, normalize.LessonRef]:
        """Index the lessons behind marks or log entries: the class's, then any missing one."""
        refs: dict[str, normalize.LessonRef] = {}
        for early in class_lessons:
            refs |= early.result()

        def read(lesson_id: str) -> dict[str, normalize.LessonRef]:
            """Read one lesson the class's list lacks, e.g. a subgroup's (note §4)."""
            one = _object(self._client.get(token, f"lessons/{lesson_id}", what="lesson"))
            return _shaped(normalize.lesson_refs, [one])

        missing = sorted(wanted - refs.keys())
        for found in gather([partial(read, lesson_id) for lesson_id in missing]):
            refs |= found
        return refs
