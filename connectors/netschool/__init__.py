"""The NetSchool («Сетевой город. Образование», IrTech) connector.

Its settings are described in ``connectors.netschool.settings``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import typing as t
from collections.abc import Callable
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
from connectors.errors import ConnectorError
from connectors.errors import SessionExpired
from connectors.errors import reading
from connectors.netschool import normalize
from connectors.netschool.client import NetSchoolClient
from connectors.netschool.client import Wire
from connectors.netschool.operator import OperatorApi
from connectors.netschool.settings import NetSchoolSettings
from connectors.schema import Attendance
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Period
from connectors.schema import Section
from connectors.schema import Student

__all__ = ["NetSchoolConnector", "NetSchoolSettings"]

log = logging.getLogger(__name__)

# The OpenAPI example's idle timeout (note §1.7), used when a login answer omits ``timeOut``.
DEFAULT_IDLE_MS = 900_000
DIARY = "NetSchool student/diary"
MEETINGS = "NetSchool api/mobile/classmeetings"


class NetSchoolConnector(OperatorApi):
    """Read NetSchool diaries through the web API, and attendance through the mobile API.

    ``sections`` (a class attribute) is the most any instance offers; ``available_sections``
    is what this instance offers: attendance only when the operator configured a mobile
    client secret. The object holds settings only; every parent's state travels in the
    :class:`BackendSession`, so one instance serves many parents at once.
    """

    name: t.ClassVar[str] = "netschool"
    title: t.ClassVar[str] = "Сетевой город. Образование"
    display_names: t.ClassVar[Mapping[str, str]] = {"ru": "Сетевой город", "en": "NetSchool"}
    sections: t.ClassVar[frozenset[Section]] = frozenset(
        {Section.GRADES, Section.HOMEWORK, Section.SCHEDULE, Section.ATTENDANCE}
    )
    requires_school: t.ClassVar[bool] = True
    # The web diary has no change field (note §2.4): a cancelled lesson is simply not served.
    lesson_changes: t.ClassVar[frozenset[LessonStatus]] = frozenset()

    def __init__(
        self,
        settings: NetSchoolSettings,
        *,
        http: requests.Session | None = None,
        now: Clock = utcnow,
    ) -> None:
        """Use ``http`` for every call; it will never keep cookies (see ``forget_cookies``)."""
        self.settings = settings
        # Our own session is pooled for the calls a fetch sends at once; an injected one keeps
        # its pools (its owner sizes them).
        self._http = http if http is not None else pooled_session()
        self._client = NetSchoolClient(self._http, settings)
        self._now = now

    @classmethod
    def from_settings(
        cls,
        base_url: str,
        settings: Mapping[str, t.Any],
        *,
        http: requests.Session | None = None,
        now: Clock = utcnow,
    ) -> NetSchoolConnector:
        """Validate an operator's settings and return a live connector."""
        return cls(NetSchoolSettings.parse(base_url, settings), http=http, now=now)

    @property
    def available_sections(self) -> frozenset[Section]:
        """Return the sections this instance offers, given its settings."""
        if self.settings.mobile_client_secret is None:
            return self.sections - {Section.ATTENDANCE}
        return self.sections

    def login(
        self, credentials: Credentials, *, previous: BackendSession | None = None
    ) -> BackendSession:
        """Sign in (note §1.1) and keep what later fetches need in the session.

        ``previous`` is not used: NetSchool has no device trust to carry over, and a fresh
        sign-in always mints a fresh mobile token.
        """
        client = self._client
        wire = client.wire()
        school_id = self.settings.school_id or client.find_school(wire, credentials.school or "")
        answer = client.sign_in(wire, credentials.login, credentials.password, school_id)
        year_id = client.current_year(wire)
        raw_types = client.work_types(wire)
        with reading("NetSchool grade/assignment/types"):
            types = normalize.work_types(raw_types)
        with reading("NetSchool years/current"):
            year = int(year_id)
        secret = self.settings.mobile_client_secret
        data = {
            "at": wire.at,
            "cookies": dict(wire.cookies),
            "school_id": school_id,
            "year_id": year,
            "school_name": normalize.school_name(answer),
            "work_types": {str(k): v for k, v in types.items()},
            "mobile_token": self._mobile_token(wire) if secret else None,
        }
        idle = answer.get("timeOut")
        idle_ms = idle if isinstance(idle, int) and idle > 0 else DEFAULT_IDLE_MS
        expires = self._now() + dt.timedelta(milliseconds=idle_ms)
        return BackendSession(connector=self.name, data=data, expires_at=expires)

    def students(self, session: BackendSession) -> list[Student]:
        """List the children of the account (``student/diary/init``), with school and class.

        ``className`` of ``diary/init`` is mostly null (note §2.1); a child's diary of the
        week names the class, so each child without one costs one more call, sent at once.
        """
        wire, data = self._restore(session)
        init = self._client.diary_init(wire)
        with reading("NetSchool student/diary/init"):
            found = normalize.students(init, data.get("school_name"))
            week = normalize.init_week(init, self._now().date())
        unnamed = [s for s in found if s.class_name is None]
        names = gather([partial(self._class_of, wire, data, s.id, week) for s in unnamed])
        named = {s.id: name for s, name in zip(unnamed, names, strict=True)}
        return [dataclasses.replace(s, class_name=named.get(s.id, s.class_name)) for s in found]

    def _class_of(
        self, wire: Wire, data: Mapping[str, t.Any], student_id: str, week: Period
    ) -> str | None:
        """Read a child's class from the diary of a week."""
        diary = self._client.diary(wire, student_id, week, data["year_id"])
        with reading(DIARY):
            return normalize.class_of(diary)

    def fetch_grades(self, session: BackendSession, student_id: str, period: Period) -> list[Grade]:
        """Return a period's marks; weights the diary gives as 0 come from ``assigns/{id}``."""
        wire, data = self._restore(session)
        diary, teachers = self._diary_and_teachers(wire, data, student_id, period)
        types = {int(k): str(v) for k, v in data["work_types"].items()}
        with reading(DIARY):
            grades = normalize.grades(diary, types, teachers)
            unknown = sorted(set(normalize.unknown_weights(diary)))
        cards = gather(
            [partial(self._client.assignment_weight, wire, student_id, i) for i in unknown]
        )
        weights = dict(zip(unknown, cards, strict=True))
        return [
            dataclasses.replace(g, weight=weights[int(g.id)]) if int(g.id) in weights else g
            for g in grades
        ]

    def fetch_homework(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Homework]:
        """Return the homework (typeId 3) due in a period."""
        wire, data = self._restore(session)
        diary = self._client.diary(wire, student_id, period, data["year_id"])
        with reading(DIARY):
            return normalize.homework(diary, period)

    def fetch_schedule(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Lesson]:
        """Return a period's lessons, with teachers when the mobile API is available."""
        wire, data = self._restore(session)
        diary, teachers = self._diary_and_teachers(wire, data, student_id, period)
        with reading(DIARY):
            return normalize.schedule(diary, teachers)

    def fetch_attendance(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Attendance]:
        """Return absences and late arrivals from the mobile ``classmeetings``.

        :raise AccessDenied: when the instance has no mobile client secret.
        """
        if Section.ATTENDANCE not in self.available_sections:
            raise AccessDenied("NetSchool: attendance needs a mobile client secret")
        wire, data = self._restore(session)
        # A session whose token could not be minted at login mints one for this call.
        token = data.get("mobile_token") or self._mobile_token(wire, strict=True) or ""
        meetings = self._client.class_meetings(wire, token, student_id, period)
        with reading(MEETINGS):
            return normalize.attendance(meetings)

    def _restore(self, session: BackendSession) -> tuple[Wire, Mapping[str, t.Any]]:
        """Rebuild one parent's HTTP state from a session this connector issued."""
        data = session.data
        needed = ("at", "cookies", "year_id", "work_types")
        if session.connector != self.name or any(key not in data for key in needed):
            raise SessionExpired("NetSchool: the stored session is not a NetSchool session")
        return self._client.wire(at=data["at"], cookies=data["cookies"]), data

    def _diary_and_teachers(
        self, wire: Wire, data: Mapping[str, t.Any], student_id: str, period: Period
    ) -> tuple[Mapping[str, t.Any], dict[int, str]]:
        """Fetch the diary and the teachers at once: neither needs the other."""
        calls: list[Callable[[], t.Any]] = [
            partial(self._client.diary, wire, student_id, period, data["year_id"]),
            partial(self._teachers, wire, data, student_id, period),
        ]
        diary, teachers = gather(calls)
        return diary, teachers

    def _mobile_token(self, wire: Wire, *, strict: bool = False) -> str | None:
        """Mint a mobile token; at login a failure only costs attendance, so it is logged."""
        try:
            return self._client.mobile_token(wire)
        except ConnectorError as err:
            if strict:
                raise
            log.warning("netschool: no mobile token at login (%s)", type(err).__name__)
            return None

    def _teachers(
        self, wire: Wire, data: Mapping[str, t.Any], student_id: str, period: Period
    ) -> dict[int, str]:
        """Name each lesson's teacher from the mobile API; the web diary names none."""
        token = data.get("mobile_token")
        if not token:
            return {}
        try:
            meetings = self._client.class_meetings(wire, token, student_id, period)
        except SessionExpired:
            raise
        except ConnectorError as err:
            # Teachers' names are a nicety: a mobile API outage must not hide the marks.
            log.warning("netschool: no teachers from the mobile API (%s)", type(err).__name__)
            return {}
        with reading(MEETINGS):
            return normalize.teacher_names(meetings)
