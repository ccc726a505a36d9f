"""Sign-in SMS code for accounts that turned it on: 6 digits, 300 s, 3 attempts, resend."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.idp_mock.helpers import FakeClock
from tests.idp_mock.helpers import latest_code
from tests.idp_mock.helpers import sign_in

PHONE = "+79000000002"
PASSWORD = "parent-demo-2"


def is_signed_in(client: FlaskClient) -> bool:
    """Tell whether the provider's home page greets someone."""
    return "Вы вошли как" in client.get("/").get_data(as_text=True)


def turn_on_second_factor(client: FlaskClient) -> None:
    """Sign in as Алексей, turn the SMS code on in the profile, sign out."""
    sign_in(client, PHONE, PASSWORD)
    assert client.post("/profile/second-factor", data={"decision": "on"}).status_code == 303
    client.post("/logout", data={"decision": "logout"})


@pytest.fixture
def clock() -> FakeClock:
    """Return a clock the test moves."""
    return FakeClock()


@pytest.fixture
def alexei(make_idp: t.Callable[..., Flask], clock: FakeClock) -> FlaskClient:
    """Return a signed-out client whose Алексей has the sign-in code on."""
    client = make_idp(IDP_CLOCK=clock).test_client()
    turn_on_second_factor(client)
    return client


def test_demo_people_sign_in_without_a_code(idp: FlaskClient) -> None:
    response = sign_in(idp, PHONE, PASSWORD)

    assert response.headers["Location"] == "/"
    assert is_signed_in(idp)


def test_password_then_code_signs_in_and_continues(alexei: FlaskClient) -> None:
    response = sign_in(alexei, PHONE, PASSWORD, next_path="/authorize?x=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login/code"
    assert not is_signed_in(alexei)
    assert "+7******0002" in alexei.get("/login/code").get_data(as_text=True)

    done = alexei.post("/login/code", data={"code": latest_code(alexei, PHONE)})

    assert done.status_code == 303
    assert done.headers["Location"] == "/authorize?x=1"
    assert is_signed_in(alexei)


def test_three_wrong_codes_exhaust_the_code(alexei: FlaskClient) -> None:
    sign_in(alexei, PHONE, PASSWORD)
    right = latest_code(alexei, PHONE)
    wrong = "000000" if right != "000000" else "111111"

    pages = [
        alexei.post("/login/code", data={"code": wrong}).get_data(as_text=True) for _ in range(3)
    ]
    alexei.post("/login/code", data={"code": right})

    assert "Осталось попыток: 2" in pages[0]
    assert "Попытки ввода кода исчерпаны" in pages[2]
    assert not is_signed_in(alexei)


def test_code_expires_after_its_lifetime(alexei: FlaskClient, clock: FakeClock) -> None:
    sign_in(alexei, PHONE, PASSWORD)
    code = latest_code(alexei, PHONE)
    clock.advance(301)

    page = alexei.post("/login/code", data={"code": code}).get_data(as_text=True)

    assert "Срок действия кода истёк" in page
    assert not is_signed_in(alexei)


def test_resend_sends_a_new_code_that_works(alexei: FlaskClient, clock: FakeClock) -> None:
    sign_in(alexei, PHONE, PASSWORD)
    clock.advance(301)

    assert alexei.post("/login/code", data={"resend": "1"}).status_code == 303
    alexei.post("/login/code", data={"code": latest_code(alexei, PHONE)})

    assert is_signed_in(alexei)


def test_code_page_without_a_password_step_goes_to_login(idp: FlaskClient) -> None:
    response = idp.get("/login/code")

    assert response.headers["Location"] == "/login"


def test_second_factor_can_be_turned_off(alexei: FlaskClient) -> None:
    sign_in(alexei, PHONE, PASSWORD)
    alexei.post("/login/code", data={"code": latest_code(alexei, PHONE)})
    alexei.post("/profile/second-factor", data={"decision": "off"})
    alexei.post("/logout", data={"decision": "logout"})

    assert sign_in(alexei, PHONE, PASSWORD).headers["Location"] == "/"


def wrong_code(client: FlaskClient) -> str:
    """Return a six-digit code that is not the one just sent."""
    return "000000" if latest_code(client, PHONE) != "000000" else "111111"


def sent_to_alexei(client: FlaskClient) -> int:
    """Count the codes the outbox holds for Алексей's phone."""
    messages = client.get("/__dev/outbox?format=json").get_json()["messages"]
    return sum(m["to"] == PHONE for m in messages)


def test_a_resend_waits_a_minute_after_the_last_code(alexei: FlaskClient, clock: FakeClock) -> None:
    sign_in(alexei, PHONE, PASSWORD)
    clock.advance(20)

    page = alexei.post("/login/code", data={"resend": "1"}).get_data(as_text=True)

    assert "Новый код можно запросить через 40 с" in page
    assert sent_to_alexei(alexei) == 1
    clock.advance(40)
    assert alexei.post("/login/code", data={"resend": "1"}).status_code == 303
    assert sent_to_alexei(alexei) == 2


def test_resends_stop_after_five_codes_an_hour(alexei: FlaskClient, clock: FakeClock) -> None:
    sign_in(alexei, PHONE, PASSWORD)
    for _ in range(4):
        clock.advance(60)
        assert alexei.post("/login/code", data={"resend": "1"}).status_code == 303
    clock.advance(60)

    page = alexei.post("/login/code", data={"resend": "1"}).get_data(as_text=True)

    assert "Превышено число запросов кода. Попробуйте снова через 55 мин." in page
    assert sent_to_alexei(alexei) == 5


def test_signing_in_again_does_not_get_round_the_cap(alexei: FlaskClient, clock: FakeClock) -> None:
    for _ in range(5):
        sign_in(alexei, PHONE, PASSWORD)
        clock.advance(1)

    page = sign_in(alexei, PHONE, PASSWORD).get_data(as_text=True)

    assert "Превышено число запросов кода" in page
    assert sent_to_alexei(alexei) == 5


def test_the_attempts_survive_a_resend(alexei: FlaskClient, clock: FakeClock) -> None:
    sign_in(alexei, PHONE, PASSWORD)
    for _ in range(2):
        alexei.post("/login/code", data={"code": wrong_code(alexei)})
    clock.advance(60)
    alexei.post("/login/code", data={"resend": "1"})

    page = alexei.post("/login/code", data={"code": wrong_code(alexei)}).get_data(as_text=True)

    assert "Попытки ввода кода исчерпаны. Войдите снова" in page
    assert alexei.get("/login/code").headers["Location"] == "/login"
    assert not is_signed_in(alexei)


def test_wrong_codes_count_toward_the_account_lock(alexei: FlaskClient) -> None:
    sign_in(alexei, PHONE, PASSWORD)
    for _ in range(3):
        alexei.post("/login/code", data={"code": wrong_code(alexei)})
    sign_in(alexei, PHONE, PASSWORD)  # the right password does not clear the count
    second = alexei.post("/login/code", data={"code": wrong_code(alexei)}).get_data(as_text=True)

    locked = alexei.post("/login/code", data={"code": wrong_code(alexei)}).get_data(as_text=True)

    assert "Неверный код. Осталось попыток: 1" in second
    assert "Учётная запись временно заблокирована" in locked and "через 15 мин." in locked
    page = sign_in(alexei, PHONE, PASSWORD).get_data(as_text=True)
    assert "Учётная запись временно заблокирована" in page
    assert not is_signed_in(alexei)


def test_the_lock_after_wrong_codes_ends_in_time(alexei: FlaskClient, clock: FakeClock) -> None:
    sign_in(alexei, PHONE, PASSWORD)
    for _ in range(3):
        alexei.post("/login/code", data={"code": wrong_code(alexei)})
    sign_in(alexei, PHONE, PASSWORD)
    for _ in range(2):
        alexei.post("/login/code", data={"code": wrong_code(alexei)})
    clock.advance(900)

    sign_in(alexei, PHONE, PASSWORD)
    alexei.post("/login/code", data={"code": latest_code(alexei, PHONE)})

    assert is_signed_in(alexei)


def test_the_right_code_clears_the_count(alexei: FlaskClient) -> None:
    sign_in(alexei, PHONE, PASSWORD)
    alexei.post("/login/code", data={"code": wrong_code(alexei)})
    alexei.post("/login/code", data={"code": latest_code(alexei, PHONE)})
    alexei.post("/logout", data={"decision": "logout"})

    page = sign_in(alexei, "+79000000002", "wrong-password-1").get_data(as_text=True)

    assert "Осталось попыток: 4" in page


def test_code_refusals_in_english(alexei: FlaskClient) -> None:
    alexei.get("/login?lang=en")
    sign_in(alexei, PHONE, PASSWORD)

    wrong = alexei.post("/login/code", data={"code": wrong_code(alexei)}).get_data(as_text=True)
    early = alexei.post("/login/code", data={"resend": "1"}).get_data(as_text=True)

    assert "Wrong code. Attempts left: 2" in wrong
    assert "You can ask for a new code in 60 s" in early
