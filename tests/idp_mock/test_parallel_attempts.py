"""Parallel wrong passwords, codes and resends get no more than the limits allow, over HTTP."""

from __future__ import annotations

import contextlib
import threading
import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from flask import Flask

from tests.idp_mock.helpers import FakeClock
from tests.idp_mock.test_lockout import LOCKED
from tests.idp_mock.test_lockout import error_of
from tests.idp_mock.test_mfa import PASSWORD
from tests.idp_mock.test_mfa import PHONE
from tests.support.live import serving

PARALLEL = 20
WRONG_PASSWORD = "Неверный логин или пароль. Осталось попыток: {}"
T = t.TypeVar("T")


@pytest.fixture
def clock() -> FakeClock:
    """Return a clock the test moves."""
    return FakeClock()


@pytest.fixture
def live_idp(
    make_idp: t.Callable[..., Flask], idp_database_url: str, clock: FakeClock
) -> Iterator[Callable[..., str]]:
    """Return a function that serves a provider on the test database and gives its URL."""
    with contextlib.ExitStack() as stack:

        def start(**settings: t.Any) -> str:
            app = make_idp(IDP_DATABASE_URL=idp_database_url, IDP_CLOCK=clock, **settings)
            stack.callback(app.extensions["idp_mock.db"].kw["bind"].dispose)
            return stack.enter_context(serving(app))

        yield start


def at_once(attempt: Callable[[], T]) -> list[T]:
    """Run ``attempt`` in PARALLEL threads released together; return their results."""
    barrier = threading.Barrier(PARALLEL)

    def run(_: int) -> T:
        barrier.wait(timeout=60)
        return attempt()

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(run, range(PARALLEL)))


def post(url: str, cookies: dict[str, str] | None = None, **data: str) -> requests.Response:
    """Post a form the way a browser would, with the cookies given and no others."""
    return requests.post(url, data=data, cookies=cookies, timeout=120)


def signed_out_with_second_factor(url: str) -> None:
    """Turn Алексей's sign-in code on, then sign out."""
    browser = requests.Session()
    assert browser.post(f"{url}/login", data={"login": PHONE, "password": PASSWORD}).ok
    browser.post(f"{url}/profile/second-factor", data={"decision": "on"})
    browser.post(f"{url}/logout", data={"decision": "logout"})


def waiting_for_code(url: str) -> dict[str, str]:
    """Sign Алексей in with the password; return the cookies of the pending code step."""
    browser = requests.Session()
    reply = browser.post(f"{url}/login", data={"login": PHONE, "password": PASSWORD})
    assert reply.url == f"{url}/login/code", reply.text
    return browser.cookies.get_dict()


def codes_sent(url: str) -> list[str]:
    """Return the codes the dev outbox holds for Алексей's phone, newest first."""
    messages = requests.get(f"{url}/__dev/outbox?format=json", timeout=30).json()["messages"]
    return [m["code"] for m in messages if m["to"] == PHONE]


def wrong_passwords_at_once(url: str, login: str) -> list[requests.Response]:
    """Post PARALLEL wrong passwords for ``login`` together."""
    return at_once(lambda: post(f"{url}/login", login=login, password="wrong-password-1"))


@pytest.mark.parametrize("login", ["+79000000001", "+79000000009"], ids=["existing", "unknown"])
def test_parallel_wrong_passwords_get_the_configured_attempts_and_no_more(
    live_idp: Callable[..., str], login: str
) -> None:
    url = live_idp(IDP_LOCKOUT_ATTEMPTS=5, IDP_ADDRESS_ATTEMPTS=PARALLEL + 10)

    errors = [error_of(reply.text) for reply in wrong_passwords_at_once(url, login)]

    told_attempts_left = sorted(error for error in errors if LOCKED not in error)
    assert told_attempts_left == [WRONG_PASSWORD.format(n) for n in (1, 2, 3, 4)]
    assert sum(LOCKED in error for error in errors) == PARALLEL - 4
    assert LOCKED in error_of(post(f"{url}/login", login=login, password="parent-demo-1").text)


def test_the_address_counts_every_parallel_failure(live_idp: Callable[..., str]) -> None:
    url = live_idp(IDP_LOCKOUT_ATTEMPTS=5, IDP_ADDRESS_ATTEMPTS=PARALLEL)

    replies = wrong_passwords_at_once(url, "+79000000001")

    assert [reply.status_code for reply in replies] == [200] * PARALLEL
    # Twenty failures are the address's limit: it is throttled now, whatever account it tries.
    assert post(f"{url}/login", login="+79000000003", password="granny-demo-3").status_code == 429


def test_parallel_wrong_codes_get_the_code_attempts_and_count_each_once(
    live_idp: Callable[..., str],
) -> None:
    url = live_idp()
    signed_out_with_second_factor(url)
    pending = waiting_for_code(url)
    right = codes_sent(url)[0]
    wrong = "000000" if right != "000000" else "111111"

    pages = [
        reply.text for reply in at_once(lambda: post(f"{url}/login/code", pending, code=wrong))
    ]

    assert sorted(error_of(page) for page in pages if "Неверный код" in page) == [
        "Неверный код. Осталось попыток: 1",
        "Неверный код. Осталось попыток: 2",
    ]
    assert "Вы вошли как" not in post(f"{url}/login/code", pending, code=right).text
    # Three codes were checked and wrong: two attempts of the account's five remain.
    page = post(f"{url}/login", login=PHONE, password="wrong-password-1").text
    assert error_of(page) == WRONG_PASSWORD.format(1)


def test_parallel_resends_send_one_code(live_idp: Callable[..., str], clock: FakeClock) -> None:
    url = live_idp()
    signed_out_with_second_factor(url)
    pending = waiting_for_code(url)
    clock.advance(60)

    pages = [
        reply.text for reply in at_once(lambda: post(f"{url}/login/code", pending, resend="1"))
    ]

    assert len(codes_sent(url)) == 2
    assert sum("Новый код можно запросить через 60 с" in page for page in pages) == PARALLEL - 1


def test_parallel_sign_ins_send_no_more_codes_than_the_cap(live_idp: Callable[..., str]) -> None:
    url = live_idp(IDP_CODE_SENDS=5)
    signed_out_with_second_factor(url)

    pages = [
        reply.text
        for reply in at_once(lambda: post(f"{url}/login", login=PHONE, password=PASSWORD))
    ]

    assert len(codes_sent(url)) == 5
    assert sum("Превышено число запросов кода" in page for page in pages) == PARALLEL - 5
