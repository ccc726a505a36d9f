"""/register: the Gosuslugi form, password policy, SMS and e-mail codes, a simplified account."""

from __future__ import annotations

import re
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.idp_mock.helpers import FakeClock
from tests.idp_mock.helpers import latest_code
from tests.idp_mock.helpers import sign_in
from tests.idp_mock.helpers import tokens_for
from tests.idp_mock.helpers import verified_claims

APPLICANT = {
    "family_name": "Соколова",
    "given_name": "Анна",
    "middle_name": "Викторовна",
    "phone": "+7 900 123-45-67",
    "email": "anna.sokolova@example.test",
    "password": "sokolova2026",
    "password_again": "sokolova2026",
}


def apply(client: FlaskClient, **changes: str) -> t.Any:
    """Post the registration form."""
    return client.post("/register/", data={**APPLICANT, **changes})


def confirm_url(client: FlaskClient) -> str:
    """Register Анна and return the confirmation page's path."""
    response = apply(client)
    assert response.status_code == 303, response.get_data(as_text=True)
    return t.cast(str, response.headers["Location"])


def test_registration_sends_codes_and_creates_a_simplified_account(idp: FlaskClient) -> None:
    url = confirm_url(idp)

    response = idp.post(
        url,
        data={
            "sms_code": latest_code(idp, "+79001234567"),
            "email_code": latest_code(idp, "anna.sokolova@example.test"),
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/profile/"
    claims = verified_claims(idp, tokens_for(idp)["id_token"])
    assert claims["family_name"] == "Соколова"
    assert claims["account_level"] == "simplified"
    assert claims["phone_number"] == "+79001234567"
    assert claims["email_verified"] is True


def test_new_account_signs_in_with_its_password(idp: FlaskClient) -> None:
    url = confirm_url(idp)
    idp.post(
        url,
        data={
            "sms_code": latest_code(idp, "+79001234567"),
            "email_code": latest_code(idp, "anna.sokolova@example.test"),
        },
    )
    idp.post("/logout", data={"decision": "logout"})

    assert sign_in(idp, "anna.sokolova@example.test", "sokolova2026").status_code == 303


def test_phone_alone_is_enough(idp: FlaskClient) -> None:
    url = apply(idp, email="").headers["Location"]

    response = idp.post(url, data={"sms_code": latest_code(idp, "+79001234567")})

    assert response.status_code == 303


def test_one_right_code_is_not_enough(idp: FlaskClient) -> None:
    url = confirm_url(idp)

    response = idp.post(url, data={"sms_code": latest_code(idp, "+79001234567")})

    assert response.status_code == 200
    assert "Телефон подтверждён" in response.get_data(as_text=True)
    assert sign_in(idp, "+79001234567", "sokolova2026").status_code == 200


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "short1", "password_again": "short1"}, "не менее 8 символов"),
        ({"password": "onlyletters", "password_again": "onlyletters"}, "и буквы, и цифры"),
        ({"password": "12345678", "password_again": "12345678"}, "и буквы, и цифры"),
        (
            {
                "password": "Anna.Sokolova1@example.test",
                "email": "anna.sokolova1@example.test",
                "password_again": "Anna.Sokolova1@example.test",
            },
            "не должен совпадать с логином",
        ),
        ({"password_again": "sokolova2027"}, "Пароли не совпадают"),
        ({"phone": "", "email": ""}, "Укажите мобильный телефон или электронную почту"),
        ({"phone": "12345"}, "в формате +7"),
        ({"phone": "+79000000001"}, "уже используется"),
        ({"email": "IRINA.smirnova@example.test"}, "уже используется"),
        ({"family_name": "Sokolova"}, "русские буквы"),
    ],
)
def test_invalid_applications_are_explained(
    idp: FlaskClient, changes: dict[str, str], message: str
) -> None:
    response = apply(idp, **changes)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_wrong_code_counts_attempts_then_asks_for_a_new_one(idp: FlaskClient) -> None:
    url = confirm_url(idp)
    right = latest_code(idp, "+79001234567")
    wrong = "000000" if right != "000000" else "111111"

    pages = [idp.post(url, data={"sms_code": wrong}).get_data(as_text=True) for _ in range(3)]
    after = idp.post(url, data={"sms_code": right}).get_data(as_text=True)

    assert "Осталось попыток: 2" in pages[0]
    assert "Осталось попыток: 1" in pages[1]
    assert "Попытки ввода кода исчерпаны" in pages[2]
    assert "Попытки ввода кода исчерпаны" in after


def test_resend_replaces_the_code(make_idp: t.Callable[..., Flask]) -> None:
    clock = FakeClock()
    idp = make_idp(IDP_CLOCK=clock).test_client()
    url = confirm_url(idp)
    old = latest_code(idp, "+79001234567")
    clock.advance(60)

    assert idp.post(url, data={"resend": "sms"}).status_code == 303
    new = latest_code(idp, "+79001234567")

    messages = idp.get("/__dev/outbox?format=json").get_json()["messages"]
    assert sum(m["to"] == "+79001234567" for m in messages) == 2
    if old != new:
        assert "Неверный код" in idp.post(url, data={"sms_code": old}).get_data(as_text=True)
    assert "Телефон подтверждён" in idp.post(url, data={"sms_code": new}).get_data(as_text=True)


def sent_to(client: FlaskClient, recipient: str) -> int:
    """Count the codes the outbox holds for a recipient."""
    messages = client.get("/__dev/outbox?format=json").get_json()["messages"]
    return sum(m["to"] == recipient for m in messages)


@pytest.fixture
def clock() -> FakeClock:
    """Return a clock the test moves."""
    return FakeClock()


@pytest.fixture
def timed(make_idp: t.Callable[..., Flask], clock: FakeClock) -> FlaskClient:
    """Return a client of a provider on the test clock."""
    return make_idp(IDP_CLOCK=clock).test_client()


def test_a_resend_waits_a_minute(timed: FlaskClient, clock: FakeClock) -> None:
    url = confirm_url(timed)
    clock.advance(59)

    page = timed.post(url, data={"resend": "sms"}).get_data(as_text=True)

    assert "Новый код можно запросить через 1 с" in page
    assert sent_to(timed, "+79001234567") == 1


def test_resends_stop_after_five_codes_an_hour(timed: FlaskClient, clock: FakeClock) -> None:
    url = confirm_url(timed)
    for _ in range(4):
        clock.advance(60)
        assert timed.post(url, data={"resend": "email"}).status_code == 303
    clock.advance(60)

    page = timed.post(url, data={"resend": "email"}).get_data(as_text=True)

    assert "Превышено число запросов кода" in page
    assert sent_to(timed, "anna.sokolova@example.test") == 5


def test_the_attempts_survive_a_resend(timed: FlaskClient, clock: FakeClock) -> None:
    url = confirm_url(timed)
    wrong = "000000" if latest_code(timed, "+79001234567") != "000000" else "111111"
    for _ in range(2):
        timed.post(url, data={"sms_code": wrong})
    clock.advance(60)
    timed.post(url, data={"resend": "sms"})
    right = latest_code(timed, "+79001234567")
    wrong = "000000" if right != "000000" else "111111"

    last = timed.post(url, data={"sms_code": wrong}).get_data(as_text=True)
    clock.advance(60)
    again = timed.post(url, data={"resend": "sms"}).get_data(as_text=True)

    assert "Попытки ввода кода исчерпаны. Начните регистрацию заново" in last
    assert "Попытки ввода кода исчерпаны. Начните регистрацию заново" in again
    assert sent_to(timed, "+79001234567") == 2
    assert "Телефон подтверждён" not in timed.post(url, data={"sms_code": right}).get_data(
        as_text=True
    )


def test_registering_again_does_not_get_round_the_cap(timed: FlaskClient, clock: FakeClock) -> None:
    for _ in range(5):
        confirm_url(timed)
        clock.advance(60)

    response = apply(timed)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Превышено число запросов кода. Попробуйте снова через" in page
    assert 'value="Соколова"' in page  # nothing typed is lost
    assert sent_to(timed, "+79001234567") == 5


def test_an_unknown_resend_channel_is_not_an_error(idp: FlaskClient) -> None:
    url = confirm_url(idp)

    assert idp.post(url, data={"resend": "fax"}).status_code == 200


def test_code_expires(make_idp: t.Callable[..., Flask]) -> None:
    clock = FakeClock()
    client = make_idp(IDP_CLOCK=clock, IDP_CODE_TTL=60).test_client()
    url = confirm_url(client)
    code = latest_code(client, "+79001234567")
    clock.advance(61)

    page = client.post(url, data={"sms_code": code}).get_data(as_text=True)

    assert "Срок действия кода истёк" in page


def test_outbox_page_shows_the_codes(idp: FlaskClient) -> None:
    confirm_url(idp)

    page = idp.get("/__dev/outbox").get_data(as_text=True)

    assert re.search(r"Код подтверждения: \d{6}", page)
    assert "anna.sokolova@example.test" in page


def test_dev_pages_can_be_turned_off(make_idp: t.Callable[..., Flask]) -> None:
    client = make_idp(IDP_DEV_PAGES=False).test_client()

    assert client.get("/__dev/outbox").status_code == 404
    assert client.get("/__dev/service-centre").status_code == 404


def test_registration_form_needs_csrf(make_idp: t.Callable[..., Flask]) -> None:
    client = make_idp(WTF_CSRF_ENABLED=True).test_client()

    assert apply(client).status_code == 400
