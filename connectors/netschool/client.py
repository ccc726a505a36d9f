"""The NetSchool wire: URLs, the salted sign-in handshake, and one table of failures.

:class:`NetSchoolClient` is what the connector talks to: every path of the web, mobile and
identity APIs is spelled here. A :class:`Wire` carries one parent's HTTP state (the ``at``
token and the cookie jar) for one operation over a shared, injected ``requests.Session``.
The shared session never keeps cookies (see :func:`forget_cookies`), so concurrent parents
cannot see each other's jar.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import http.cookiejar
import threading
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import requests

from connectors import clock
from connectors.errors import AccessDenied
from connectors.errors import AccountLocked
from connectors.errors import BackendUnavailable
from connectors.errors import ConnectorError
from connectors.errors import InvalidCredentials
from connectors.errors import RateLimited
from connectors.errors import SchoolNotFound
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
from connectors.netschool.schools import match_school
from connectors.netschool.schools import search_term
from connectors.netschool.settings import NetSchoolSettings
from connectors.reuse import shared
from connectors.schema import Period
from connectors.settings import DEFAULT_TIMEOUT
from connectors.settings import Timeout

DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
MOBILE_CLIENT_ID = "parent-mobile"


class Phase(enum.Enum):
    """Whether a call belongs to the sign-in handshake or reads data with a session."""

    LOGIN = "login"
    DATA = "data"


class Body(enum.Enum):
    """What was wrong with a 2xx body."""

    HTML = "html"
    NOT_JSON = "not-json"
    MISSING_KEY = "missing-key"


@dataclass(frozen=True, slots=True, kw_only=True)
class Trouble:
    """What went wrong with one call, as the failure table reads it."""

    phase: Phase
    status: int | None = None
    exception: BaseException | None = None
    body: Body | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the failure table: every field that is set must match."""

    error: type[ConnectorError]
    reason: str
    _: dataclasses.KW_ONLY
    statuses: range | frozenset[int] | None = None
    exception: type[BaseException] | None = None
    body: Body | None = None
    markers: tuple[str, ...] = ()
    phase: Phase | None = None

    def matches(self, trouble: Trouble) -> bool:
        """Tell whether this row describes ``trouble``."""
        checks = (
            self.statuses is None or trouble.status in self.statuses,
            self.exception is None or isinstance(trouble.exception, self.exception),
            self.body is None or trouble.body is self.body,
            not self.markers or any(m in trouble.text for m in self.markers),
            self.phase is None or trouble.phase is self.phase,
        )
        return all(checks)


LOCKED = ("неудачные попытки", "не ранее чем", "заблокир")
WRONG = ("парол", "логин", "имя пользователя")
DENIED = ("доступ запрещ", "нет прав", "отключен")
# A refused sign-in: 409 on current servers, 200 with a message and no ``at`` until 2021.
REFUSED = frozenset({200, 409})
LOGIN, DATA = Phase.LOGIN, Phase.DATA
HTML, NOT_JSON, MISSING = Body.HTML, Body.NOT_JSON, Body.MISSING_KEY
# The one table (note §1.6, §4): the first matching row wins, so the order matters.
FAILURES: tuple[Rule, ...] = (
    Rule(BackendUnavailable, "timed out", exception=requests.Timeout),
    Rule(BackendUnavailable, "unreachable", exception=requests.ConnectionError),
    Rule(BackendUnavailable, "transport failed", exception=requests.RequestException),
    Rule(RateLimited, "rate limited", statuses=frozenset({429})),
    Rule(AccountLocked, "account locked", statuses=REFUSED, markers=LOCKED),
    Rule(InvalidCredentials, "login or password refused", statuses=REFUSED, markers=WRONG),
    Rule(AccessDenied, "account may not sign in", statuses=REFUSED, markers=DENIED),
    Rule(BackendUnavailable, "sign-in failed on the server", statuses=REFUSED),
    Rule(SessionExpired, "session expired", statuses=frozenset({401}), phase=DATA),
    Rule(AccessDenied, "access denied", statuses=frozenset({403}), phase=DATA),
    Rule(BackendUnavailable, "server error", statuses=range(500, 600)),
    Rule(BackendUnavailable, "redirected", statuses=range(300, 400)),
    Rule(AccessDenied, "sign-in refused", statuses=range(400, 500), phase=LOGIN),
    Rule(UnexpectedResponse, "request refused", statuses=range(400, 500)),
    Rule(BackendUnavailable, "HTML page instead of JSON", body=HTML),
    # A 2019 server answered an expired session with 200 and the text «Ошибка доступа».
    Rule(SessionExpired, "session expired", body=NOT_JSON, markers=("ошибка доступа",)),
    Rule(BackendUnavailable, "sign-in answer is not JSON", body=NOT_JSON, phase=LOGIN),
    Rule(UnexpectedResponse, "answer is not JSON", body=NOT_JSON),
    Rule(BackendUnavailable, "sign-in data incomplete", body=MISSING, phase=LOGIN),
    Rule(UnexpectedResponse, "answer lacks expected fields", body=MISSING),
)


def failure(trouble: Trouble, what: str, *, retry_after: float | None = None) -> ConnectorError:
    """Return the taxonomy error for ``trouble``; ``what`` names the call, never a person."""
    rule = next((r for r in FAILURES if r.matches(trouble)), None)
    status = f" (HTTP {trouble.status})" if trouble.status else ""
    if rule is None:
        return UnexpectedResponse(f"NetSchool {what}: unexpected answer{status}")
    message = f"NetSchool {what}: {rule.reason}{status}"
    if rule.error is RateLimited:
        return RateLimited(message, retry_after=retry_after)
    return rule.error(message)


def password_hashes(password: str, salt: str) -> tuple[str, str]:
    """Return ``(pw, pw2)``: pw2 = md5(salt + md5(cp1251 password)), pw its first N chars."""
    inner = hashlib.md5(password.encode("cp1251")).hexdigest()
    pw2 = hashlib.md5((salt + inner).encode("ascii")).hexdigest()
    return pw2[: len(password)], pw2


class _RefuseAll(http.cookiejar.DefaultCookiePolicy):
    """A cookie policy that stores nothing."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: t.Any) -> bool:
        """Refuse every cookie."""
        return False


def forget_cookies(session: requests.Session) -> requests.Session:
    """Stop a shared session from keeping cookies; each :class:`Wire` keeps its own jar."""
    session.cookies.clear()
    session.cookies.set_policy(_RefuseAll())
    return session


def _text(response: requests.Response) -> str:
    """Return the start of a body as lower-case text."""
    # Russian servers send UTF-8 even when ``Content-Type`` names no charset.
    return response.content[:2000].decode("utf-8", "replace").casefold()


def _message(response: requests.Response) -> str:
    """Return the server's ``message`` (or the body text) in lower case."""
    try:
        payload = response.json()
    except ValueError:
        return _text(response)
    if isinstance(payload, dict):
        return str(payload.get("message") or payload.get("errorMessage") or "").casefold()
    return ""


def decode(response: requests.Response, what: str, phase: Phase) -> t.Any:
    """Return a response's JSON, or raise the error the failure table gives."""
    if 300 <= response.status_code < 400:
        raise failure(Trouble(phase=phase, status=response.status_code), what)
    try:
        response.raise_for_status()
    except requests.HTTPError as err:
        trouble = Trouble(phase=phase, status=response.status_code, text=_message(response))
        raise failure(trouble, what, retry_after=clock.retry_after(response)) from err
    if "text/html" in response.headers.get("Content-Type", ""):
        raise failure(Trouble(phase=phase, body=Body.HTML), what)
    try:
        return response.json()
    except ValueError as err:
        trouble = Trouble(phase=phase, body=Body.NOT_JSON, text=_text(response))
        raise failure(trouble, what) from err


def require(payload: t.Any, keys: tuple[str, ...], what: str, phase: Phase) -> list[t.Any]:
    """Return the values of required keys of a JSON object, or raise the table's error."""
    try:
        return [payload[key] for key in keys]
    except (KeyError, TypeError, IndexError) as err:
        raise failure(Trouble(phase=phase, body=Body.MISSING_KEY), what) from err


class Wire:
    """One parent's HTTP state over a shared session: base URL, ``at`` and cookies.

    A fetch may send several calls of one wire at once: the cookie jar is read and updated
    under a lock.
    """

    def __init__(
        self,
        http: requests.Session,
        base_url: str,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        at: str | None = None,
        cookies: Mapping[str, str] | None = None,
    ) -> None:
        """Start from a stored session's ``at`` and cookies, or from nothing."""
        self._http = http
        self.base_url = base_url
        self.timeout = timeout
        self.at = at
        self.cookies: dict[str, str] = dict(cookies or {})
        self._lock = threading.Lock()

    def call(self, method: str, path: str, *, phase: Phase = Phase.DATA, **kw: t.Any) -> t.Any:
        """Call ``/webapi/<path>`` with this parent's ``at`` and cookies; return its JSON."""
        headers = {"at": self.at} if self.at else {}
        url = f"{self.base_url}/webapi/{path}"
        what = path.split("?")[0]
        with self._lock:
            cookies = dict(self.cookies)
        try:
            response = self._http.request(
                method,
                url,
                headers=headers,
                cookies=cookies,
                timeout=self.timeout,
                allow_redirects=False,
                **kw,
            )
        except requests.RequestException as err:
            raise failure(Trouble(phase=phase, exception=err), what) from err
        fresh = {k: v for k, v in response.cookies.get_dict().items() if v is not None}
        with self._lock:
            self.cookies.update(fresh)
        return decode(response, what, phase)

    def outside(self, method: str, url: str, what: str, **kw: t.Any) -> t.Any:
        """Call a URL outside the web API (mobile API, identity) without ``at`` or cookies."""
        try:
            response = self._http.request(
                method, url, timeout=self.timeout, allow_redirects=False, **kw
            )
        except requests.RequestException as err:
            raise failure(Trouble(phase=Phase.DATA, exception=err), what) from err
        return decode(response, what, Phase.DATA)


def _search(wire: Wire, name: str) -> list[Mapping[str, t.Any]]:
    found = wire.call("GET", "schools/search", phase=Phase.LOGIN, params={"name": name})
    if not isinstance(found, list):
        raise failure(Trouble(phase=Phase.LOGIN, body=Body.MISSING_KEY), "schools/search")
    return found


def find_school(wire: Wire, name: str) -> int:
    """Look the school up by name (``schools/search`` needs no session) and return its id.

    The directory searches by substring, so «Лицей №3» finds nothing there; then it is asked
    once more by one word of the name, and the words decide.
    """
    if not name.strip():
        raise SchoolNotFound("NetSchool: the school is required to sign in")
    found = _search(wire, name.strip())
    if not found and (term := search_term(name)) is not None:
        found = _search(wire, term)
    return match_school(found, name)


def sign_in(wire: Wire, login: str, password: str, school_id: int) -> Mapping[str, t.Any]:
    """Run logindata, auth/getdata and login (note §1.1); set ``wire.at``; return the answer."""
    wire.call("GET", "logindata", phase=Phase.LOGIN)
    data = wire.call("POST", "auth/getdata", phase=Phase.LOGIN)
    lt, ver, salt = require(data, ("lt", "ver", "salt"), "auth/getdata", Phase.LOGIN)
    pw, pw2 = password_hashes(password, str(salt))
    form = {
        "loginType": "1",
        "scid": str(school_id),
        "un": login,
        "pw": pw,
        "pw2": pw2,
        "lt": str(lt),
        "ver": str(ver),
    }
    answer = wire.call("POST", "login", phase=Phase.LOGIN, data=form)
    if not isinstance(answer, dict):
        raise failure(Trouble(phase=Phase.LOGIN, body=Body.MISSING_KEY), "login")
    if not answer.get("at"):
        text = str(answer.get("errorMessage") or answer.get("message") or "").casefold()
        raise failure(Trouble(phase=Phase.LOGIN, status=200, text=text), "login")
    wire.at = str(answer["at"])
    return answer


def mobile_token(wire: Wire, *, identity_url: str, client_secret: str, app_version: str) -> str:
    """Trade the web session's pincode for a mobile bearer token (note §1.10)."""
    code = wire.call("GET", "mysettings/mobile/pincode")
    (user_code,) = require(code, ("userCode",), "mysettings/mobile/pincode", Phase.DATA)
    form = {
        "grant_type": DEVICE_CODE,
        "device_code": str(user_code),
        "client_id": MOBILE_CLIENT_ID,
        "client_secret": client_secret,
        "appVersion": app_version,
    }
    token = wire.outside("POST", f"{identity_url}/connect/token", "connect/token", data=form)
    (access,) = require(token, ("access_token",), "connect/token", Phase.DATA)
    return str(access)


def class_meetings(
    wire: Wire, token: str, student_id: str, start: dt.date, end: dt.date, app_version: str
) -> list[Mapping[str, t.Any]]:
    """Return the mobile API's lessons of a student, with attendance codes and teachers."""
    what = "api/mobile/classmeetings"
    params = {
        "studentIds": student_id,
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "lng": "ru",
        "appVersion": app_version,
    }
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{wire.base_url}/{what}"
    rv = wire.outside("GET", url, what, params=params, headers=headers)
    if not isinstance(rv, list):
        raise failure(Trouble(phase=Phase.DATA, body=Body.MISSING_KEY), what)
    return rv


class NetSchoolClient:
    """Speak one NetSchool server's web and mobile API for every parent of an instance.

    The client keeps no parent's state: each operation starts a :class:`Wire` from what a
    stored session holds, over the one shared session, which never keeps cookies.
    """

    def __init__(self, http: requests.Session, settings: NetSchoolSettings) -> None:
        """Bind the shared session and the instance's settings; stop the session's cookies."""
        self._http = forget_cookies(http)
        self.settings = settings

    def wire(self, *, at: str | None = None, cookies: Mapping[str, str] | None = None) -> Wire:
        """Return one parent's wire to the server, from a stored ``at`` and cookies or none."""
        return Wire(
            self._http,
            self.settings.base_url,
            timeout=self.settings.timeout,
            at=at,
            cookies=cookies,
        )

    def find_school(self, wire: Wire, name: str) -> int:
        """Return the id of the school a parent named (see :func:`find_school`)."""
        return find_school(wire, name)

    def sign_in(self, wire: Wire, login: str, password: str, school_id: int) -> Mapping[str, t.Any]:
        """Sign in on the wire and return the login answer (see :func:`sign_in`)."""
        return sign_in(wire, login, password, school_id)

    def current_year(self, wire: Wire) -> t.Any:
        """Return the id of the current school year, as the server gives it."""
        year = wire.call("GET", "years/current")
        (year_id,) = require(year, ("id",), "years/current", Phase.DATA)
        return year_id

    def work_types(self, wire: Wire) -> t.Any:
        """Return every assignment type (its id and name) the server knows."""
        return wire.call("GET", "grade/assignment/types", params={"all": "true"})

    def diary_init(self, wire: Wire) -> t.Any:
        """Return ``student/diary/init``: the account's children and the current week."""
        return wire.call("GET", "student/diary/init")

    def diary(
        self, wire: Wire, student_id: str, period: Period, year_id: t.Any
    ) -> Mapping[str, t.Any]:
        """Fetch the whole period in one call: the server accepts long ranges (note §4)."""
        params = {
            "studentId": student_id,
            "weekStart": period.start.isoformat(),
            "weekEnd": period.end.isoformat(),
            "yearId": year_id,
        }
        key = ("netschool", wire.base_url, wire.at, "student/diary", *params.items())
        diary = shared(key, partial(wire.call, "GET", "student/diary", params=params))
        if not isinstance(diary, dict):
            raise UnexpectedResponse("NetSchool student/diary: unexpected shape")
        # The server always echoes the week (note §2.4); weekDays may be absent for holidays.
        require(diary, ("weekStart", "weekEnd"), "student/diary", Phase.DATA)
        return diary

    def assignment_weight(self, wire: Wire, student_id: str, assignment_id: int) -> float | None:
        """Return the real weight of a mark from its assignment card (note §2.6), if any."""
        path = f"student/diary/assigns/{assignment_id}"
        card = wire.call("GET", path, params={"studentId": student_id})
        (weight,) = require(card, ("weight",), "student/diary/assigns", Phase.DATA)
        return float(weight) if isinstance(weight, int | float) and weight > 0 else None

    def mobile_token(self, wire: Wire) -> str:
        """Trade the wire's web session for a mobile bearer token (see :func:`mobile_token`)."""
        return mobile_token(
            wire,
            identity_url=self.settings.identity_url,
            client_secret=self.settings.mobile_client_secret or "",
            app_version=self.settings.app_version,
        )

    def class_meetings(
        self, wire: Wire, token: str, student_id: str, period: Period
    ) -> list[Mapping[str, t.Any]]:
        """Return a student's lessons of a period, attendance and teachers included."""
        key = ("netschool", wire.base_url, token, "classmeetings", student_id, period)
        return shared(
            key,
            partial(
                class_meetings,
                wire,
                token,
                student_id,
                period.start,
                period.end,
                self.settings.app_version,
            ),
        )

    def outside(self, method: str, path: str, what: str, **kw: t.Any) -> t.Any:
        """Call a path of the server outside the web API, with no parent's state."""
        return self.wire().outside(method, f"{self.settings.base_url}{path}", what, **kw)
