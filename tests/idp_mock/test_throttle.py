"""One client address failing to sign in too often is throttled, whichever accounts it tries."""

from __future__ import annotations

import typing as t
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.idp_mock.helpers import FakeClock
from tests.idp_mock.helpers import latest_code
from tests.idp_mock.helpers import sign_in
from tests.idp_mock.test_mfa import turn_on_second_factor
from tests.support.live import serving

THROTTLED = "Слишком много неудачных попыток входа с вашего адреса"
# Different accounts, existing and not: the throttle counts the address, not an account.
LOGINS = ["+79000000001", "+79000000009", "a.kuznetsov@example.test", "nobody@example.test"]


@pytest.fixture
def clock() -> FakeClock:
    """Return a clock the test moves."""
    return FakeClock()


@pytest.fixture
def idp_app(make_idp: t.Callable[..., Flask], clock: FakeClock) -> Flask:
    """Return a provider that blocks an address after four failures for ten minutes."""
    return make_idp(IDP_CLOCK=clock, IDP_ADDRESS_ATTEMPTS=4, IDP_ADDRESS_SECONDS=600)


def from_address(app: Flask, address: str) -> FlaskClient:
    """Return a browser whose requests come from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def spray(client: FlaskClient) -> None:
    """Try one wrong password on each of four accounts."""
    for login in LOGINS:
        assert sign_in(client, login, "wrong-password-1").status_code == 200


def test_an_address_trying_many_accounts_is_blocked_with_a_clear_message(idp_app: Flask) -> None:
    attacker = from_address(idp_app, "203.0.113.7")
    spray(attacker)

    refused = sign_in(attacker, "+79000000001", "parent-demo-1")

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == 600
    page = refused.get_data(as_text=True)
    assert f"{THROTTLED}. Попробуйте снова через 10 мин." in page
    assert 'value="+79000000001"' in page  # what was typed stays in the form
    assert "Вы вошли как" not in attacker.get("/").get_data(as_text=True)


@pytest.mark.parametrize("login", ["+79000000002", "+79000000008"])
def test_the_block_reads_the_same_for_every_account(idp_app: Flask, login: str) -> None:
    attacker = from_address(idp_app, "203.0.113.7")
    spray(attacker)

    refused = sign_in(attacker, login, "whatever-1")

    assert refused.status_code == 429
    assert f"{THROTTLED}. Попробуйте снова через 10 мин." in refused.get_data(as_text=True)


def test_other_addresses_are_not_blocked(idp_app: Flask) -> None:
    spray(from_address(idp_app, "203.0.113.7"))

    assert (
        sign_in(from_address(idp_app, "198.51.100.2"), "+79000000001", "parent-demo-1").status_code
        == 303
    )


def test_the_block_ends_after_its_time(idp_app: Flask, clock: FakeClock) -> None:
    attacker = from_address(idp_app, "203.0.113.7")
    spray(attacker)
    clock.advance(600)

    assert sign_in(attacker, "+79000000001", "parent-demo-1").status_code == 303


def test_failures_spread_over_more_than_the_window_do_not_block(
    idp_app: Flask, clock: FakeClock
) -> None:
    client = from_address(idp_app, "203.0.113.7")
    for login in LOGINS:
        sign_in(client, login, "wrong-password-1")
        clock.advance(200)

    assert sign_in(client, "+79000000003", "granny-demo-3").status_code == 303


def test_wrong_sign_in_codes_count_for_the_address(idp_app: Flask) -> None:
    client = from_address(idp_app, "203.0.113.7")
    turn_on_second_factor(client)
    sign_in(client, "+79000000002", "parent-demo-2")
    wrong = "000000" if latest_code(client, "+79000000002") != "000000" else "111111"
    for _ in range(3):
        client.post("/login/code", data={"code": wrong})
    sign_in(client, "+79000000009", "wrong-password-1")

    refused = sign_in(client, "+79000000001", "parent-demo-1")

    assert refused.status_code == 429


def test_the_block_in_english(idp_app: Flask) -> None:
    attacker = from_address(idp_app, "203.0.113.7")
    attacker.get("/login?lang=en")
    spray(attacker)

    page = sign_in(attacker, "+79000000001", "parent-demo-1").get_data(as_text=True)

    assert "Too many failed sign-in attempts from your address. Try again in 10 min." in page


def test_concurrent_failures_for_a_new_login_are_all_answered(
    make_idp: t.Callable[..., Flask], idp_database_url: str
) -> None:
    app = make_idp(IDP_DATABASE_URL=idp_database_url)
    with serving(app) as url:

        def attempt(_: int) -> int:
            data = {"login": "+79000000077", "password": "wrong-password-1"}
            return requests.post(f"{url}/login", data=data, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(attempt, range(8)))

    assert statuses == [200] * 8
