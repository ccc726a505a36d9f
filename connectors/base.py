"""The contract every connector implements, and the values that cross it."""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from connectors.schema import Attendance
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import Period
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
    sections: t.ClassVar[frozenset[Section]]
    requires_school: t.ClassVar[bool]

    @classmethod
    def from_settings(
        cls,
        base_url: str,
        settings: Mapping[str, t.Any],
        *,
        http: requests.Session | None = None,
    ) -> Connector:
        """Validate an operator's settings and return a live connector."""
        ...

    def login(self, credentials: Credentials) -> BackendSession:
        """Sign in with school-issued credentials."""
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
