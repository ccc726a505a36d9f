"""The NetSchool wire: the salted handshake, the school lookup and the failure table."""

from __future__ import annotations

import hashlib
import typing as t

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from connectors import errors
from connectors.netschool import client
from connectors.netschool.client import Phase
from connectors.netschool.client import Wire
from tests.connectors.netschool.helpers import API
from tests.connectors.netschool.helpers import AT
from tests.connectors.netschool.helpers import BASE
from tests.connectors.netschool.helpers import COOKIE
from tests.connectors.netschool.helpers import LOGIN
from tests.connectors.netschool.helpers import PASSWORD
from tests.connectors.netschool.helpers import PW
from tests.connectors.netschool.helpers import PW2
from tests.connectors.netschool.helpers import add_handshake
from tests.connectors.netschool.helpers import load
from tests.connectors.netschool.helpers import with_session


@pytest.fixture
def rsps() -> t.Iterator[responses.RequestsMock]:
    """Serve canned replies in registration order; every one must be used."""
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock


def wire(**state: t.Any) -> Wire:
    """Return a wire to the fixture server over a fresh, cookie-less session."""
    return Wire(client.forget_cookies(requests.Session()), BASE, **state)


def test_password_is_hashed_from_its_cp1251_bytes() -> None:
    """The note's worked example: Пароль123 with salt 1834726519."""
    assert client.password_hashes(PASSWORD, "1834726519") == (PW, PW2)


def test_utf8_hashing_would_give_another_pw2() -> None:
    """Hashing UTF-8 bytes is the Cyrillic-password bug of lentryd#19."""
    inner = hashlib.md5(PASSWORD.encode("utf-8")).hexdigest()
    utf8 = hashlib.md5(("1834726519" + inner).encode("ascii")).hexdigest()

    assert utf8 != PW2


def test_sign_in_runs_logindata_getdata_login_with_the_exact_form(
    rsps: responses.RequestsMock,
) -> None:
    """The three steps run in order and login gets loginType, scid, un, pw, pw2, lt, ver."""
    add_handshake(rsps)
    line = wire()

    answer = client.sign_in(line, LOGIN, PASSWORD, 1042)

    assert answer["at"] == AT
    assert line.at == AT
    assert line.cookies == {"NSSESSIONID": COOKIE}
    assert [c.request.method for c in rsps.calls] == ["GET", "POST", "POST"]


def test_calls_after_sign_in_carry_the_at_header_and_the_cookie(
    rsps: responses.RequestsMock,
) -> None:
    """Every data call sends ``at`` and the session cookie."""
    add_handshake(rsps)
    rsps.get(f"{API}/years/current", json=load("years_current"), match=with_session())
    line = wire()
    client.sign_in(line, LOGIN, PASSWORD, 1042)

    assert line.call("GET", "years/current")["id"] == 417


def test_every_call_sets_an_explicit_connect_and_read_timeout(
    rsps: responses.RequestsMock,
) -> None:
    """No call may wait forever."""
    rsps.get(f"{API}/logindata", json=load("logindata"))
    wire(timeout=(1.5, 4.0)).call("GET", "logindata", phase=Phase.LOGIN)

    assert rsps.calls[0].request.req_kwargs["timeout"] == (1.5, 4.0)


def test_school_is_looked_up_by_name(rsps: responses.RequestsMock) -> None:
    """``schools/search?name=`` is asked without a session; the short name matches."""
    rsps.get(
        f"{API}/schools/search",
        json=load("schools_search"),
        match=[matchers.query_param_matcher({"name": "МАОУ «СОШ № 17 г. Озёрска»"})],
    )

    assert client.find_school(wire(), " МАОУ «СОШ № 17 г. Озёрска» ") == 1042
    assert "at" not in rsps.calls[0].request.headers


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("МАОУ «СОШ № 17 г. Озёрска»", 1042),  # exact shortName
        ("МАОУ «СОШ № 17 г. Озёрска» (филиал 2)", 1043),  # exact shortName of a branch
        ("МБДОУ «ДС № 17»", 2210),  # exact name before " ("
    ],
)
def test_match_school_prefers_exact_names(wanted: str, expected: int) -> None:
    """Exact short name first, then the name without its «(город) » suffix."""
    assert client.match_school(load("schools_search"), wanted) == expected


def test_match_school_takes_the_only_result() -> None:
    """A substring that finds one school picks it."""
    assert client.match_school(load("schools_search")[2:], "ДС № 17") == 2210


@pytest.mark.parametrize("found", [[], load("schools_search")])
def test_match_school_refuses_no_or_several_candidates(found: list[t.Any]) -> None:
    """Nothing found, or several schools and no exact name: the parent must fix the name."""
    with pytest.raises(errors.InvalidCredentials):
        client.match_school(found, "СОШ № 17")


def test_missing_school_name_is_refused_before_any_request() -> None:
    """NetSchool needs the school; a blank name never reaches the server."""
    with pytest.raises(errors.InvalidCredentials):
        client.find_school(wire(), "  ")


LOGIN_409 = [
    ("Неправильный пароль или имя пользователя. Осталось попыток: 2", errors.InvalidCredentials),
    ("Неверный логин", errors.InvalidCredentials),
    (
        "Вы совершили 3 неудачные попытки входа. "
        "Следующая попытка может быть совершена не ранее чем через минуту",
        errors.AccountLocked,
    ),
    ("Учётная запись заблокирована", errors.AccountLocked),
    ("Доступ запрещен", errors.AccessDenied),
    ("У пользователя нет прав на вход", errors.AccessDenied),
    ("Пользователь отключен", errors.AccessDenied),
    ("Ошибка входа в систему", errors.BackendUnavailable),
    ("", errors.BackendUnavailable),
]


@pytest.mark.parametrize(("text", "error"), LOGIN_409)
def test_login_409_is_classified_by_its_message(
    rsps: responses.RequestsMock, text: str, error: type[Exception]
) -> None:
    """409 + «парол»/«логин» is a wrong password, lockout markers a lockout, and so on."""
    rsps.get(f"{API}/logindata", json=load("logindata"))
    rsps.post(f"{API}/auth/getdata", json=load("getdata"))
    rsps.post(f"{API}/login", status=409, json={"message": text})

    with pytest.raises(error) as caught:
        client.sign_in(wire(), LOGIN, PASSWORD, 1042)

    assert type(caught.value) is error
    assert LOGIN not in str(caught.value) and PASSWORD not in str(caught.value)


def test_old_servers_refusing_with_200_and_no_at_mean_wrong_credentials(
    rsps: responses.RequestsMock,
) -> None:
    """Until 2021 a refused sign-in was 200 with a message and no ``at``."""
    rsps.get(f"{API}/logindata", json=load("logindata"))
    rsps.post(f"{API}/auth/getdata", json=load("getdata"))
    rsps.post(f"{API}/login", json={"message": "Неправильный пароль или логин"})

    with pytest.raises(errors.InvalidCredentials):
        client.sign_in(wire(), LOGIN, PASSWORD, 1042)


def test_getdata_without_salt_means_maintenance(rsps: responses.RequestsMock) -> None:
    """netschoolpy reads a salt-less ``auth/getdata`` as a server down for maintenance."""
    rsps.get(f"{API}/logindata", json=load("logindata"))
    rsps.post(f"{API}/auth/getdata", json={"lt": "1", "ver": "2"})

    with pytest.raises(errors.BackendUnavailable):
        client.sign_in(wire(), LOGIN, PASSWORD, 1042)


def reply(rsps: responses.RequestsMock, **kw: t.Any) -> None:
    """Answer the next ``student/diary/init`` call with ``kw``."""
    rsps.get(f"{API}/student/diary/init", **kw)


JSON_TYPE = "application/json"
HTML = "<html><body><h1>Технические работы</h1></body></html>"
DATA_FAILURES = [
    ({"status": 401, "json": {"message": "Authorization has been denied"}}, errors.SessionExpired),
    ({"status": 403, "json": {"message": "Доступ запрещен"}}, errors.AccessDenied),
    ({"status": 409, "json": {"message": "Ошибка"}}, errors.BackendUnavailable),
    ({"status": 500, "json": {"message": "An error has occurred."}}, errors.BackendUnavailable),
    ({"status": 503, "body": HTML, "content_type": "text/html"}, errors.BackendUnavailable),
    ({"status": 200, "body": HTML, "content_type": "text/html"}, errors.BackendUnavailable),
    ({"status": 302, "headers": {"Location": "/maintenance"}}, errors.BackendUnavailable),
    ({"status": 404, "json": {"message": "Not found"}}, errors.UnexpectedResponse),
    ({"status": 200, "body": "{not json", "content_type": JSON_TYPE}, errors.UnexpectedResponse),
    ({"body": "Ошибка доступа", "content_type": "text/plain"}, errors.SessionExpired),
    ({"body": requests.ConnectTimeout("slow")}, errors.BackendUnavailable),
    ({"body": requests.ReadTimeout("slow")}, errors.BackendUnavailable),
    ({"body": requests.ConnectionError("refused")}, errors.BackendUnavailable),
]  # fmt: skip


@pytest.mark.parametrize(("answer", "error"), DATA_FAILURES)
def test_data_call_failures_map_to_the_taxonomy(
    rsps: responses.RequestsMock, answer: dict[str, t.Any], error: type[Exception]
) -> None:
    """Statuses, HTML pages, broken JSON and transport errors each get their class."""
    reply(rsps, **answer)

    with pytest.raises(error) as caught:
        wire(at=AT).call("GET", "student/diary/init")

    assert type(caught.value) is error
    assert caught.value.__cause__ is not None or isinstance(caught.value, errors.BackendUnavailable)


@pytest.mark.parametrize(("retry_after", "expected"), [("30", 30.0), (None, None)])
def test_429_is_rate_limited_with_the_servers_retry_after(
    rsps: responses.RequestsMock, retry_after: str | None, expected: float | None
) -> None:
    """``Retry-After`` seconds travel with the error."""
    headers = {"Retry-After": retry_after} if retry_after else {}
    reply(rsps, status=429, json={"message": "Too many requests"}, headers=headers)

    with pytest.raises(errors.RateLimited) as caught:
        wire(at=AT).call("GET", "student/diary/init")

    assert caught.value.retry_after == expected


def test_429_during_sign_in_is_rate_limited_too(rsps: responses.RequestsMock) -> None:
    """Rate limiting is not a wrong password."""
    rsps.get(f"{API}/logindata", status=429, headers={"Retry-After": "5"})

    with pytest.raises(errors.RateLimited):
        client.sign_in(wire(), LOGIN, PASSWORD, 1042)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"status": 200, "body": HTML, "content_type": "text/html"}, errors.BackendUnavailable),
        ({"status": 200, "body": "{oops", "content_type": JSON_TYPE}, errors.BackendUnavailable),
        ({"status": 502, "body": "Bad gateway"}, errors.BackendUnavailable),
        ({"body": requests.ConnectTimeout("slow")}, errors.BackendUnavailable),
    ],
)  # fmt: skip
def test_sign_in_failures_that_are_not_the_parents_fault_are_unavailability(
    rsps: responses.RequestsMock, answer: dict[str, t.Any], error: type[Exception]
) -> None:
    """A maintenance page or broken JSON during sign-in is the server's trouble."""
    rsps.get(f"{API}/logindata", **answer)

    with pytest.raises(error):
        client.sign_in(wire(), LOGIN, PASSWORD, 1042)


def test_missing_keys_on_data_calls_are_unexpected() -> None:
    """A data answer without a required key is schema drift."""
    with pytest.raises(errors.UnexpectedResponse):
        client.require({"name": "2025/2026"}, ("id",), "years/current", Phase.DATA)


def test_the_shared_session_never_keeps_a_parents_cookie(rsps: responses.RequestsMock) -> None:
    """Cookies live in each wire's own jar, so concurrent parents cannot mix them up."""
    shared = client.forget_cookies(requests.Session())
    rsps.get(f"{API}/logindata", json={}, headers={"Set-Cookie": f"NSSESSIONID={COOKIE}"})
    line = Wire(shared, BASE)

    line.call("GET", "logindata", phase=Phase.LOGIN)

    assert line.cookies == {"NSSESSIONID": COOKIE}
    assert len(shared.cookies) == 0
