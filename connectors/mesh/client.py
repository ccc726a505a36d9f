"""The MESH wire: login.mos.ru sign-in (proof of work, SMS, device trust) and API calls."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import typing as t
import uuid
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import requests

from connectors import clock
from connectors.concurrency import gather
from connectors.errors import AccessDenied
from connectors.errors import AccountLocked
from connectors.errors import BackendUnavailable
from connectors.errors import ConnectorError
from connectors.errors import InvalidCredentials
from connectors.errors import RateLimited
from connectors.errors import SecondFactorRequired
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
from connectors.errors import reading
from connectors.reuse import shared
from connectors.schema import Period

log = logging.getLogger(__name__)

MESH = "MESH"
PROFILE = "/api/family/web/v1/profile"
HOMEWORKS = "/api/family/web/v1/homeworks"
CALENDAR = "/api/eventcalendar/v1/api/events"
ABSENCE_NOTICES = "/api/family/mobile/v1/attendance/"
CLASS_RANK = "/api/ej/rating/v1/rank/class"
# The event calendar's source types: the timetable, or meetings and school events.
LESSON_SOURCES = "PLAN"
EVENT_SOURCES = "EVENTS,AFISHA,ORGANIZER,OLYMPIAD,PROF"
ABSENCE_FIELDS = "absence_reason_id,nonattendance_reason_id,health_status"
# One calendar query serves the marks, the timetable, the absences and the events of a read
# (§2.4 a): each lesson carries its marks with the same fields as ``/marks``, less the date and
# subject the lesson gives.
CALENDAR_SOURCES = f"{LESSON_SOURCES},{EVENT_SOURCES}"
CALENDAR_EXPAND = f"marks,homework,{ABSENCE_FIELDS}"
# Range endpoints have no paging; clients ask a week to a month at a time (note §4.4).
RANGE_DAYS = 31
CLIENT_ID = "dnevnik.mos.ru"
SCOPE = "openid profile birthday contacts snils blitz_user_rights blitz_change_password"
CALLBACK_PATH = "/v3/auth/sudir/callback"
FLOW_COOKIE = "sps_session"
DEVICE_COOKIE = "mos_trusted_device"
CODE_LENGTH = 6
MAX_POW_BITS = 28
# «Предыдущая сессия работы в ЭЖД завершена…» (note §1.9) means an expired session.
SESSION_OVER = "сессия работы в ЭЖД завершена"

# The one table from backend signals to our taxonomy (STYLE §11): error codes of the headless
# login (note §1.9), HTTP statuses, body kinds, and exceptions (looked up along the MRO).
ERRORS: dict[t.Any, tuple[type[ConnectorError], str]] = {
    "invalid_credentials": (InvalidCredentials, "MESH refused the login or password"),
    "no_subject_found": (InvalidCredentials, "MESH does not know this login"),
    "pswd_method_temp_locked": (AccountLocked, "MESH locked password sign-in for a while"),
    "invalid_otp": (InvalidCredentials, "the SMS code was wrong and no attempts remain"),
    "no_attempts": (InvalidCredentials, "no SMS code attempts remain"),
    "expired": (SessionExpired, "the MESH sign-in expired before it was finished"),
    "invalid_proof_of_work": (UnexpectedResponse, "MESH refused the proof of work"),
    401: (SessionExpired, "the MESH session expired"),
    403: (AccessDenied, "MESH denied access to this data"),
    429: (RateLimited, "MESH asked to slow down"),
    "4xx": (UnexpectedResponse, "MESH refused the request as malformed"),
    "5xx": (BackendUnavailable, "MESH answered with a server error"),
    "html": (BackendUnavailable, "MESH answered with an HTML page (maintenance)"),
    "session_over": (SessionExpired, "MESH reports the session as ended"),
    "redirect": (UnexpectedResponse, "MESH answered with an unexpected redirect"),
    requests.Timeout: (BackendUnavailable, "MESH did not answer in time"),
    requests.ConnectionError: (BackendUnavailable, "MESH could not be reached"),
    requests.exceptions.InvalidJSONError: (UnexpectedResponse, "MESH sent malformed JSON"),
    requests.RequestException: (BackendUnavailable, "the request to MESH failed"),
    ValueError: (UnexpectedResponse, "MESH answered with a value of an unknown shape"),
    LookupError: (UnexpectedResponse, "MESH left out a field we need"),
    StopIteration: (UnexpectedResponse, "MESH left out an item we need"),
    TypeError: (UnexpectedResponse, "MESH answered with a field of an unknown type"),
    AttributeError: (UnexpectedResponse, "MESH answered with a field of an unknown type"),
}


def error(signal: t.Any, *, retry_after: float | None = None) -> ConnectorError:
    """Return the taxonomy error of a signal of the table (an exception: along its MRO)."""
    keys = type(signal).__mro__ if isinstance(signal, BaseException) else (signal,)
    cls, message = next(
        (ERRORS[k] for k in keys if k in ERRORS), (UnexpectedResponse, "unknown MESH answer")
    )
    if cls is RateLimited:
        return RateLimited(message, retry_after=retry_after)
    return cls(message)


class _NoCookies(DefaultCookiePolicy):
    """Keep the shared HTTP session's jar empty: every user's cookies travel explicitly."""

    def set_ok(self, cookie: t.Any, request: t.Any) -> bool:
        """Refuse to store any cookie."""
        return False


@dataclass(frozen=True, slots=True)
class Tokens:
    """What a finished sign-in yields: the MESH tokens and the trusted-device cookie."""

    access: str
    refresh: str | None
    device: str | None


def solve_proof_of_work(header: str) -> str:
    """Append a hex counter until the SHA-1 of the stamp has the stamp's leading zero bits."""
    try:
        bits = int(header.split(":")[1])
    except (IndexError, ValueError) as err:
        raise error(err) from err
    if not 0 <= bits <= MAX_POW_BITS:
        raise UnexpectedResponse("MESH asked for an unreasonable proof of work")
    counter = 0
    while True:
        stamp = header + format(counter, "x")
        digest = int.from_bytes(hashlib.sha1(stamp.encode()).digest(), "big")
        if digest >> (160 - bits) == 0:
            return stamp
        counter += 1


def token_expiry(token: str) -> dt.datetime | None:
    """Read the ``exp`` of a JWT without checking its signature (note §1.8)."""
    try:
        part = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC)
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def _is_html(response: requests.Response) -> bool:
    """Tell an HTML page (maintenance, WAF) from an API body."""
    kind = response.headers.get("Content-Type", "").lower()
    return "html" in kind or response.text.lstrip()[:1] == "<"


def _decoded(response: requests.Response) -> str:
    """Return the body as text, JSON with its escapes decoded (``\\u0421…``)."""
    try:
        return json.dumps(response.json(), ensure_ascii=False)
    except ValueError:
        return response.text


def _login_code(response: requests.Response) -> str | None:
    """Return ``errors[0].code`` of a headless login reply, if it has one."""
    try:
        errors = response.json().get("errors") or []
        return str(errors[0]["code"])
    except (ValueError, AttributeError, LookupError, TypeError):
        return None


def check(response: requests.Response, *expected: int) -> requests.Response:
    """Return the response when its status is expected; otherwise raise from the table."""
    status = response.status_code
    if status in expected:
        return response
    if status == 429:
        raise error(429, retry_after=clock.retry_after(response))
    if status >= 500:
        raise error("5xx")
    if _is_html(response):
        raise error("html")
    code = _login_code(response)
    if code is not None and code in ERRORS:
        raise error(code)
    if status in (401, 403):
        raise error(status)
    if SESSION_OVER in _decoded(response):
        raise error("session_over")
    raise error("4xx" if status >= 400 else "redirect")


def body(response: requests.Response) -> t.Any:
    """Return the JSON body; an HTML page means maintenance, anything else bad JSON."""
    if _is_html(response):
        raise error("html")
    try:
        return response.json()
    except requests.exceptions.InvalidJSONError as err:
        raise error(err) from err


class MeshClient:
    """Talk to login.mos.ru and school.mos.ru over one injected ``requests.Session``.

    The client keeps no per-user state: cookies and tokens come in as arguments and go out
    in return values, so one client serves every parent at once.
    """

    def __init__(
        self,
        http: requests.Session,
        *,
        base_url: str,
        login_url: str,
        timeout: tuple[float, float],
        subsystem: str,
        mobile_subsystem: str,
        now: clock.Clock = clock.utcnow,
    ) -> None:
        """Bind the session, settings and clock; stop the session from keeping cookies."""
        http.cookies.set_policy(_NoCookies())
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.login_url = login_url.rstrip("/")
        self.timeout = timeout
        self.subsystem = subsystem
        self.mobile_subsystem = mobile_subsystem
        self.redirect_uri = self.base_url + CALLBACK_PATH
        self.now = now

    def send(self, method: str, url: str, **kwargs: t.Any) -> requests.Response:
        """Send one request with the timeouts, no redirects; map transport failures."""
        try:
            response = self.http.request(
                method, url, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.RequestException as err:
            raise error(err) from err
        log.debug("MESH %s %s -> %s", method, urlsplit(url).path, response.status_code)
        return response

    def sign_in(self, login: str, password: str, *, device: str | None) -> Tokens:
        """Authorize, solve the proof of work, send the password; on a new device, send the SMS."""
        state = str(uuid.uuid4())
        params = {"client_id": CLIENT_ID, "response_type": "code", "access_type": "offline"}
        params |= {"scope": SCOPE, "redirect_uri": self.redirect_uri, "state": state}
        url = f"{self.login_url}/sps/oauth/ae"
        reply = check(self.send("GET", url, params={**params, "display": "script"}), 200)
        with reading(MESH):
            items = body(reply)["items"]
            method = next(i for i in items if i["inquire"] == "login_with_password")
            header = str(method["proofOfWork"])
            flow = {FLOW_COOKIE: reply.cookies[FLOW_COOKIE]}
        cookies = flow | ({DEVICE_COOKIE: device} if device else {})
        answer = {"login": login, "password": password, "proofOfWork": solve_proof_of_work(header)}
        url = f"{self.login_url}/sps/login/methods/headless/password"
        reply = check(self.send("POST", url, json=answer, cookies=cookies), 200, 302)
        if reply.status_code == 302:
            return self._finish(reply, state, device)
        with reading(MESH):
            step = body(reply).get("inquire")
        if step != "choose_one":
            raise UnexpectedResponse("MESH asked for an unknown sign-in step")
        url = f"{self.login_url}/sps/login/methods/headless/sms/bind"
        sent = body(check(self.send("POST", url, data={}, cookies=flow), 200))
        challenge: dict[str, t.Any] = {
            "cookies": flow,
            "state": state,
            "redirect_uri": self.redirect_uri,
        }
        with reading(MESH):
            challenge |= {"destination": str(sent["contact"]), "device": device}
            challenge["remain_attempts"] = int(sent["remain_attempts"])
        raise _ask_for_code(challenge)

    def confirm_second_factor(self, challenge: Mapping[str, t.Any], code: str) -> Tokens:
        """Send the SMS code, trust this device (``action=trust``) and take the tokens."""
        try:
            cookies, state = dict(challenge["cookies"]), str(challenge["state"])
        except (KeyError, TypeError) as err:
            raise ValueError("not a MESH sign-in challenge") from err
        url = f"{self.login_url}/sps/login/methods/headless/sms/bind"
        reply = self.send("POST", url, data={"sms-code": code.strip()}, cookies=cookies)
        if reply.status_code == 400 and _login_code(reply) == "invalid_otp":
            with reading(MESH):
                remain = int(body(reply).get("remain_attempts") or 0)
            if remain > 0:
                raise _ask_for_code({**challenge, "remain_attempts": remain})
        check(reply, 303)
        url = f"{self.login_url}/sps/login/ur/askToTrust"
        reply = check(self.send("POST", url, data={"action": "trust"}, cookies=cookies), 302)
        device = reply.cookies.get(DEVICE_COOKIE) or challenge.get("device")
        return self._finish(reply, state, device)

    def _finish(self, reply: requests.Response, state: str, device: str | None) -> Tokens:
        """Follow the redirect to the СУДИР callback and read the ``aupd_*`` cookies."""
        location = urlsplit(reply.headers.get("Location", ""))
        query = parse_qs(location.query)
        if location.path != CALLBACK_PATH or query.get("state", [state]) != [state]:
            raise error("redirect")
        with reading(MESH):
            code = query["code"][0]
        reply = check(self.send("GET", self.redirect_uri, params={"code": code}), 302)
        access = reply.cookies.get("aupd_token")
        if not access:
            raise UnexpectedResponse("the MESH callback set no aupd_token")
        return Tokens(access, reply.cookies.get("aupd_refresh_token"), device)

    def refresh(self, refresh_token: str) -> Tokens:
        """Rotate the token pair with ``POST /v3/token/refresh`` (each pair works once)."""
        reply = self.send(
            "POST",
            f"{self.base_url}/v3/token/refresh",
            cookies={"aupd_refresh_token": refresh_token},
            headers={"Origin": self.base_url},
        )
        pair = body(check(reply, 200, 201))
        with reading(MESH):
            return Tokens(str(pair["access_token"]), str(pair["refresh_token"]), None)

    def get(
        self,
        token: str,
        path: str,
        params: Mapping[str, t.Any] | None = None,
        *,
        profile_id: t.Any = None,
        mobile: bool = False,
        calendar: bool = False,
    ) -> t.Any:
        """GET an API path with the Bearer token only (note §1.5) and return its JSON."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        headers["X-Mes-Subsystem"] = self.mobile_subsystem if mobile else self.subsystem
        if profile_id is not None:
            headers["Profile-Id"] = str(profile_id)
        if mobile:
            headers["Client-Type"] = "diary-mobile"
        if calendar:
            headers["X-Mes-Role"] = "parent"
        key = (MESH, self.base_url, path, tuple(sorted((params or {}).items())), *headers.items())

        def send() -> t.Any:
            reply = self.send("GET", self.base_url + path, params=params, headers=headers)
            return body(check(reply, 200))

        return shared(key, send)

    def profile(self, token: str, *, profile_id: t.Any = None) -> t.Any:
        """Return the family profile: the parent's profile id and the children."""
        return self.get(token, PROFILE, profile_id=profile_id)

    def homeworks(
        self, token: str, profile_id: t.Any, student_id: str, period: Period
    ) -> list[t.Any]:
        """Return the bodies of a child's homework due in a period, a month at most each."""
        return _in_spans(partial(self._range, token, profile_id, HOMEWORKS, student_id), period)

    def calendar(
        self,
        token: str,
        profile_id: t.Any,
        person_id: str,
        period: Period,
    ) -> dict[str, t.Any]:
        """Return the event calendar of a period as one body: lessons, marks, absences, events."""

        def span_of(span: Period) -> t.Any:
            """Read the calendar of at most a month."""
            params = {
                "person_ids": person_id,
                "begin_date": span.start.isoformat(),
                "end_date": span.end.isoformat(),
                "expand": CALENDAR_EXPAND,
                "source_types": CALENDAR_SOURCES,
            }
            return self.get(token, CALENDAR, params, profile_id=profile_id, calendar=True)

        bodies = _in_spans(span_of, period)
        with reading(MESH):
            return {"response": [item for b in bodies for item in b["response"]]}

    def absence_notices(self, token: str, profile_id: t.Any, student_id: str) -> t.Any:
        """Return the absence notices the parent sent (mobile API)."""
        params = {"student_id": student_id}
        return self.get(token, ABSENCE_NOTICES, params, profile_id=profile_id, mobile=True)

    def class_rank(self, token: str, profile_id: t.Any, person_id: str, as_of: dt.date) -> t.Any:
        """Return the class's rating table on a day (mobile API)."""
        params = {"personId": person_id, "date": as_of.isoformat()}
        return self.get(token, CLASS_RANK, params, profile_id=profile_id, mobile=True)

    def _range(
        self, token: str, profile_id: t.Any, path: str, student_id: str, span: Period
    ) -> t.Any:
        """Read at most a month of a family range endpoint (homework)."""
        params = {
            "student_id": student_id,
            "from": span.start.isoformat(),
            "to": span.end.isoformat(),
        }
        return self.get(token, path, params, profile_id=profile_id)


def _ask_for_code(challenge: dict[str, t.Any]) -> SecondFactorRequired:
    """Build the error that asks the parent for the SMS code."""
    return SecondFactorRequired(
        "MESH asks for the SMS code sent to the parent's phone",
        challenge=challenge,
        destination=challenge["destination"],
        code_length=CODE_LENGTH,
    )


def _in_spans(read: Callable[[Period], t.Any], period: Period) -> list[t.Any]:
    """Read a range endpoint a month at most at a time, all at once (no paging; note §4.4)."""
    return gather([partial(read, span) for span in period.spans(RANGE_DAYS)])
