"""Lockout: remaining attempts shown, then a temporary lock with ESIA's wording."""

from __future__ import annotations

import re
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.idp_mock.helpers import FakeClock
from tests.idp_mock.helpers import sign_in

LOCKED = "Учётная запись временно заблокирована"


@pytest.fixture
def clock() -> FakeClock:
    """Return a clock the test moves."""
    return FakeClock()


@pytest.fixture
def idp_with_clock(make_idp: t.Callable[..., Flask], clock: FakeClock) -> FlaskClient:
    """Return a client of a provider on the test clock, with the default policy."""
    return make_idp(IDP_CLOCK=clock).test_client()


def fail(client: FlaskClient, times: int) -> list[str]:
    """Enter a wrong password `times` times; return the pages."""
    return [
        sign_in(client, "+79000000001", "wrong-password-1").get_data(as_text=True)
        for _ in range(times)
    ]


def test_remaining_attempts_are_shown(idp_with_clock: FlaskClient) -> None:
    pages = fail(idp_with_clock, 4)

    assert "Неверный логин или пароль. Осталось попыток: 4" in pages[0]
    assert "Осталось попыток: 1" in pages[3]


def test_fifth_wrong_password_locks_for_fifteen_minutes(idp_with_clock: FlaskClient) -> None:
    pages = fail(idp_with_clock, 5)

    assert LOCKED in pages[4]
    assert "через 15 мин." in pages[4]


def test_locked_account_refuses_the_right_password(
    idp_with_clock: FlaskClient, clock: FakeClock
) -> None:
    fail(idp_with_clock, 5)
    clock.advance(899)

    response = sign_in(idp_with_clock, "+79000000001", "parent-demo-1")

    assert response.status_code == 200
    assert LOCKED in response.get_data(as_text=True)
    assert "через 1 мин." in response.get_data(as_text=True)


def test_lock_ends_after_its_time(idp_with_clock: FlaskClient, clock: FakeClock) -> None:
    fail(idp_with_clock, 5)
    clock.advance(900)

    assert sign_in(idp_with_clock, "+79000000001", "parent-demo-1").status_code == 303


def test_success_resets_the_count(idp_with_clock: FlaskClient) -> None:
    fail(idp_with_clock, 4)
    sign_in(idp_with_clock, "+79000000001", "parent-demo-1")

    assert "Осталось попыток: 4" in fail(idp_with_clock, 1)[0]


def test_attempts_and_duration_are_configurable(
    make_idp: t.Callable[..., Flask], clock: FakeClock
) -> None:
    client = make_idp(IDP_CLOCK=clock, IDP_LOCKOUT_ATTEMPTS=2, IDP_LOCKOUT_SECONDS=60).test_client()

    pages = fail(client, 2)

    assert "Осталось попыток: 1" in pages[0]
    assert LOCKED in pages[1] and "через 1 мин." in pages[1]
    clock.advance(60)
    assert sign_in(client, "+79000000001", "parent-demo-1").status_code == 303


def error_of(page: str) -> str:
    """Return the text of the page's error paragraph."""
    match = re.search(r'<p class="error" role="alert">([^<]*)</p>', page)
    assert match, page
    return match[1]


@pytest.mark.parametrize(
    ("existing", "unknown"),
    [
        ("+79000000001", "+79000000009"),
        ("irina.smirnova@example.test", "nobody.here@example.test"),
        ("112-233-445 95", "112-233-445 96"),
    ],
)
def test_unknown_and_existing_accounts_read_the_same(
    idp_with_clock: FlaskClient, existing: str, unknown: str
) -> None:
    def answers(login: str) -> list[tuple[int, str]]:
        replies = [sign_in(idp_with_clock, login, "wrong-password-1") for _ in range(6)]
        return [(r.status_code, error_of(r.get_data(as_text=True))) for r in replies]

    for_existing, for_unknown = answers(existing), answers(unknown)

    assert for_existing == for_unknown
    assert for_unknown[0] == (200, "Неверный логин или пароль. Осталось попыток: 4")
    assert LOCKED in for_unknown[4][1] and LOCKED in for_unknown[5][1]


def test_an_unknown_login_is_counted_however_it_is_typed(idp_with_clock: FlaskClient) -> None:
    sign_in(idp_with_clock, "+7 900 000-00-09", "wrong-password-1")

    page = sign_in(idp_with_clock, "89000000009", "wrong-password-1").get_data(as_text=True)

    assert "Осталось попыток: 3" in page


def test_garbage_logins_are_counted_like_accounts(idp_with_clock: FlaskClient) -> None:
    page = sign_in(idp_with_clock, "not a login at all", "x").get_data(as_text=True)

    assert error_of(page) == "Неверный логин или пароль. Осталось попыток: 4"


def test_lockout_page_in_english(idp_with_clock: FlaskClient) -> None:
    idp_with_clock.get("/login?lang=en")

    page = fail(idp_with_clock, 5)[4]

    assert "The account is temporarily locked" in page
