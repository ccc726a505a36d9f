"""An example third-party connector: canned diaries, no backend, the full contract."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Mapping
from urllib.parse import urlsplit

from connectors.base import BackendSession
from connectors.base import Credentials
from connectors.clock import Clock
from connectors.clock import utcnow
from connectors.errors import InvalidCredentials
from connectors.errors import SessionExpired
from connectors.schema import Attendance
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import Period
from connectors.schema import Scale
from connectors.schema import Section
from connectors.schema import Student

if t.TYPE_CHECKING:
    import requests

__all__ = ["ACCOUNTS", "GRADES", "ExampleConnector"]

# login -> (password, the children's ids)
ACCOUNTS = {"example.parent": ("Example-2026", ("s-1",))}
STUDENTS = {"s-1": Student(id="s-1", full_name="Примеров Пример", class_name="5-А")}
GRADES = {
    "s-1": (
        Grade(
            id="g-1",
            subject="Математика",
            value="5",
            numeric=5.0,
            scale=Scale.FIVE_POINT,
            date=dt.date(2026, 9, 2),
            weight=1.0,
        ),
        Grade(
            id="g-2",
            subject="Литература",
            value="зч",
            numeric=None,
            scale=Scale.PASS_FAIL,
            date=dt.date(2026, 9, 9),
        ),
    )
}


class ExampleConnector:
    """Serve canned grades to the one canned parent; every other section is empty."""

    name: t.ClassVar[str] = "example"
    title: t.ClassVar[str] = "Example diary"
    sections: t.ClassVar[frozenset[Section]] = frozenset({Section.GRADES})
    requires_school: t.ClassVar[bool] = False

    def __init__(self, base_url: str) -> None:
        """Remember where the (imaginary) backend lives."""
        self.base_url = base_url

    @classmethod
    def from_settings(
        cls,
        base_url: str,
        settings: Mapping[str, t.Any],
        *,
        http: requests.Session | None = None,
        now: Clock = utcnow,
    ) -> ExampleConnector:
        """Accept an http(s) base URL and no settings (it never reads a clock)."""
        if urlsplit(base_url).scheme not in ("http", "https") or settings:
            raise ValueError("example: an http(s) base URL and no settings are expected")
        return cls(base_url.rstrip("/"))

    def login(
        self, credentials: Credentials, *, previous: BackendSession | None = None
    ) -> BackendSession:
        """Check the canned password."""
        password, children = ACCOUNTS.get(credentials.login, (None, ()))
        if password is None or password != credentials.password:
            raise InvalidCredentials("example: login or password refused")
        return BackendSession(connector=self.name, data={"children": list(children)})

    def students(self, session: BackendSession) -> list[Student]:
        """List the canned children of the session."""
        return [STUDENTS[i] for i in self._children(session)]

    def fetch_grades(self, session: BackendSession, student_id: str, period: Period) -> list[Grade]:
        """Return the canned grades dated in the period."""
        if student_id not in self._children(session):
            return []
        return [g for g in GRADES.get(student_id, ()) if period.start <= g.date <= period.end]

    def fetch_homework(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Homework]:
        """Return no homework."""
        return []

    def fetch_schedule(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Lesson]:
        """Return no lessons."""
        return []

    def fetch_attendance(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[Attendance]:
        """Return no absences."""
        return []

    def _children(self, session: BackendSession) -> list[str]:
        """Return the children's ids a session of this connector carries."""
        if session.connector != self.name:
            raise SessionExpired("example: not an example session")
        return list(session.data.get("children", []))
