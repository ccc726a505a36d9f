"""Check that a connector keeps the connector contract, against its emulator over real HTTP.

Describe the connector with a :class:`ConformanceTarget`; run each of :data:`CHECKS` on a
fresh :class:`Bench` from :func:`bench`, which serves the target's emulator over the demo
world of ``target.today`` (mid-September by default, so the world spans 1 September)::

    @pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
    def test_my_connector_conforms(check):
        with bench(MY_TARGET) as served:
            check(served)

A check fails with ``AssertionError`` (or the connector's error), skips with ``SkipTest``.
The fault admin must work as ``regional_mock.faults``'s. Schema drift is the kit's own
(``responses`` would need each connector's URLs; truncated JSON has its own check): a WSGI
middleware renames every key of 2xx JSON bodies (``"marks"`` to ``"marks_v2"``), and no log
record but the test server's may then name the login, the password or a child.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import io
import json
import logging
import threading
import typing as t
import unittest
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping

import requests
from werkzeug.serving import make_server

from connectors import base
from connectors import errors
from connectors.base import BackendSession
from connectors.base import Connector
from connectors.base import Credentials
from connectors.codec import RECORD_OF
from connectors.schema import LessonStatus
from connectors.schema import Period
from connectors.schema import Section
from connectors.schema import Student
from regional_mock.world import World
from regional_mock.world import build_world

WSGIApp = Callable[[dict[str, t.Any], Callable[..., t.Any]], Iterable[bytes]]
Check = Callable[["Bench"], None]
GradeKey = tuple[str, str, float | None, float | None]  # id, value as shown, numeric, weight
DATED = ("date", "due_on", "starts_at", "sent_at", "as_of")  # a record's day, by type
SLOW_MS = 1500  # the latency injected to trip a connector's read timeout
_world = functools.cache(build_world)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConformanceTarget:
    """One connector under test, its emulator and what the emulator's world should yield.

    ``expected_grades(world, student, period)`` gives the :data:`GradeKey` of each grade;
    ``lockout`` is the login and how many wrong passwords lock it; ``sign_in_requests`` are
    the stats keys (``"POST /login"``) counting one sign-in.
    """

    name: str
    connector: type[Connector]
    emulator: Callable[[World], WSGIApp]
    credentials: Credentials
    wrong_password: str
    students: tuple[str, ...]
    expected_grades: Callable[[World, Student, Period], Iterable[GradeKey]]
    sign_in_requests: frozenset[str]
    settings: Mapping[str, t.Any] = dataclasses.field(default_factory=dict)
    second_factor_code: str | None = None
    lockout: tuple[Credentials, int] | None = None
    admin_url: str | None = None  # the fault admin's base URL; None: the served emulator's
    faults_path: str = "/__admin/faults"
    stats_path: str = "/__admin/stats"
    stats_reset_path: str = "/__admin/stats/reset"
    retry_after: float = 30.0  # the Retry-After of the emulator's 429 fault
    fast_timeout: tuple[str, float] = ("read_timeout", 0.5)  # a setting well under SLOW_MS
    today: dt.date = dt.date(2026, 9, 16)
    seed: int = 2026


class Drift:
    """Serve an app as it is or, while ``on``, with every key of its 2xx JSON bodies renamed."""

    def __init__(self, app: WSGIApp) -> None:
        """Wrap ``app``, not drifting yet."""
        self.app, self.on = app, False

    def __call__(self, environ: dict[str, t.Any], start: Callable[..., t.Any]) -> Iterable[bytes]:
        """Answer one request."""
        if not self.on:
            return self.app(environ, start)
        head: list[t.Any] = []
        result = self.app(environ, lambda status, headers, *_: head.extend((status, headers)))
        body = b"".join(result)
        getattr(result, "close", lambda: None)()
        status, headers = head
        kind = next((v for k, v in headers if k.lower() == "content-type"), "")
        if status.startswith("2") and "json" in kind:
            with contextlib.suppress(ValueError):
                drifted = json.loads(
                    body, object_pairs_hook=lambda kv: {f"{k}_v2": v for k, v in kv}
                )
                body = json.dumps(drifted, ensure_ascii=False).encode()
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]


@dataclasses.dataclass
class Bench:
    """A served emulator, its world and a connector pointed at it, for one check."""

    target: ConformanceTarget
    world: World
    url: str
    connector: Connector
    drift: Drift
    month: Period  # the whole school month the world holds

    def admin(self, method: str, path: str, **kw: t.Any) -> t.Any:
        """Call the fault admin at ``path`` and return its JSON."""
        root = (self.target.admin_url or self.url).rstrip("/")
        reply = requests.request(method, root + path, timeout=(3.05, 10), **kw)
        reply.raise_for_status()
        return reply.json()

    def fault(self, **changes: t.Any) -> None:
        """Change the emulator's faults; with no changes, remove them all."""
        method, body = ("POST", changes) if changes else ("DELETE", None)
        self.admin(method, self.target.faults_path, json=body)

    def build(self, **settings: t.Any) -> Connector:
        """Return another connector on the emulator, with some settings overridden."""
        return self.target.connector.from_settings(self.url, {**self.target.settings, **settings})

    def sign_in(self, connector: Connector | None = None) -> BackendSession:
        """Log in with the target's credentials, giving the second-factor code when asked."""
        connector = connector or self.connector
        try:
            return connector.login(self.target.credentials)
        except errors.SecondFactorRequired as asked:
            code = self.target.second_factor_code
            if code is None or not isinstance(connector, base.ConfirmsSecondFactor):
                raise
            return connector.confirm_second_factor(asked.challenge, code)

    def child(self, session: BackendSession) -> Student:
        """Return the first expected student as the connector lists it."""
        listed = {s.full_name: s for s in self.connector.students(session)}
        return listed[self.target.students[0]]

    def fetch(self, section: Section, session: BackendSession, period: Period) -> list[t.Any]:
        """Fetch one section of the first expected student."""
        fetch = getattr(self.connector, f"fetch_{section.value}")
        return t.cast(list[t.Any], fetch(session, self.child(session).id, period))

    def grades_match(self, session: BackendSession, period: Period) -> int:
        """Assert that a period's grades are exactly what the target expects; count them."""
        student = self.child(session)
        wanted = sorted(self.target.expected_grades(self.world, student, period), key=repr)
        grades = self.connector.fetch_grades(session, student.id, period)
        found = sorted(((g.id, g.value, g.numeric, g.weight) for g in grades), key=repr)
        assert found == wanted, f"{period}: differ by {set(found) ^ set(wanted)}"
        return len(found)

    def clean(self, text: str) -> None:
        """Assert that a text names neither the login, a password nor a child."""
        creds = self.target.credentials
        names = [*self.target.students, *(s.full_name for s in self.world.students)]
        for secret in (creds.login, creds.password, self.target.wrong_password, *names):
            at = max(0, text.find(secret) - 200)
            assert secret not in text, f"{secret!r} in {text[at : at + 300]!r}"


@contextlib.contextmanager
def bench(target: ConformanceTarget, world: World | None = None) -> Iterator[Bench]:
    """Serve a fresh emulator of ``target`` for one check; clear its faults afterwards."""
    world = world or _world(today=target.today, seed=target.seed)
    app = Drift(target.emulator(world))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        month = Period(start=world.first_day, end=world.last_day)
        served = Bench(
            target, world, url, target.connector.from_settings(url, target.settings), app, month
        )
        yield served
        app.on = False
        served.fault()
    finally:
        server.shutdown()  # returns once the serving thread has left its loop
        server.server_close()


def periods(world: World) -> dict[str, Period]:
    """Return last Sunday, a week far ahead, Friday to Wednesday and across 1 September."""
    friday = world.today - dt.timedelta(days=world.today.weekday() + 3)
    sep1 = dt.date(world.today.year - (world.today.month < 9), 9, 1)
    future = world.last_day + dt.timedelta(days=57)  # the world ends on a Sunday
    spans = {"sunday": (friday + dt.timedelta(days=2), 1), "far_future": (future, 7)}
    spans |= {"week": (friday, 6), "school_year": (sep1 - dt.timedelta(days=5), 10)}
    return {k: Period(start=d, end=d + dt.timedelta(days=n - 1)) for k, (d, n) in spans.items()}


@contextlib.contextmanager
def _captured() -> Iterator[io.StringIO]:
    """Collect every log record (tracebacks included) but the test server's, from DEBUG up."""
    text, root = io.StringIO(), logging.getLogger()
    handler, level = logging.StreamHandler(text), root.level
    handler.addFilter(lambda record: not record.name.startswith("werkzeug"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield text
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def check_sign_in(served: Bench) -> None:
    """Sign in with good credentials (and the code, when asked) to a session of this connector."""
    session = served.sign_in()
    assert isinstance(session, BackendSession) and session.connector == served.target.connector.name


def check_wrong_password(served: Bench) -> None:
    """A wrong password is InvalidCredentials, with no personal data in the message."""
    creds = dataclasses.replace(served.target.credentials, password=served.target.wrong_password)
    try:
        served.connector.login(creds)
        raise AssertionError("a wrong password was accepted")
    except errors.InvalidCredentials as err:
        served.clean(str(err))


def check_account_locked(served: Bench) -> None:
    """Enough wrong passwords lock the account; even the right one is then AccountLocked."""
    if served.target.lockout is None:
        raise unittest.SkipTest("the target declares no lockout recipe")
    creds, attempts = served.target.lockout
    wrong = dataclasses.replace(creds, password=served.target.wrong_password)
    for _ in range(attempts):
        with contextlib.suppress(errors.InvalidCredentials, errors.AccountLocked):
            served.connector.login(wrong)
            raise AssertionError("a wrong password was accepted")
    try:
        served.connector.login(creds)
        raise AssertionError("the locked account signed in")
    except errors.AccountLocked as err:
        served.clean(str(err))


def check_students(served: Bench) -> None:
    """The login lists exactly the expected children, each with a distinct id."""
    students = served.connector.students(served.sign_in())
    assert sorted(s.full_name for s in students) == sorted(served.target.students)
    assert all(s.id for s in students) and len({s.id for s in students}) == len(students)


def check_sections(served: Bench) -> None:
    """Every section the instance offers returns its record type over the school month."""
    session, offered = served.sign_in(), base.sections_of(served.connector)
    assert offered and offered <= served.target.connector.sections
    for section in sorted(offered):
        records = served.fetch(section, session, served.month)
        assert isinstance(records, list) and records, f"{section}: nothing in a school month"
        wrong = [r for r in records if not isinstance(r, RECORD_OF[section])]
        assert not wrong, f"{section}: {type(wrong[0]).__name__} records"


def check_grades_match_world(served: Bench) -> None:
    """The grades of the school month are exactly the world's marks."""
    assert served.grades_match(served.sign_in(), served.month), "no marks: pick another child"


def check_empty_periods(served: Bench) -> None:
    """A Sunday and a far-future week give empty lists (a rating, a snapshot, aside)."""
    session = served.sign_in()
    for name in ("sunday", "far_future"):
        period = periods(served.world)[name]
        for section in sorted(base.sections_of(served.connector) - {Section.RATING}):
            records = served.fetch(section, session, period)
            assert records == [], f"{name} {section}: {records[:3]}"


def check_boundary_periods(served: Bench) -> None:
    """Periods across weeks, months and school years work, with records in range only."""
    session = served.sign_in()
    for name in ("week", "school_year"):
        period = periods(served.world)[name]
        for section in sorted(base.sections_of(served.connector)):
            for record in served.fetch(section, session, period):
                day = next(getattr(record, n) for n in DATED if hasattr(record, n))
                day = day.date() if isinstance(day, dt.datetime) else day
                assert day is None or period.start <= day <= period.end, (name, record)
        served.grades_match(session, period)


def check_lesson_changes(served: Bench) -> None:
    """The coming week shows the world's replaced and cancelled lessons as declared, no more."""
    if Section.SCHEDULE not in base.sections_of(served.connector):
        raise unittest.SkipTest("the instance offers no schedule")
    session = served.sign_in()
    today = served.world.today
    week = Period(start=today + dt.timedelta(days=1), end=today + dt.timedelta(days=7))
    lessons = served.connector.fetch_schedule(session, served.child(session).id, week)
    shown = {x.status for x in lessons} - {LessonStatus.PLANNED}
    declared = base.lesson_changes_of(served.connector)
    assert shown <= declared, f"undeclared changes: {sorted(shown - declared)}"
    # The world has one replaced and one cancelled lesson in every child's coming week.
    missing = declared & {LessonStatus.REPLACED, LessonStatus.CANCELLED} - shown
    assert not missing, f"declared but not shown: {sorted(missing)}"


def _fault_check(name: str, error: type[errors.ConnectorError], **fault: t.Any) -> Check:
    """Return a check that a fetch under ``fault`` raises exactly ``error``."""

    def check(served: Bench) -> None:
        """Fetch under the fault, then sign in under it: the error class must be right."""
        session = served.sign_in()
        student, fast = served.child(session), served.build(**dict([served.target.fast_timeout]))
        served.fault(**fault)
        try:
            fast.fetch_grades(session, student.id, served.month)
            raise AssertionError(f"no error under the fault {fault}")
        except errors.ConnectorError as err:
            assert type(err) is error, f"{err!r} under the fault {fault}"
            served.clean(str(err))
            if isinstance(err, errors.RateLimited):
                assert err.retry_after == served.target.retry_after
        try:  # the same fault at sign-in must never look like a wrong password (relink)
            served.sign_in(fast)
            raise AssertionError(f"signed in despite the fault {fault}")
        except errors.ConnectorError as err:
            assert not isinstance(err, errors.InvalidCredentials), f"sign-in: {err!r}"
            served.clean(str(err))
        served.fault()

    check.__name__ = check.__qualname__ = f"check_{name}"
    return check


_DOWN, _ODD = errors.BackendUnavailable, errors.UnexpectedResponse
check_timeout = _fault_check("timeout", _DOWN, latency_ms=SLOW_MS)
check_server_error = _fault_check("server_error", _DOWN, mode="5xx")
check_maintenance = _fault_check("maintenance", _DOWN, mode="maintenance")
check_maintenance_200 = _fault_check(
    "maintenance_200", _DOWN, mode="maintenance", maintenance_status=200
)
check_malformed_json = _fault_check("malformed_json", _ODD, mode="malformed_json")
check_rate_limited = _fault_check("rate_limited", errors.RateLimited, mode="429")


def check_session_expiry(served: Bench) -> None:
    """An ended session is SessionExpired; one re-login (no SMS) with it as previous heals it."""
    session = served.sign_in()
    student, month = served.child(session), served.month
    before = served.connector.fetch_grades(session, student.id, month)
    served.fault(expire_sessions=True)
    try:
        served.connector.fetch_grades(session, student.id, month)
        raise AssertionError("a fetch on an ended session succeeded")
    except errors.SessionExpired as err:
        served.clean(str(err))
    served.admin("POST", served.target.stats_reset_path)
    renewed = served.connector.login(served.target.credentials, previous=session)
    assert served.connector.fetch_grades(renewed, student.id, month) == before
    stats = served.admin("GET", served.target.stats_path)
    assert sum(stats.get(k, 0) for k in served.target.sign_in_requests) == 1, stats


def check_schema_drift(served: Bench) -> None:
    """Renamed fields are UnexpectedResponse; nothing logged names the parent or a child."""
    session = served.sign_in()
    student, month = served.child(session), served.month
    assert list(served.target.expected_grades(served.world, student, month)), "no marks"
    with _captured() as logged:
        served.drift.on = True
        try:
            served.connector.fetch_grades(session, student.id, month)
            raise AssertionError("drifted answers were accepted")
        except errors.UnexpectedResponse as err:
            served.clean(str(err))
        finally:
            served.drift.on = False
    served.clean(logged.getvalue())


def check_session_round_trip(served: Bench) -> None:
    """A session restored from JSON serves the same fetch, from another connector object."""
    session = served.sign_in()
    student, month = served.child(session), served.month
    restored = BackendSession.from_json(session.to_json())
    assert restored == dataclasses.replace(session, data=json.loads(json.dumps(session.data)))
    again = served.build().fetch_grades(restored, student.id, month)
    assert again == served.connector.fetch_grades(session, student.id, month)


def check_rejects_non_http_base_url(served: Bench) -> None:
    """from_settings refuses a base URL that is not http(s) with ValueError."""
    for bad in ("ftp://diary.example.org", "diary.example.org", "file:///etc/passwd"):
        with contextlib.suppress(ValueError):
            served.target.connector.from_settings(bad, served.target.settings)
            raise AssertionError(f"{bad!r} was accepted as a base URL")


CHECKS: tuple[Check, ...] = tuple(v for k, v in list(globals().items()) if k.startswith("check_"))
