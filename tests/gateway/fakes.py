"""A connector that keeps its pretend school in memory, for gateway unit tests only."""

from __future__ import annotations

import datetime as dt
import threading
import typing as t
from collections import Counter
from collections.abc import Mapping

from connectors.base import BackendSession
from connectors.base import Credentials
from connectors.errors import BackendUnavailable
from connectors.errors import InvalidCredentials
from connectors.errors import SecondFactorRequired
from connectors.errors import SessionExpired
from connectors.errors import StudentNotFound
from connectors.errors import UnexpectedResponse
from connectors.schema import Grade
from connectors.schema import LessonStatus
from connectors.schema import Period
from connectors.schema import Scale
from connectors.schema import Section
from connectors.schema import Student
from regional_mock.world import demo_today

EXTRA_SECTIONS = (
    Section.SCHEDULE,
    Section.HOMEWORK,
    Section.ATTENDANCE,
    Section.EVENTS,
    Section.MESSAGES,
)


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
        # Other sections: student id -> records; each record's date decides the period.
        self.records: dict[Section, dict[str, list[t.Any]]] = {
            section: {"s1": [], "s2": []} for section in EXTRA_SECTIONS
        }
        self.barrier: threading.Barrier | None = None
        self.track_concurrency = False
        self.most_at_once = 0
        self._at_once = 0
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        # Every fetch's section, student and period, in order.
        self.asked: list[tuple[Section, str, Period]] = []
        self.down = False
        # Students whose marks the school answers with garbage (schema drift for one child).
        self.garbled: set[str] = set()
        self.session_ttl = dt.timedelta(hours=1)
        self.expired_tokens: set[str] = set()
        self.sms_for: set[str] = set()
        self.code = "424242"
        self.attempts = 2
        # The operator-side roster: (full name, birth date) -> student id.
        self.roster: dict[tuple[str, dt.date], str] = {}


class FakeConnector:
    """Implements the connector contract over a :class:`FakeSchool`."""

    name: t.ClassVar[str] = "fake"
    title: t.ClassVar[str] = "Тестовая система"
    display_names: t.ClassVar[Mapping[str, str]] = {"ru": "Тест-дневник", "en": "Test Diary"}
    sections: t.ClassVar[frozenset[Section]] = frozenset({Section.GRADES, *EXTRA_SECTIONS})
    requires_school: t.ClassVar[bool] = False
    lesson_changes: t.ClassVar[frozenset[LessonStatus]] = frozenset(LessonStatus) - {
        LessonStatus.PLANNED
    }
    school: t.ClassVar[FakeSchool] = FakeSchool()

    @classmethod
    def from_settings(
        cls, base_url: str, settings: Mapping[str, t.Any], *, http: t.Any = None, now: t.Any = None
    ):
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

    def _answer(self, section: Section, session: BackendSession) -> None:
        school = self.school
        with school._lock:
            school.calls[section.value] += 1
            school._at_once += 1
            school.most_at_once = max(school.most_at_once, school._at_once)
        try:
            if school.barrier is not None:  # proves fetches run at the same time
                school.barrier.wait(timeout=10)
            elif school.track_concurrency:  # give overlapping fetches a chance to overlap
                threading.Event().wait(0.05)
        finally:
            with school._lock:
                school._at_once -= 1
        if self.school.down:
            raise BackendUnavailable("down")
        if session.data["token"] in self.school.expired_tokens:
            raise SessionExpired("expired")

    def fetch_grades(self, session: BackendSession, student_id: str, period: Period) -> list[Grade]:
        """Return stored marks within the period."""
        self._answer(Section.GRADES, session)
        self.school.asked.append((Section.GRADES, student_id, period))
        if student_id in self.school.garbled:
            raise UnexpectedResponse("marks are not a list")
        return [g for g in self.school.grades[student_id] if period.start <= g.date <= period.end]

    def _records(
        self, section: Section, session: BackendSession, student_id: str, period: Period
    ) -> list[t.Any]:
        self._answer(section, session)
        self.school.asked.append((section, student_id, period))
        return [
            r
            for r in self.school.records[section][student_id]
            if period.start <= _day(r) <= period.end
        ]

    def fetch_schedule(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[t.Any]:
        """Return lessons within the period."""
        return self._records(Section.SCHEDULE, session, student_id, period)

    def fetch_homework(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[t.Any]:
        """Return homework due within the period."""
        return self._records(Section.HOMEWORK, session, student_id, period)

    def fetch_attendance(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[t.Any]:
        """Return absences within the period."""
        return self._records(Section.ATTENDANCE, session, student_id, period)

    def fetch_events(self, session: BackendSession, student_id: str, period: Period) -> list[t.Any]:
        """Return events within the period."""
        return self._records(Section.EVENTS, session, student_id, period)

    def fetch_messages(
        self, session: BackendSession, student_id: str, period: Period
    ) -> list[t.Any]:
        """Return messages sent within the period."""
        return self._records(Section.MESSAGES, session, student_id, period)


def _day(record: t.Any) -> dt.date:
    for name in ("date", "due_on", "starts_at", "sent_at"):
        value = getattr(record, name, None)
        if value is not None:
            return value.date() if isinstance(value, dt.datetime) else value
    raise ValueError(record)


def grade(student_grades: list[Grade], **fields: t.Any) -> Grade:
    """Add a five-point mark to a list and return it."""
    defaults: dict[str, t.Any] = {
        "id": f"g{len(student_grades) + 1}",
        "subject": "Математика",
        "value": "5",
        "numeric": 5.0,
        "scale": Scale.FIVE_POINT,
        "date": demo_today(),
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


class FakeOperatorConnector(FakeConnector):
    """A fake whose regional operator can check the roster and issue parents' logins."""

    name: t.ClassVar[str] = "fake_operator"

    def find_student(
        self, full_name: str, birth_date: dt.date, school: str, class_name: str
    ) -> bool | None:
        """Look the student up on the school's roster."""
        self.school.calls["roster"] += 1
        return (full_name, birth_date) in self.school.roster

    def issue_credentials(
        self, full_name: str, birth_date: dt.date, school: str, class_name: str, parent_name: str
    ) -> Credentials:
        """Create a login showing the student, as the region's system would."""
        student_id = self.school.roster.get((full_name, birth_date))
        if student_id is None:
            raise StudentNotFound("no such student")
        login = f"issued-{len(self.school.accounts)}"
        student = Student(id=student_id, full_name=full_name, class_name=class_name)
        self.school.accounts[login] = ("issued-secret", [student])
        self.school.grades.setdefault(student_id, [])
        for records in self.school.records.values():
            records.setdefault(student_id, [])
        return Credentials(login=login, password="issued-secret", school=school)
