"""The NetSchool («Сетевой город. Образование», IrTech) connector.

Settings an operator gives an instance (all optional):

- ``connect_timeout``, ``read_timeout``: seconds, default 3.05 and 10;
- ``school_id``: the school's ``scid``; every parent of the instance then signs in to that
  school and the ``schools/search`` lookup is skipped;
- ``mobile_client_secret``: the ``parent-mobile`` client secret of the mobile identity
  server; without it the instance offers no attendance (the web diary has none, note §2.12);
- ``identity_url``: the identity server minting mobile tokens, default the base URL itself;
- ``app_version``: the mobile app version sent to the mobile API, default ``2.0.3``;
- ``operator_api_key``: the regional operator's key of the operator-side API (roster checks,
  issuing parents' logins; see ``connectors.netschool.operator``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
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
from connectors.errors import ConnectorError
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
from connectors.netschool import normalize
from connectors.netschool.client import DEFAULT_TIMEOUT
from connectors.netschool.client import Phase
from connectors.netschool.client import Timeout
from connectors.netschool.client import Wire
from connectors.netschool.client import class_meetings
from connectors.netschool.client import find_school
from connectors.netschool.client import forget_cookies
from connectors.netschool.client import mobile_token
from connectors.netschool.client import require
from connectors.netschool.client import sign_in
from connectors.netschool.operator import OperatorApi
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

T = t.TypeVar("T")
SETTING_KEYS = frozenset(
    ("connect_timeout", "read_timeout", "school_id")
    + ("mobile_client_secret", "identity_url", "app_version", "operator_api_key")
)
# The OpenAPI example's idle timeout (note §1.7), used when a login answer omits ``timeOut``.
DEFAULT_IDLE_MS = 900_000


def _http_url(value: object, key: str) -> str:
    """Return a validated http(s) URL without its trailing slash."""
    parts = urlsplit(value if isinstance(value, str) else "")
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError(f"netschool: {key} must be an http(s) URL without a query")
    return parts.geturl().rstrip("/")


def _seconds(settings: Mapping[str, t.Any], key: str, default: float) -> float:
    """Return a validated positive number of seconds."""
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"netschool: {key} must be a positive number of seconds")
    return float(value)


def _text(settings: Mapping[str, t.Any], key: str, default: str | None) -> str | None:
    """Return a validated non-empty string setting."""
    value = settings.get(key, default)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"netschool: {key} must be a non-empty string")
    return value


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NetSchoolSettings:
    """An instance's validated settings."""

    base_url: str
    timeout: Timeout = DEFAULT_TIMEOUT
    school_id: int | None = None
    mobile_client_secret: str | None = None
    identity_url: str
    app_version: str = "2.0.3"
    operator_api_key: str | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def parse(cls, base_url: str, settings: Mapping[str, t.Any]) -> NetSchoolSettings:
        """Validate an operator's settings.

        :raise ValueError: naming the offending setting, never echoing a secret.
        """
        unknown = sorted(set(settings) - SETTING_KEYS)
        if unknown:
            raise ValueError(f"netschool: unknown settings {', '.join(unknown)}")
        base = _http_url(base_url, "base_url")
        school_id = settings.get("school_id")
        if school_id is not None and (type(school_id) is not int or school_id <= 0):
            raise ValueError("netschool: school_id must be a positive integer")
        identity = settings.get("identity_url")
        return cls(
            base_url=base,
            timeout=(
                _seconds(settings, "connect_timeout", DEFAULT_TIMEOUT[0]),
                _seconds(settings, "read_timeout", DEFAULT_TIMEOUT[1]),
            ),
            school_id=school_id,
            mobile_client_secret=_text(settings, "mobile_client_secret", None),
            identity_url=_http_url(identity, "identity_url") if identity is not None else base,
            app_version=_text(settings, "app_version", "2.0.3") or "2.0.3",
            operator_api_key=_text(settings, "operator_api_key", None),
        )


def _utcnow() -> dt.datetime:
    """Return the current time in UTC."""
    return dt.datetime.now(dt.UTC)


def _parsed(what: str, parse: Callable[..., T], *args: t.Any) -> T:
    """Run a normalizer; a shape it does not understand is schema drift."""
    try:
        return parse(*args)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise UnexpectedResponse(f"NetSchool {what}: unexpected shape") from err


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
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        """Use ``http`` for every call; it will never keep cookies (see ``forget_cookies``)."""
        self.settings = settings
        # Our own session is pooled for the calls a fetch sends at once; an injected one keeps
        # its pools (its owner sizes them).
        self._http = forget_cookies(http if http is not None else pooled_session())
        self._now = now

    @classmethod
    def from_settings(
        cls,
        base_url: str,
        settings: Mapping[str, t.Any],
        *,
        http: requests.Session | None = None,
    ) -> NetSchoolConnector:
        """Validate an operator's settings and return a live connector."""
        return cls(NetSchoolSettings.parse(base_url, settings), http=http)

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
        wire = self._wire()
        school_id = self.settings.school_id or find_school(wire, credentials.school or "")
        answer = sign_in(wire, credentials.login, credentials.password, school_id)
        year = wire.call("GET", "years/current")
        (year_id,) = require(year, ("id",), "years/current", Phase.DATA)
        raw_types = wire.call("GET", "grade/assignment/types", params={"all": "true"})
        types = _parsed("grade/assignment/types", normalize.work_types, raw_types)
        secret = self.settings.mobile_client_secret
        data = {
            "at": wire.at,
            "cookies": dict(wire.cookies),
            "school_id": school_id,
            "year_id": _parsed("years/current", int, year_id),
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
        init = wire.call("GET", "student/diary/init")
        found = _parsed("student/diary/init", normalize.students, init, data.get("school_name"))
        week = _parsed("student/diary/init", normalize.init_week, init, self._now().date())
        unnamed = [s for s in found if s.class_name is None]
        names = gather([partial(self._class_of, wire, data, s.id, week) for s in unnamed])
        named = {s.id: name for s, name in zip(unnamed, names, strict=True)}
        return [dataclasses.replace(s, class_name=named.get(s.id, s.class_name)) for s in found]

    def _class_of(
        self, wire: Wire, data: Mapping[str, t.Any], student_id: str, week: Period
    ) -> str | None:
        """Read a child's class from the diary of a week."""
        diary = self._diary(wire, data, student_id, week)
        return _parsed("student/diary", normalize.class_of, diary)

    def fetch_grades(self, session: BackendSession, student_id: str, period: Period) -> list[Grade]:
        """Return a period's marks; weights the diary gives as 0 come from ``assigns/{id}``."""
        wire, data = self._restore(session)
        diary, teachers = self._diary_and_teachers(wire, data, student_id, period)
        types = {int(k): str(v) for k, v in data["work_types"].items()}
        grades = _parsed("student/diary", normalize.grades, diary, types, teachers)
        unknown = sorted(set(_parsed("student/diary", normalize.unknown_weights, diary)))
        cards = gather([partial(self._card_weight, wire, student_id, i) for i in unknown])
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
        diary = self._diary(wire, data, student_id, period)
        return _parsed("student/diary", normalize.homework, diary, period)

    def fetch_schedule(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Lesson]:
        """Return a period's lessons, with teachers when the mobile API is available."""
        wire, data = self._restore(session)
        diary, teachers = self._diary_and_teachers(wire, data, student_id, period)
        return _parsed("student/diary", normalize.schedule, diary, teachers)

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
        meetings = class_meetings(
            wire, token, student_id, period.start, period.end, self.settings.app_version
        )
        return _parsed("api/mobile/classmeetings", normalize.attendance, meetings)

    def _wire(self, **state: t.Any) -> Wire:
        """Return a wire to this instance's server carrying ``state``."""
        return Wire(self._http, self.settings.base_url, timeout=self.settings.timeout, **state)

    def _restore(self, session: BackendSession) -> tuple[Wire, Mapping[str, t.Any]]:
        """Rebuild one parent's HTTP state from a session this connector issued."""
        data = session.data
        needed = ("at", "cookies", "year_id", "work_types")
        if session.connector != self.name or any(key not in data for key in needed):
            raise SessionExpired("NetSchool: the stored session is not a NetSchool session")
        return self._wire(at=data["at"], cookies=data["cookies"]), data

    def _diary(
        self, wire: Wire, data: Mapping[str, t.Any], student_id: str, period: Period
    ) -> Mapping[str, t.Any]:
        """Fetch the whole period in one call: the server accepts long ranges (note §4)."""
        params = {
            "studentId": student_id,
            "weekStart": period.start.isoformat(),
            "weekEnd": period.end.isoformat(),
            "yearId": data["year_id"],
        }
        diary = wire.call("GET", "student/diary", params=params)
        if not isinstance(diary, dict):
            raise UnexpectedResponse("NetSchool student/diary: unexpected shape")
        # The server always echoes the week (note §2.4); weekDays may be absent for holidays.
        require(diary, ("weekStart", "weekEnd"), "student/diary", Phase.DATA)
        return diary

    def _diary_and_teachers(
        self, wire: Wire, data: Mapping[str, t.Any], student_id: str, period: Period
    ) -> tuple[Mapping[str, t.Any], dict[int, str]]:
        """Fetch the diary and the teachers at once: neither needs the other."""
        diary, teachers = gather(
            [
                partial(self._diary, wire, data, student_id, period),
                partial(self._teachers, wire, data, student_id, period),
            ]
        )
        return diary, teachers

    def _card_weight(self, wire: Wire, student_id: str, assignment_id: int) -> float | None:
        """Read the real weight of a mark from its assignment card (note §2.6)."""
        path = f"student/diary/assigns/{assignment_id}"
        card = wire.call("GET", path, params={"studentId": student_id})
        (weight,) = require(card, ("weight",), "student/diary/assigns", Phase.DATA)
        return float(weight) if isinstance(weight, int | float) and weight > 0 else None

    def _mobile_token(self, wire: Wire, *, strict: bool = False) -> str | None:
        """Mint a mobile token; at login a failure only costs attendance, so it is logged."""
        try:
            return mobile_token(
                wire,
                identity_url=self.settings.identity_url,
                client_secret=self.settings.mobile_client_secret or "",
                app_version=self.settings.app_version,
            )
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
            meetings = class_meetings(
                wire, token, student_id, period.start, period.end, self.settings.app_version
            )
        except SessionExpired:
            raise
        except ConnectorError as err:
            # Teachers' names are a nicety: a mobile API outage must not hide the marks.
            log.warning("netschool: no teachers from the mobile API (%s)", type(err).__name__)
            return {}
        return _parsed("api/mobile/classmeetings", normalize.teacher_names, meetings)
