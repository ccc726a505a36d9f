"""Speak Dnevnik.ru's wire: the two sign-in routes, refresh, authorized GETs and its errors.

Error mapping follows the research note (``reference/dnevnik_ru.md`` §1.6): bodies are
``{"type", "description"}`` in a short (``invalidToken``) or long
(``authorizationInvalidToken``) spelling, sometimes with HTTP 200, so every JSON object is
checked before it is treated as data; maintenance comes as ``text/html`` pages or 5xx/550.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests

from connectors import clock
from connectors.errors import AccessDenied
from connectors.errors import AccountLocked
from connectors.errors import BackendUnavailable
from connectors.errors import ConnectorError
from connectors.errors import InvalidCredentials
from connectors.errors import RateLimited
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
from connectors.reuse import shared
from connectors.schema import Period
from connectors.settings import DEFAULT_TIMEOUT

log = logging.getLogger(__name__)

API = "/v2.0"
MOBILE = "/mobile/v8.5"
PARTNER_SCOPE = "CommonInfo,ContactInfo,FriendsAndRelatives,EducationalInfo"
# The scope the mobile app sends (note §1.5c): legacy names the server maps to coarse ones.
MOBILE_SCOPE = "Schools,Relatives,EduGroups,Lessons,marks,EduWorks,Avatar"
HTML = "text/html"
ErrorKey = int | str | type[Exception]
# The one table: error ``type`` codes (both spellings, matched case-insensitively), OAuth
# ``error`` codes, HTTP statuses, transport exceptions and HTML pages -> our taxonomy.
ERRORS: dict[ErrorKey, type[ConnectorError]] = {
    "authorizationFailed": InvalidCredentials,
    "invalid_grant": InvalidCredentials,
    "maxAttempsExceeded": AccountLocked,  # sic, as shipped (note §1.5b)
    "maxAttemptsExceeded": AccountLocked,
    "invalidToken": SessionExpired,
    "authorizationInvalidToken": SessionExpired,
    "tokenRequired": SessionExpired,
    "authorizationTokenRequired": SessionExpired,
    "notOwner": AccessDenied,
    "authorizationNotOwner": AccessDenied,
    "outOfScope": AccessDenied,
    "authorizationOutOfScope": AccessDenied,
    "ownerForbidden": AccessDenied,
    "authorizationOwnerForbidden": AccessDenied,
    "systemForbidden": AccessDenied,
    "authorizationSystemForbidden": AccessDenied,
    "invalid_client": AccessDenied,  # the operator's client registration was refused
    "requestLimit": RateLimited,
    "apiRequestLimit": RateLimited,
    "serverError": BackendUnavailable,
    "apiServerError": BackendUnavailable,
    "apiUnknownError": BackendUnavailable,
    "Error": BackendUnavailable,  # the mobile envelope's generic failure
    "invalidRequest": UnexpectedResponse,
    "parameterInvalid": UnexpectedResponse,
    "resourceUnavailable": UnexpectedResponse,
    "apiResourceUnavailable": UnexpectedResponse,
    "methodNotSupported": UnexpectedResponse,
    "apiMethodNotSupported": UnexpectedResponse,
    "httpsRequired": UnexpectedResponse,
    "apiHttpsRequired": UnexpectedResponse,
    "unsupported_grant_type": UnexpectedResponse,
    401: SessionExpired,
    403: AccessDenied,
    429: RateLimited,
    433: RateLimited,  # treated as throttling by community clients (note §4)
    500: BackendUnavailable,  # and every other 5xx, 550 «Server Work» included
    HTML: BackendUnavailable,
    requests.RequestException: BackendUnavailable,  # timeouts and connection errors
    ValueError: UnexpectedResponse,  # a body that is not JSON
}
_CODES = {str(k).casefold(): v for k, v in ERRORS.items() if isinstance(k, str)}
# The mobile login reports a lockout as authorizationFailed; only the text tells them apart.
_LOCK_WORDS = ("попыт", "заблокир", "attempt", "locked")


@dataclass(frozen=True, slots=True)
class App:
    """A client registration: a partner app or the mobile app's id and secret."""

    client_id: str
    client_secret: str = ""

    def __repr__(self) -> str:
        """Show the id only."""
        return f"App({self.client_id!r})"


@dataclass(frozen=True, slots=True)
class Grant:
    """Tokens a sign-in or refresh returned."""

    access_token: str
    refresh_token: str | None
    user_id: str | None
    expires_at: dt.datetime | None

    def __repr__(self) -> str:
        """Keep the tokens out of logs."""
        return f"Grant(user_id={self.user_id!r}, expires_at={self.expires_at!r})"


def error_class(status: int | None, code: str | None = None) -> type[ConnectorError]:
    """Look an error ``type`` code, then an HTTP status, up in :data:`ERRORS`."""
    if code and code.casefold() in _CODES:
        return _CODES[code.casefold()]
    if status is not None and status in ERRORS:
        return ERRORS[status]
    if status is not None and status >= 500:
        return ERRORS[500]
    return UnexpectedResponse


def error_code(body: t.Any) -> tuple[str, str] | None:
    """Return ``(code, description)`` when a JSON body is an error (even with HTTP 200)."""
    if not isinstance(body, dict):
        return None
    if "type" in body and "description" in body and body["type"] != "Success":
        return str(body["type"]), str(body.get("description") or "")
    if "error" in body and isinstance(body["error"], str):
        return body["error"], str(body.get("error_description") or "")
    return None


class DnevnikClient:
    """Send requests to one Dnevnik.ru installation through an injected ``requests`` session."""

    def __init__(
        self,
        http: requests.Session,
        *,
        login_url: str,
        api_url: str,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        backend_zone: ZoneInfo | None = None,
        now: clock.Clock = clock.utcnow,
    ) -> None:
        """Bind the session, the sign-in and API hosts and the (connect, read) timeout."""
        self._http = http
        self._login_url = login_url.rstrip("/")
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout
        self._zone = backend_zone or ZoneInfo("Europe/Moscow")
        self._now = now

    def authorization_url(self, app: App, *, redirect_uri: str, state: str) -> str:
        """Return the ``/oauth2`` address of the code flow (note §1.1)."""
        query = {
            "response_type": "code",
            "client_id": app.client_id,
            "scope": PARTNER_SCOPE,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{self._login_url}/oauth2?{urlencode(query)}"

    def exchange_code(self, app: App, *, code: str, redirect_uri: str) -> Grant:
        """Trade an authorization code at ``POST /v2.0/authorizations`` (note §1.2)."""
        body = {
            "code": code,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "grant_type": "AuthorizationCode",
            "redirect_uri": redirect_uri,
        }
        return self._token_answer(self._post(f"{API}/authorizations", body, "code exchange"))

    def refresh_partner(self, app: App, refresh_token: str) -> Grant:
        """Renew a partner token with ``grant_type: RefreshToken``."""
        body = {
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "grant_type": "RefreshToken",
            "refreshToken": refresh_token,
        }
        return self._token_answer(self._post(f"{API}/authorizations", body, "token refresh"))

    def sign_in(self, app: App, *, login: str, password: str) -> Grant:
        """Sign in with a password as the mobile app does; errors come with HTTP 200."""
        body = {
            "agreeTerms": False,
            "clientId": app.client_id,
            "clientSecret": app.client_secret,
            "scope": MOBILE_SCOPE,
            "username": login,
            "password": password,
        }
        path = f"{MOBILE}/authorizations/bycredentials"
        answer = self._post(path, body, "password sign-in")
        credentials = answer.get("credentials")
        if answer.get("type") != "Success" or not isinstance(credentials, dict):
            raise UnexpectedResponse("Дневник.ру: the password sign-in answered without tokens")
        return self._grant(credentials, user_key="userId", expires=credentials.get("expiresDate"))

    def refresh_mobile(self, app: App, refresh_token: str) -> Grant:
        """Renew a mobile token at ``byrefreshtoken``."""
        body = {
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "grant_type": "RefreshToken",
            "refreshToken": refresh_token,
        }
        answer = self._post(f"{MOBILE}/authorizations/byrefreshtoken", body, "token refresh")
        return self._grant(answer, user_key="user", expires=answer.get("expiresDate"))

    def get(
        self, token: str, path: str, *, params: Mapping[str, str] | None = None, what: str
    ) -> t.Any:
        """GET an API path under ``/v2.0`` with the ``Access-Token`` header; return its JSON."""
        headers = {"Access-Token": token, "Accept": "application/json"}

        def send() -> t.Any:
            response = self._send("GET", f"{API}/{path}", what, headers=headers, params=params)
            return self._answer(response, what)

        key = ("dnevnik_ru", self._api_url, token, path, tuple(sorted((params or {}).items())))
        return shared(key, send)

    def context(self, token: str) -> dict[str, t.Any]:
        """Return ``users/me/context``: the login's ids, children, schools and groups."""
        return _object(self.get(token, "users/me/context", what="context"))

    def person_schools(self, token: str) -> list[t.Any]:
        """Return the schools of the login's people."""
        return _list(self.get(token, "schools/person-schools", what="schools"))

    def edu_groups(self, token: str, person_id: str) -> list[t.Any]:
        """Return a person's groups (class and subgroups)."""
        return _list(self.get(token, f"persons/{person_id}/edu-groups", what="groups"))

    def marks(self, token: str, student_id: str, school_id: str, period: Period) -> list[t.Any]:
        """Return a child's marks of a period at a school."""
        path = f"persons/{student_id}/schools/{school_id}/marks/{period.start}/{period.end}"
        return _list(self.get(token, path, what="marks"))

    def work_types(self, token: str, school_id: str) -> list[t.Any]:
        """Return a school's work types (they carry the marks' weights)."""
        return _list(self.get(token, f"work-types/{school_id}", what="work types"))

    def homework(
        self, token: str, student_id: str, school_id: str, period: Period
    ) -> dict[str, t.Any]:
        """Return the bundle of a child's homework due in a period."""
        path = f"persons/{student_id}/school/{school_id}/homeworks"
        return _object(self.get(token, path, params=_dates(period), what="homework"))

    def schedule(
        self, token: str, student_id: str, group_id: str, week: Period
    ) -> dict[str, t.Any]:
        """Return the bundle of one group's timetable of a week, as a child sees it."""
        path = f"persons/{student_id}/groups/{group_id}/schedules"
        return _object(self.get(token, path, params=_dates(week), what="schedule"))

    def lesson_log(self, token: str, student_id: str, period: Period) -> list[t.Any]:
        """Return a child's lesson log entries (absences, late arrivals) of a period."""
        path = f"persons/{student_id}/lesson-log-entries"
        return _list(self.get(token, path, params=_dates(period), what="lesson log"))

    def group_lessons(self, token: str, group_id: str, period: Period) -> list[t.Any]:
        """Return a group's lessons of a period."""
        path = f"edu-groups/{group_id}/lessons/{period.start}/{period.end}"
        return _list(self.get(token, path, what="group lessons"))

    def lesson(self, token: str, lesson_id: str) -> dict[str, t.Any]:
        """Return one lesson."""
        return _object(self.get(token, f"lessons/{lesson_id}", what="lesson"))

    def _post(self, path: str, body: Mapping[str, t.Any], what: str) -> dict[str, t.Any]:
        """POST a JSON body and return the JSON object of the reply."""
        headers = {"Accept": "application/json"}
        answer = self._answer(self._send("POST", path, what, headers=headers, json=body), what)
        if not isinstance(answer, dict):
            raise UnexpectedResponse(f"Дневник.ру: {what} answered a non-object")
        return answer

    def _send(self, method: str, path: str, what: str, **kwargs: t.Any) -> requests.Response:
        """Send one request with the timeout; transport failures become BackendUnavailable."""
        try:
            return self._http.request(method, self._api_url + path, timeout=self._timeout, **kwargs)
        except requests.RequestException as err:
            cls = ERRORS[requests.RequestException]
            kind = "timed out" if isinstance(err, requests.Timeout) else "failed"
            raise cls(f"Дневник.ру: {what} {kind} ({type(err).__name__})") from err

    def _answer(self, response: requests.Response, what: str) -> t.Any:
        """Return the JSON of a reply, or raise the error it carries."""
        status = response.status_code
        mimetype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if status >= 500 or status in (429, 433):
            raise self._error(response, what, error_class(status))
        if mimetype == HTML:
            raise self._error(response, what, ERRORS[HTML], detail="an HTML page")
        try:
            body = json.loads(response.content)
        except ValueError as err:
            if status >= 400:
                raise self._error(response, what, error_class(status)) from err
            raise self._error(response, what, ERRORS[ValueError], detail="bad JSON") from err
        found = error_code(body)
        if found is not None:
            raise self._error(response, what, _code_class(*found, status), detail=found[0])
        if status >= 400:
            raise self._error(response, what, error_class(status))
        return body

    def _error(
        self,
        response: requests.Response,
        what: str,
        cls: type[ConnectorError],
        *,
        detail: str | None = None,
    ) -> ConnectorError:
        """Build the exception; the message names the call and status, never the person."""
        message = f"Дневник.ру: {what} failed with HTTP {response.status_code}"
        message += f" ({detail})" if detail else ""
        log.warning("%s -> %s", message, cls.__name__)
        if issubclass(cls, RateLimited):
            return cls(message, retry_after=clock.retry_after(response, now=self._now))
        return cls(message)

    def _token_answer(self, answer: Mapping[str, t.Any]) -> Grant:
        """Read the ``TokenWithCode`` answer: ``expiresIn`` seconds, ``user``/``user_str``."""
        raw = answer.get("expiresIn_str") or answer.get("expiresIn")
        try:
            expires = self._now() + dt.timedelta(seconds=int(raw)) if raw else None
        except (TypeError, ValueError) as err:
            raise UnexpectedResponse("Дневник.ру: expiresIn is not a number") from err
        grant = self._grant(answer, user_key="user", expires=None)
        return Grant(grant.access_token, grant.refresh_token, grant.user_id, expires)

    def _grant(self, raw: Mapping[str, t.Any], *, user_key: str, expires: t.Any) -> Grant:
        """Read the tokens and user id of a sign-in or refresh answer."""
        token = raw.get("accessToken")
        if not isinstance(token, str) or not token:
            raise UnexpectedResponse("Дневник.ру: the token answer has no accessToken")
        user = raw.get(f"{user_key}_str") or raw.get(user_key)
        refresh = raw.get("refreshToken")
        return Grant(
            access_token=token,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            user_id=str(user) if isinstance(user, int | str) and user != "" else None,
            expires_at=self._local_time(expires) if expires else None,
        )

    def _local_time(self, raw: t.Any) -> dt.datetime:
        """Read a naive backend date-time (``expiresDate``) in the backend's zone, as UTC."""
        try:
            moment = dt.datetime.fromisoformat(str(raw))
        except ValueError as err:
            raise UnexpectedResponse("Дневник.ру: expiresDate is not a date-time") from err
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zone)
        return moment.astimezone(dt.UTC)


def _code_class(code: str, description: str, status: int) -> type[ConnectorError]:
    """Map an error body; a refused sign-in that mentions attempts is a lockout."""
    cls = error_class(status, code)
    if cls is InvalidCredentials and any(w in description.casefold() for w in _LOCK_WORDS):
        return AccountLocked
    return cls


def _dates(period: Period) -> dict[str, str]:
    """Return the ``startDate``/``endDate`` query of a period."""
    return {"startDate": period.start.isoformat(), "endDate": period.end.isoformat()}


def _list(body: t.Any) -> list[t.Any]:
    """Return a JSON array, or raise UnexpectedResponse."""
    if not isinstance(body, list):
        raise UnexpectedResponse("Дневник.ру: expected a JSON array")
    return body


def _object(body: t.Any) -> dict[str, t.Any]:
    """Return a JSON object, or raise UnexpectedResponse."""
    if not isinstance(body, dict):
        raise UnexpectedResponse("Дневник.ру: expected a JSON object")
    return body
