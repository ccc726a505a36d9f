"""The wire client against canned replies: requests as the note describes, one error table."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
import responses
from responses import matchers

from connectors.dnevnik_ru.client import MOBILE_SCOPE
from connectors.dnevnik_ru.client import PARTNER_SCOPE
from connectors.dnevnik_ru.client import App
from connectors.dnevnik_ru.client import DnevnikClient
from connectors.errors import AccessDenied
from connectors.errors import AccountLocked
from connectors.errors import BackendUnavailable
from connectors.errors import ConnectorError
from connectors.errors import InvalidCredentials
from connectors.errors import RateLimited
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
from tests.connectors.dnevnik_ru.helpers import API
from tests.connectors.dnevnik_ru.helpers import BASE
from tests.connectors.dnevnik_ru.helpers import LOGIN
from tests.connectors.dnevnik_ru.helpers import MOBILE
from tests.connectors.dnevnik_ru.helpers import PARTNER
from tests.connectors.dnevnik_ru.helpers import REDIRECT

NOW = dt.datetime(2026, 3, 11, 9, 0, tzinfo=dt.UTC)
TOKEN = "a3f1c9e07b2d4e58a6c1f0e9d8b7a6c5"
MOBILE_APP = App(*MOBILE)
PARTNER_APP = App(*PARTNER)
CONTEXT = f"{API}/v2.0/users/me/context"


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """Fail the test when a registered reply is not used."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def client() -> DnevnikClient:
    """Return a client with split login and API hosts and a fixed clock."""
    return DnevnikClient(
        requests.Session(), login_url=BASE, api_url=API, timeout=(2.0, 7.0), now=lambda: NOW
    )


def test_password_sign_in_posts_the_mobile_body_and_reads_credentials(
    mocked: responses.RequestsMock, client: DnevnikClient
) -> None:
    body = {
        "agreeTerms": False,
        "clientId": MOBILE[0],
        "clientSecret": MOBILE[1],
        "scope": MOBILE_SCOPE,
        "username": LOGIN[0],
        "password": LOGIN[1],
    }
    credentials = {
        "accessToken": TOKEN,
        "expiresDate": "2027-03-11T12:00:00",
        "refreshToken": "r-1",
        "userId": 1040007712004,
        "scope": MOBILE_SCOPE,
    }
    mocked.post(
        f"{API}/mobile/v8.5/authorizations/bycredentials",
        json={"type": "Success", "description": None, "credentials": credentials},
        match=[matchers.json_params_matcher(body)],
    )
    grant = client.sign_in(MOBILE_APP, login=LOGIN[0], password=LOGIN[1])
    assert (grant.access_token, grant.refresh_token, grant.user_id) == (
        TOKEN,
        "r-1",
        "1040007712004",
    )
    assert grant.expires_at == dt.datetime(2027, 3, 11, 9, 0, tzinfo=dt.UTC)  # Moscow is +3
    assert mocked.calls[0].request.req_kwargs["timeout"] == (2.0, 7.0)
    assert TOKEN not in repr(grant)


@pytest.mark.parametrize(
    ("kind", "description", "expected"),
    [
        ("authorizationFailed", "Неверный логин или пароль", InvalidCredentials),
        ("authorizationFailed", "Превышено число попыток входа.", AccountLocked),
        ("invalidRequest", "Invalid client", UnexpectedResponse),
        ("parameterInvalid", "Invalid scope", UnexpectedResponse),
        ("Error", "Something", BackendUnavailable),
    ],
)
def test_password_sign_in_failures_arrive_with_http_200(
    mocked: responses.RequestsMock,
    client: DnevnikClient,
    kind: str,
    description: str,
    expected: type[ConnectorError],
) -> None:
    envelope = {"type": kind, "description": description, "credentials": None, "reason": None}
    mocked.post(f"{API}/mobile/v8.5/authorizations/bycredentials", json=envelope)
    with pytest.raises(expected) as caught:
        client.sign_in(MOBILE_APP, login=LOGIN[0], password=LOGIN[1])
    assert LOGIN[0] not in str(caught.value) and LOGIN[1] not in str(caught.value)
    assert type(caught.value) is expected


def test_authorization_url_asks_for_a_code_on_the_login_host(client: DnevnikClient) -> None:
    url = client.authorization_url(PARTNER_APP, redirect_uri=REDIRECT, state="st-1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/oauth2"
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": [PARTNER[0]],
        "scope": [PARTNER_SCOPE],
        "redirect_uri": [REDIRECT],
        "state": ["st-1"],
    }


def test_code_exchange_posts_the_grant_and_reads_token_with_code(
    mocked: responses.RequestsMock, client: DnevnikClient
) -> None:
    body = {
        "code": "c-1",
        "client_id": PARTNER[0],
        "client_secret": PARTNER[1],
        "grant_type": "AuthorizationCode",
        "redirect_uri": REDIRECT,
    }
    answer = {
        "accessToken": TOKEN,
        "expiresIn": 3600,
        "expiresIn_str": "3600",
        "refreshToken": "r-2",
        "scope": PARTNER_SCOPE,
        "user": 1000009876500,
        "user_str": "1000009876501",
    }
    mocked.post(
        f"{API}/v2.0/authorizations", json=answer, match=[matchers.json_params_matcher(body)]
    )
    grant = client.exchange_code(PARTNER_APP, code="c-1", redirect_uri=REDIRECT)
    assert (grant.user_id, grant.refresh_token) == ("1000009876501", "r-2")
    assert grant.expires_at == NOW + dt.timedelta(hours=1)


def test_partner_refresh_sends_the_refresh_grant(
    mocked: responses.RequestsMock, client: DnevnikClient
) -> None:
    body = {
        "client_id": PARTNER[0],
        "client_secret": PARTNER[1],
        "grant_type": "RefreshToken",
        "refreshToken": "r-2",
    }
    mocked.post(
        f"{API}/v2.0/authorizations",
        json={"accessToken": "t-3", "refreshToken": "r-3", "expiresIn": 60, "user": 1},
        match=[matchers.json_params_matcher(body)],
    )
    grant = client.refresh_partner(PARTNER_APP, "r-2")
    assert (grant.access_token, grant.refresh_token) == ("t-3", "r-3")


def test_a_refused_partner_refresh_is_an_expired_session(
    mocked: responses.RequestsMock, client: DnevnikClient
) -> None:
    body = {"error": "invalid_request", "error_description": ""}
    mocked.post(f"{API}/v2.0/authorizations", json=body, status=401)
    with pytest.raises(SessionExpired):
        client.refresh_partner(PARTNER_APP, "r-2")


def test_mobile_refresh_sends_snake_case_client_fields(
    mocked: responses.RequestsMock, client: DnevnikClient
) -> None:
    body = {
        "client_id": MOBILE[0],
        "client_secret": MOBILE[1],
        "grant_type": "RefreshToken",
        "refreshToken": "r-1",
    }
    answer = {
        "accessToken": "t-4",
        "refreshToken": "r-4",
        "user": 1040007712004,
        "scope": MOBILE_SCOPE,
        "expiresDate": "2026-03-11T15:00:00+03:00",
    }
    mocked.post(
        f"{API}/mobile/v8.5/authorizations/byrefreshtoken",
        json=answer,
        match=[matchers.json_params_matcher(body)],
    )
    grant = client.refresh_mobile(MOBILE_APP, "r-1")
    assert (grant.access_token, grant.user_id) == ("t-4", "1040007712004")
    assert grant.expires_at == dt.datetime(2026, 3, 11, 12, 0, tzinfo=dt.UTC)


def test_get_sends_the_access_token_header_and_query(
    mocked: responses.RequestsMock, client: DnevnikClient
) -> None:
    mocked.get(
        f"{API}/v2.0/persons/1/lesson-log-entries",
        json=[],
        match=[
            matchers.header_matcher({"Access-Token": TOKEN}),
            matchers.query_param_matcher({"startDate": "2026-03-09", "endDate": "2026-03-15"}),
        ],
    )
    params = {"startDate": "2026-03-09", "endDate": "2026-03-15"}
    assert client.get(TOKEN, "persons/1/lesson-log-entries", params=params, what="log") == []
    assert mocked.calls[0].request.req_kwargs["timeout"] == (2.0, 7.0)


ERROR_TYPES = [
    ("invalidToken", "authorizationInvalidToken", 401, SessionExpired),
    ("tokenRequired", "authorizationTokenRequired", 401, SessionExpired),
    ("notOwner", "authorizationNotOwner", 403, AccessDenied),
    ("outOfScope", "authorizationOutOfScope", 403, AccessDenied),
    ("ownerForbidden", "authorizationOwnerForbidden", 403, AccessDenied),
    ("systemForbidden", "authorizationSystemForbidden", 403, AccessDenied),
    ("requestLimit", "apiRequestLimit", 429, RateLimited),
    ("serverError", "apiServerError", 500, BackendUnavailable),
    ("resourceUnavailable", "apiResourceUnavailable", 404, UnexpectedResponse),
    ("methodNotSupported", "apiMethodNotSupported", 405, UnexpectedResponse),
    ("parameterInvalid", "parameterInvalid", 400, UnexpectedResponse),
]
CASES = [
    pytest.param(code, status, expected, id=f"{code}-{status}")
    for short, long, real_status, expected in ERROR_TYPES
    for code in (short, long)
    for status in (real_status, 200)
]


@pytest.mark.parametrize(("code", "status", "expected"), CASES)
def test_error_types_map_in_both_spellings_with_their_status_or_http_200(
    mocked: responses.RequestsMock,
    client: DnevnikClient,
    code: str,
    status: int,
    expected: type[ConnectorError],
) -> None:
    body = {"type": code, "description": "Ученик 1000011234577 не найден"}
    mocked.get(CONTEXT, json=body, status=status)
    with pytest.raises(expected) as caught:
        client.get(TOKEN, "users/me/context", what="context")
    assert type(caught.value) is expected
    assert "1000011234577" not in str(caught.value)


HTML_PAGE = '<div class="error__description"><p>Ведутся технические работы</p>'


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (401, "", "text/plain", SessionExpired),
        (403, "", "text/plain", AccessDenied),
        (433, "", "text/plain", RateLimited),
        (500, '{"message":"An error has occurred."}', "application/json", BackendUnavailable),
        (502, "Bad gateway", "text/plain", BackendUnavailable),
        (503, HTML_PAGE, "text/html; charset=utf-8", BackendUnavailable),
        (550, "Server Work", "text/plain", BackendUnavailable),
        (200, HTML_PAGE, "text/html", BackendUnavailable),
        (200, '{"message": "An error has occ', "application/json", UnexpectedResponse),
        (404, "Not found", "text/plain", UnexpectedResponse),
    ],
)
def test_statuses_html_pages_and_bad_json_map_to_the_taxonomy(
    mocked: responses.RequestsMock,
    client: DnevnikClient,
    status: int,
    body: str,
    content_type: str,
    expected: type[ConnectorError],
) -> None:
    mocked.get(CONTEXT, body=body, status=status, content_type=content_type)
    with pytest.raises(expected) as caught:
        client.get(TOKEN, "users/me/context", what="context")
    assert type(caught.value) is expected


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("30", 30.0), ("Wed, 11 Mar 2026 09:01:00 GMT", 60.0), (None, None)],
)
def test_rate_limits_carry_retry_after(
    mocked: responses.RequestsMock, client: DnevnikClient, header: str | None, seconds: float | None
) -> None:
    headers = {"Retry-After": header} if header else {}
    mocked.get(
        CONTEXT, json={"type": "apiRequestLimit", "description": ""}, status=429, headers=headers
    )
    with pytest.raises(RateLimited) as caught:
        client.get(TOKEN, "users/me/context", what="context")
    assert caught.value.retry_after == seconds


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectTimeout("slow"),
        requests.ReadTimeout("slow"),
        requests.ConnectionError("down"),
    ],
)
def test_transport_failures_are_backend_unavailable_with_the_cause_kept(
    mocked: responses.RequestsMock, client: DnevnikClient, failure: Exception
) -> None:
    mocked.get(CONTEXT, body=failure)
    with pytest.raises(BackendUnavailable) as caught:
        client.get(TOKEN, "users/me/context", what="context")
    assert caught.value.__cause__ is failure


def test_errors_are_logged_without_tokens_or_passwords(
    mocked: responses.RequestsMock, client: DnevnikClient, caplog: pytest.LogCaptureFixture
) -> None:
    envelope = {"type": "authorizationFailed", "description": "Неверный логин или пароль"}
    mocked.post(f"{API}/mobile/v8.5/authorizations/bycredentials", json=envelope)
    mocked.get(CONTEXT, json={"type": "invalidToken", "description": TOKEN}, status=401)
    with caplog.at_level(logging.DEBUG), pytest.raises(InvalidCredentials):
        client.sign_in(MOBILE_APP, login=LOGIN[0], password=LOGIN[1])
    with caplog.at_level(logging.DEBUG), pytest.raises(SessionExpired):
        client.get(TOKEN, "users/me/context", what="context")
    assert caplog.records
    for secret in (TOKEN, LOGIN[0], LOGIN[1]):
        assert secret not in caplog.text
