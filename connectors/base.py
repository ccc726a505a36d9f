"""The contract every connector implements, and the values that cross it."""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from connectors.clock import Clock
from connectors.clock import utcnow
from connectors.schema import Attendance
from connectors.schema import Event
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Message
from connectors.schema import Period
from connectors.schema import Rating
from connectors.schema import Section
from connectors.schema import Student

if t.TYPE_CHECKING:
    import requests


@dataclass(frozen=True, slots=True)
class Credentials:
    """A school-issued login and password; the password never appears in a repr.

    ``school`` is the school's name as the parent types it, for systems whose sign-in
    needs the school (NetSchool's ``scid``); other connectors ignore it.
    """

    login: str
    password: str = field(repr=False)
    school: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendSession:
    """Opaque upstream session state a connector hands back to itself (dex's ConnectorData)."""

    connector: str
    data: Mapping[str, t.Any]
    expires_at: dt.datetime | None = None

    def expired(self, now: dt.datetime) -> bool:
        """Tell whether the session is past its expiry time."""
        return self.expires_at is not None and now >= self.expires_at

    def to_json(self) -> str:
        """Serialize the session so the gateway can keep it encrypted."""
        expires = self.expires_at.isoformat() if self.expires_at else None
        return json.dumps(
            {"connector": self.connector, "data": dict(self.data), "expires_at": expires},
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> BackendSession:
        """Restore a session serialized by :meth:`to_json`."""
        payload = json.loads(raw)
        expires = payload.get("expires_at")
        return cls(
            connector=payload["connector"],
            data=payload["data"],
            expires_at=dt.datetime.fromisoformat(expires) if expires else None,
        )


@t.runtime_checkable
class Connector(t.Protocol):
    """A client for one regional diary API, producing the normalized schema.

    A connector holds no credentials: the gateway passes a :class:`BackendSession` to
    every fetch and logs in again when a fetch raises ``SessionExpired``.
    """

    name: t.ClassVar[str]
    title: t.ClassVar[str]
    # The product's short name as parents know it, by interface language ("ru" at least):
    # {"ru": "МЭШ", "en": "MESH"}. Pages say «Система «МЭШ» …», never the region's name.
    display_names: t.ClassVar[Mapping[str, str]]
    sections: t.ClassVar[frozenset[Section]]
    requires_school: t.ClassVar[bool]

    @classmethod
    def from_settings(
        cls,
        base_url: str,
        settings: Mapping[str, t.Any],
        *,
        http: requests.Session | None = None,
        now: Clock = utcnow,
    ) -> Connector:
        """Validate an operator's settings and return a live connector.

        ``http`` is the session to send through (the gateway's, limited and guarded) and
        ``now`` the clock to read (the gateway's, which its tests move).
        """
        ...

    def login(
        self, credentials: Credentials, *, previous: BackendSession | None = None
    ) -> BackendSession:
        """Sign in with school-issued credentials.

        ``previous`` is the last session of the same credentials, if any: a connector may
        carry state over from it (a trusted-device token, so that no SMS is asked again).

        :raise connectors.errors.SecondFactorRequired: when the backend asks for a code.
        """
        ...

    def students(self, session: BackendSession) -> list[Student]:
        """List the students this login may see."""
        ...

    def fetch_grades(self, session: BackendSession, student_id: str, period: Period) -> list[Grade]:
        """Return the marks of a student in a period."""
        ...

    def fetch_homework(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Homework]:
        """Return homework due in a period."""
        ...

    def fetch_schedule(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Lesson]:
        """Return the lessons of a period."""
        ...

    def fetch_attendance(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Attendance]:
        """Return absences and late arrivals in a period."""
        ...


@t.runtime_checkable
class FetchesEvents(t.Protocol):
    """A connector that serves ``Section.EVENTS``: parent meetings and school events."""

    def fetch_events(self, session: BackendSession, student_id: str, period: Period) -> list[Event]:
        """Return the events of a period."""
        ...


@t.runtime_checkable
class FetchesMessages(t.Protocol):
    """A connector that serves ``Section.MESSAGES``: what teachers and the school sent."""

    def fetch_messages(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Message]:
        """Return the messages sent in a period."""
        ...


@t.runtime_checkable
class FetchesRating(t.Protocol):
    """A connector that serves ``Section.RATING``: the child's place in the class."""

    def fetch_rating(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Rating]:
        """Return the child's rating at the end of a period."""
        ...


@t.runtime_checkable
class ConfirmsSecondFactor(t.Protocol):
    """A connector whose sign-in may ask for a one-time code (SMS) on an unknown device."""

    def confirm_second_factor(self, challenge: Mapping[str, t.Any], code: str) -> BackendSession:
        """Finish a sign-in that raised ``SecondFactorRequired``, trusting this device.

        :raise connectors.errors.InvalidCredentials: when the code is wrong.
        :raise connectors.errors.SecondFactorRequired: with a fresh challenge when the code
            is wrong but attempts remain.
        """
        ...


@t.runtime_checkable
class AuthorizesInBrowser(t.Protocol):
    """A connector that links through the backend's own sign-in page (OAuth2).

    Available where the regional operator registered the gateway as a partner client; the
    gateway never sees the school password.
    """

    def authorization_url(self, *, redirect_uri: str, state: str) -> str | None:
        """Return where to send the parent, or None when no partner client is configured."""
        ...

    def complete_authorization(self, *, code: str, redirect_uri: str) -> BackendSession:
        """Exchange the authorization code for a backend session."""
        ...


@t.runtime_checkable
class RefreshesSession(t.Protocol):
    """A connector whose sessions can be renewed without the password (refresh tokens)."""

    def refresh(self, session: BackendSession) -> BackendSession:
        """Return a renewed session.

        :raise connectors.errors.InvalidCredentials: when the refresh is refused for good.
        """
        ...


@t.runtime_checkable
class NarrowsSections(t.Protocol):
    """A connector whose instances may offer fewer sections than the class declares.

    The class's ``sections`` is the most any instance offers; an instance's settings may
    leave some out (NetSchool without a mobile client secret offers no attendance).
    """

    @property
    def available_sections(self) -> frozenset[Section]:
        """Return the sections this instance offers, given its settings."""
        ...


@t.runtime_checkable
class MarksLessonChanges(t.Protocol):
    """A connector that declares which timetable changes its backend's wire format marks.

    ``lesson_changes`` names every status other than ``PLANNED`` the connector can report
    (MESH: replaced and cancelled). An empty set declares that the backend marks none: a
    cancelled lesson may simply vanish and a replacement looks like any other lesson, so
    the gateway tells the parent that this system does not report changes. A connector
    that does not declare it is taken to report none.
    """

    lesson_changes: t.ClassVar[frozenset[LessonStatus]]


@t.runtime_checkable
class ChecksRoster(t.Protocol):
    """A connector that can ask its backend whether a student is on a school's roster.

    Uses the backend's operator-side API with the instance's operator credentials; the
    gateway shows the answer to the regional operator as a hint, never as a decision.
    """

    def find_student(
        self, full_name: str, birth_date: dt.date, school: str, class_name: str
    ) -> bool | None:
        """Tell whether the student is enrolled there; None when the backend cannot say."""
        ...


@t.runtime_checkable
class IssuesCredentials(t.Protocol):
    """A connector that can create a school-issued login for an approved application.

    :raise connectors.errors.AccessDenied: when the instance has no operator credentials.
    """

    def issue_credentials(
        self, full_name: str, birth_date: dt.date, school: str, class_name: str, parent_name: str
    ) -> Credentials:
        """Create a parent's login that shows this student, and return it."""
        ...


def lesson_changes_of(connector: Connector | type[Connector]) -> frozenset[LessonStatus]:
    """Return the timetable changes a connector (or its class) declares it reports."""
    # The protocol's isinstance reads a class attribute of a class as of an instance;
    # seen as an object, mypy does not rule the class out.
    declaring: object = connector
    if isinstance(declaring, MarksLessonChanges):
        return frozenset(declaring.lesson_changes)
    return frozenset()


def sections_of(connector: Connector) -> frozenset[Section]:
    """Return the sections a live connector instance offers."""
    if isinstance(connector, NarrowsSections):
        return connector.available_sections
    return connector.sections


# One section's fetch of a live connector: (session, student id, period) -> records.
Fetch = Callable[[BackendSession, str, Period], Sequence[t.Any]]


def _events(connector: Connector) -> Fetch | None:
    """Return ``fetch_events`` of a connector that is a :class:`FetchesEvents`."""
    return connector.fetch_events if isinstance(connector, FetchesEvents) else None


def _messages(connector: Connector) -> Fetch | None:
    """Return ``fetch_messages`` of a connector that is a :class:`FetchesMessages`."""
    return connector.fetch_messages if isinstance(connector, FetchesMessages) else None


def _rating(connector: Connector) -> Fetch | None:
    """Return ``fetch_rating`` of a connector that is a :class:`FetchesRating`."""
    return connector.fetch_rating if isinstance(connector, FetchesRating) else None


# Every section's method, declared: by :class:`Connector` or by the section's capability.
FETCHES: Mapping[Section, Callable[[Connector], Fetch | None]] = {
    Section.GRADES: lambda connector: connector.fetch_grades,
    Section.HOMEWORK: lambda connector: connector.fetch_homework,
    Section.SCHEDULE: lambda connector: connector.fetch_schedule,
    Section.ATTENDANCE: lambda connector: connector.fetch_attendance,
    Section.EVENTS: _events,
    Section.MESSAGES: _messages,
    Section.RATING: _rating,
}


def fetch_of(connector: Connector, section: Section) -> Fetch:
    """Return the connector's fetch of one section, through :data:`FETCHES`.

    :raise TypeError: when the connector implements no fetch of the section (it declares
        a section whose capability it lacks).
    """
    found = FETCHES[section](connector)
    if found is None:
        raise TypeError(f"connector {connector.name!r} has no fetch of section {section.value!r}")
    return found
