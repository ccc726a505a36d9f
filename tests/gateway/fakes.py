"""A connector that keeps its pretend school in memory, for gateway unit tests only."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections import Counter
from collections.abc import Mapping

from connectors.base import BackendSession
from connectors.base import Credentials
from connectors.errors import BackendUnavailable
from connectors.errors import InvalidCredentials
from connectors.errors import SecondFactorRequired
from connectors.errors import SessionExpired
from connectors.schema import Grade
from connectors.schema import Period
from connectors.schema import Scale
from connectors.schema import Section
from connectors.schema import Student


class FakeSchool:
    """Accounts, students and marks of a pretend backend, plus what was asked of it."""

    def __init__(self) -> None:
        """Start with one parent of two children."""
        self.accounts: dict[str, tuple[str, list[Student]]] = {
            "parent": (
                "secret",
                [
                    Student(id="s1", full_name="Иванова Анна", class_name="3А"),
                    Student(id="s2", full_name="Иванов Пётр", class_name="7Б"),
                ],
            )
        }
        self.grades: dict[str, list[Grade]] = {"s1": [], "s2": []}
        self.calls: Counter[str] = Counter()
        self.down = False
        self.session_ttl = dt.timedelta(hours=1)
        self.expired_tokens: set[str] = set()
        self.sms_for: set[str] = set()
        self.code = "424242"
        self.attempts = 2


class FakeConnector:
    """Implements the connector contract over a :class:`FakeSchool`."""

    name: t.ClassVar[str] = "fake"
    title: t.ClassVar[str] = "Тестовая система"
    sections: t.ClassVar[frozenset[Section]] = frozenset({Section.GRADES})
    requires_school: t.ClassVar[bool] = False
    school: t.ClassVar[FakeSchool] = FakeSchool()

    @classmethod
    def from_settings(cls, base_url: str, settings: Mapping[str, t.Any], *, http: t.Any = None):
        """Return a connector over the class's school."""
        return cls()

    def login(
        self, credentials: Credentials, *, previous: BackendSession | None = None
    ) -> BackendSession:
        """Accept only the school's known password."""
        self.school.calls["login"] += 1
        if self.school.down:
            raise BackendUnavailable("down")
        account = self.school.accounts.get(credentials.login)
        if account is None or account[0] != credentials.password:
            raise InvalidCredentials("wrong login or password")
        trusted = previous is not None and previous.data.get("device") == "trusted"
        if credentials.login in self.school.sms_for and not trusted:
            raise SecondFactorRequired(
                "code needed",
                challenge={"login": credentials.login, "left": self.school.attempts},
                destination="+7 900 ***-**-01",
            )
        return self._session(
            credentials.login, device=previous.data.get("device") if previous else None
        )

    def _session(self, login: str, *, device: str | None) -> BackendSession:
        self.school.calls["session"] += 1
        token = f"t{self.school.calls['session']}"
        expires = dt.datetime.now(dt.UTC) + self.school.session_ttl
        return BackendSession(
            connector="fake",
            data={"token": token, "login": login, "device": device},
            expires_at=expires,
        )

    def confirm_second_factor(self, challenge: Mapping[str, t.Any], code: str) -> BackendSession:
        """Accept the school's code and trust the device from now on."""
        self.school.calls["confirm"] += 1
        if code == self.school.code:
            return self._session(challenge["login"], device="trusted")
        if challenge["left"] > 1:
            raise SecondFactorRequired(
                "wrong code", challenge={**challenge, "left": challenge["left"] - 1}
            )
        raise InvalidCredentials("no attempts left")

    def students(self, session: BackendSession) -> list[Student]:
        """List the account's students."""
        return list(self.school.accounts[session.data["login"]][1])

    def fetch_grades(self, session: BackendSession, student_id: str, period: Period) -> list[Grade]:
        """Return stored marks within the period."""
        self.school.calls["grades"] += 1
        if self.school.down:
            raise BackendUnavailable("down")
        if session.data["token"] in self.school.expired_tokens:
            raise SessionExpired("expired")
        return [g for g in self.school.grades[student_id] if period.start <= g.date <= period.end]


def grade(student_grades: list[Grade], **fields: t.Any) -> Grade:
    """Add a five-point mark to a list and return it."""
    defaults: dict[str, t.Any] = {
        "id": f"g{len(student_grades) + 1}",
        "subject": "Математика",
        "value": "5",
        "numeric": 5.0,
        "scale": Scale.FIVE_POINT,
        "date": dt.date.today(),
    }
    defaults.update(fields)
    record = Grade(**defaults)
    student_grades.append(record)
    return record


class FakeBrowserConnector(FakeConnector):
    """A fake backend where parents sign in on the backend's own page (a partner client)."""

    name: t.ClassVar[str] = "fake_oauth"

    def authorization_url(self, *, redirect_uri: str, state: str) -> str | None:
        """Point at the pretend sign-in page."""
        return f"http://fake.invalid/authorize?state={state}&redirect_uri={redirect_uri}"

    def complete_authorization(self, *, code: str, redirect_uri: str) -> BackendSession:
        """Grant the parent's account for the good code only."""
        self.school.calls["authorize"] += 1
        if code != "good":
            raise InvalidCredentials("bad code")
        return self._session("parent", device=None)
