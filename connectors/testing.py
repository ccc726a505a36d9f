"""Check that a connector keeps the connector contract, against its backend over real HTTP.

The kit stands alone: it knows no emulator. Describe the connector with a
:class:`ConformanceTarget` and give it two small things about the backend it talks to:

- an :class:`Oracle`, what the backend holds (its day, the children the login lists, every
  grade), from a world the emulator serves, recorded fixtures or a vendor sandbox's data;
- a :class:`Faults`, how to inject a fault and count requests; :class:`AdminFaults`, the
  default, speaks the ``/__admin/faults`` HTTP contract; ``faults=None`` skips the checks
  that need faults.

The backend is either an ``emulator`` the kit serves (a WSGI app built from the oracle) or a
``base_url`` already running. Run each of :data:`CHECKS` on a fresh :class:`Bench` from
:func:`bench`::

    @pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
    def test_my_connector_conforms(check):
        with bench(MY_TARGET) as served:
            check(served)

A check fails with ``AssertionError`` (or the connector's error), skips with ``SkipTest``.
Schema drift is the kit's own (``responses`` would need each connector's URLs; truncated JSON
has its own check): for a served emulator, a WSGI middleware renames every key of 2xx JSON
bodies (``"marks"`` to ``"marks_v2"``), and no log record but the test server's may then name
the login, the password or a child.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import logging
import threading
import typing as t
import unittest
from collections.abc import Callable
from collections.abc import Collection
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

WSGIApp = Callable[[dict[str, t.Any], Callable[..., t.Any]], Iterable[bytes]]
Check = Callable[["Bench"], None]
GradeKey = tuple[str, str, float | None, float | None]  # id, value as shown, numeric, weight
DATED = ("date", "due_on", "starts_at", "sent_at", "as_of")  # a record's day, by type
SLOW_MS = 1500  # the latency injected to trip a connector's read timeout


class Oracle(t.Protocol):
    """What the backend holds for the target's login: the truth the checks compare with.

    ``month`` is a span of school days the backend has records in, ``today`` the backend's day
    (its coming week must hold a replaced and a cancelled lesson when the connector declares
    them); ``students`` are the children's full names as the connector lists them;
    ``private_names`` every personal name the backend holds, none of which may reach an error
    or a log line; ``sign_in_requests`` the request keys (``"POST /login"``) one sign-in counts.
    """

    @property
    def today(self) -> dt.date: ...

    @property
    def month(self) -> Period: ...

    @property
    def students(self) -> tuple[str, ...]: ...

    @property
    def private_names(self) -> Collection[str]: ...

    @property
    def sign_in_requests(self) -> frozenset[str]: ...

    def expected_grades(self, student: Student, period: Period) -> Iterable[GradeKey]:
        """Return the :data:`GradeKey` of each grade ``student`` has in ``period``."""
        ...


class Faults(t.Protocol):
    """Break the backend on purpose, and count the requests it answered.

    ``set`` takes the faults the checks inject: ``latency_ms`` (int), ``mode`` (``"5xx"``,
    ``"maintenance"``, ``"malformed_json"``, ``"429"``), ``maintenance_status`` (the status of
    the maintenance page) and ``expire_sessions=True`` (end every session now). ``stats`` maps
    a request key (``"POST /login"``) to how many such requests the backend has answered.
    """

    def set(self, **changes: t.Any) -> None:
        """Apply some faults, keeping the others."""
        ...

    def clear(self) -> None:
        """Remove every fault."""
        ...

    def stats(self) -> Mapping[str, int]:
        """Return the request counts so far."""
        ...


OracleT = t.TypeVar("OracleT", bound=Oracle)


@dataclasses.dataclass(frozen=True)
class AdminFaults:
    """The default :class:`Faults`: an emulator's fault admin over HTTP.

    ``POST {faults_path}`` with a JSON object sets faults, ``DELETE`` clears them, and
    ``GET {stats_path}`` returns the counts as a JSON object; the admin's own requests are not
    counted. ``regional_mock``'s emulators serve this contract at ``/__admin``.
    """

    url: str
    faults_path: str = "/__admin/faults"
    stats_path: str = "/__admin/stats"

    def set(self, **changes: t.Any) -> None:
        """Apply some faults, keeping the others."""
        self._call("POST", self.faults_path, json=changes)

    def clear(self) -> None:
        """Remove every fault."""
        self._call("DELETE", self.faults_path)

    def stats(self) -> Mapping[str, int]:
        """Return the request counts so far."""
        return t.cast(Mapping[str, int], self._call("GET", self.stats_path))

    def _call(self, method: str, path: str, **kw: t.Any) -> t.Any:
        """Call the admin at ``path`` and return its JSON."""
        reply = requests.request(method, self.url.rstrip("/") + path, timeout=(3.05, 10), **kw)
        reply.raise_for_status()
        return reply.json()


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConformanceTarget(t.Generic[OracleT]):
    """One connector under test, its backend and what that backend should yield.

    ``oracle`` gives a fresh :class:`Oracle` for each bench. The backend is an ``emulator``
    (a WSGI app built from that oracle, served by the kit) or a running ``base_url``, never
    both. ``faults`` makes a :class:`Faults` for the backend's URL; ``None`` skips the fault
    checks. ``lockout`` is the login and how many wrong passwords lock it.
    """

    name: str
    connector: type[Connector]
    oracle: Callable[[], OracleT]
    credentials: Credentials
    wrong_password: str
    emulator: Callable[[OracleT], WSGIApp] | None = None
    base_url: str | None = None
    faults: Callable[[str], Faults] | None = AdminFaults
    settings: Mapping[str, t.Any] = dataclasses.field(default_factory=dict)
    second_factor_code: str | None = None
    lockout: tuple[Credentials, int] | None = None
    retry_after: float = 30.0  # the Retry-After of the backend's 429 fault
    fast_timeout: tuple[str, float] = ("read_timeout", 0.5)  # a setting well under SLOW_MS

    def __post_init__(self) -> None:
        """Refuse a target with no backend or two."""
        if (self.emulator is None) == (self.base_url is None):
            raise ValueError(f"{self.name}: give exactly one of emulator and base_url")


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
    """A backend, what it holds and a connector pointed at it, for one check.

    ``drift`` is ``None`` when the kit does not serve the backend, ``faults`` when the target
    takes none; the checks that need them skip.
    """

    target: ConformanceTarget[t.Any]
    oracle: Oracle
    url: str
    connector: Connector
    drift: Drift | None
    faults: Faults | None

    @property
    def month(self) -> Period:
        """The school days the backend has records in."""
        return self.oracle.month

    def injector(self) -> Faults:
        """Return the backend's faults, or skip the check when the target takes none."""
        if self.faults is None:
            raise unittest.SkipTest("the target takes no faults")
        return self.faults

    def build(self, **settings: t.Any) -> Connector:
        """Return another connector on the backend, with some settings overridden."""
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
        return listed[self.oracle.students[0]]

    def fetch(self, section: Section, session: BackendSession, period: Period) -> list[t.Any]:
        """Fetch one section of the first expected student."""
        fetch = base.fetch_of(self.connector, section)
        return list(fetch(session, self.child(session).id, period))

    def grades_match(self, session: BackendSession, period: Period) -> int:
        """Assert that a period's grades are exactly what the oracle expects; count them."""
        student = self.child(session)
        wanted = sorted(self.oracle.expected_grades(student, period), key=repr)
        grades = self.connector.fetch_grades(session, student.id, period)
        found = sorted(((g.id, g.value, g.numeric, g.weight) for g in grades), key=repr)
        assert found == wanted, f"{period}: differ by {set(found) ^ set(wanted)}"
        return len(found)

    def clean(self, text: str) -> None:
        """Assert that a text names neither the login, a password nor a child."""
        creds = self.target.credentials
        names = [*self.oracle.students, *self.oracle.private_names]
        for secret in (creds.login, creds.password, self.target.wrong_password, *names):
            at = max(0, text.find(secret) - 200)
            assert secret not in text, f"{secret!r} in {text[at : at + 300]!r}"


@contextlib.contextmanager
def bench(target: ConformanceTarget[OracleT]) -> Iterator[Bench]:
    """Give one check a fresh oracle and backend (served, when an emulator); clear its faults."""
    oracle = target.oracle()
    with _backend(target, oracle) as (url, drift):
        faults = target.faults(url) if target.faults is not None else None
        connector = target.connector.from_settings(url, target.settings)
        yield Bench(target, oracle, url, connector, drift, faults)
        if drift is not None:
            drift.on = False
        if faults is not None:
            faults.clear()


@contextlib.contextmanager
def _backend(
    target: ConformanceTarget[OracleT], oracle: OracleT
) -> Iterator[tuple[str, Drift | None]]:
    """Serve the target's emulator on a free port, or point at its running backend."""
    if target.emulator is None:
        yield t.cast(str, target.base_url), None
        return
    app = Drift(target.emulator(oracle))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()  # returns once the serving thread has left its loop
        server.server_close()


def periods(oracle: Oracle) -> dict[str, Period]:
    """Return last Sunday, a week far ahead, Friday to Wednesday and across 1 September."""
    today = oracle.today
    friday = today - dt.timedelta(days=today.weekday() + 3)
    sep1 = dt.date(today.year - (today.month < 9), 9, 1)
    end = oracle.month.end
    future = end + dt.timedelta(days=63 - end.weekday())  # the first Monday over 8 weeks on
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
    assert sorted(s.full_name for s in students) == sorted(served.oracle.students)
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
    """The grades of the school month are exactly the oracle's."""
    assert served.grades_match(served.sign_in(), served.month), "no marks: pick another child"


def check_empty_periods(served: Bench) -> None:
    """A Sunday and a far-future week give empty lists (a rating, a snapshot, aside)."""
    session = served.sign_in()
    for name in ("sunday", "far_future"):
        period = periods(served.oracle)[name]
        for section in sorted(base.sections_of(served.connector) - {Section.RATING}):
            records = served.fetch(section, session, period)
            assert records == [], f"{name} {section}: {records[:3]}"


def check_boundary_periods(served: Bench) -> None:
    """Periods across weeks, months and school years work, with records in range only."""
    session = served.sign_in()
    for name in ("week", "school_year"):
        period = periods(served.oracle)[name]
        for section in sorted(base.sections_of(served.connector)):
            for record in served.fetch(section, session, period):
                day = next(getattr(record, n) for n in DATED if hasattr(record, n))
                day = day.date() if isinstance(day, dt.datetime) else day
                assert day is None or period.start <= day <= period.end, (name, record)
        served.grades_match(session, period)


def check_lesson_changes(served: Bench) -> None:
    """The coming week shows the backend's replaced and cancelled lessons as declared, no more."""
    if Section.SCHEDULE not in base.sections_of(served.connector):
        raise unittest.SkipTest("the instance offers no schedule")
    session = served.sign_in()
    today = served.oracle.today
    week = Period(start=today + dt.timedelta(days=1), end=today + dt.timedelta(days=7))
    lessons = served.connector.fetch_schedule(session, served.child(session).id, week)
    shown = {x.status for x in lessons} - {LessonStatus.PLANNED}
    declared = base.lesson_changes_of(served.connector)
    assert shown <= declared, f"undeclared changes: {sorted(shown - declared)}"
    # The backend must hold one replaced and one cancelled lesson in the child's coming week.
    missing = declared & {LessonStatus.REPLACED, LessonStatus.CANCELLED} - shown
    assert not missing, f"declared but not shown: {sorted(missing)}"


def _fault_check(name: str, error: type[errors.ConnectorError], **fault: t.Any) -> Check:
    """Return a check that a fetch under ``fault`` raises exactly ``error``."""

    def check(served: Bench) -> None:
        """Fetch under the fault, then sign in under it: the error class must be right."""
        faults = served.injector()
        session = served.sign_in()
        student, fast = served.child(session), served.build(**dict([served.target.fast_timeout]))
        faults.set(**fault)
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
        faults.clear()

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
    faults = served.injector()
    session = served.sign_in()
    student, month = served.child(session), served.month
    before = served.connector.fetch_grades(session, student.id, month)
    faults.set(expire_sessions=True)
    try:
        served.connector.fetch_grades(session, student.id, month)
        raise AssertionError("a fetch on an ended session succeeded")
    except errors.SessionExpired as err:
        served.clean(str(err))
    counted = faults.stats()
    renewed = served.connector.login(served.target.credentials, previous=session)
    assert served.connector.fetch_grades(renewed, student.id, month) == before
    stats = faults.stats()
    keys = served.oracle.sign_in_requests
    assert sum(stats.get(k, 0) - counted.get(k, 0) for k in keys) == 1, stats


def check_schema_drift(served: Bench) -> None:
    """Renamed fields are UnexpectedResponse; nothing logged names the parent or a child."""
    if (drift := served.drift) is None:
        raise unittest.SkipTest("the kit does not serve the backend, so it cannot drift it")
    session = served.sign_in()
    student, month = served.child(session), served.month
    assert list(served.oracle.expected_grades(student, month)), "no marks"
    with _captured() as logged:
        drift.on = True
        try:
            served.connector.fetch_grades(session, student.id, month)
            raise AssertionError("drifted answers were accepted")
        except errors.UnexpectedResponse as err:
            served.clean(str(err))
        finally:
            drift.on = False
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
