"""Lockout: remaining attempts shown, then a temporary lock with ESIA's wording."""

from __future__ import annotations

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


def test_unknown_login_shows_no_attempt_count(idp_with_clock: FlaskClient) -> None:
    page = sign_in(idp_with_clock, "+79000000009", "whatever1").get_data(as_text=True)

    assert "Неверный логин или пароль" in page
    assert "Осталось попыток" not in page


def test_lockout_page_in_english(idp_with_clock: FlaskClient) -> None:
    idp_with_clock.get("/login?lang=en")

    page = fail(idp_with_clock, 5)[4]

    assert "The account is temporarily locked" in page
