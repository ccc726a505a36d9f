"""Levels: SNILS and passport checked automatically for standard, a service centre confirms."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp_mock.levels import snils_checksum_ok
from tests.idp_mock.helpers import FakeClock
from tests.idp_mock.helpers import sign_in
from tests.idp_mock.helpers import tokens_for
from tests.idp_mock.helpers import verified_claims

DOCUMENTS = {
    "snils": "987-654-321 83",
    "birthdate": "12.05.1990",
    "passport_series": "3610",
    "passport_number": "765432",
    "passport_issued_on": "01.06.2010",
    "passport_issuer_code": "630-010",
}


@pytest.fixture
def clock() -> FakeClock:
    """Return a clock the test moves."""
    return FakeClock()


@pytest.fixture
def pavel(make_idp: t.Callable[..., Flask], clock: FakeClock) -> FlaskClient:
    """Return a client signed in as Павел Новиков, a simplified account."""
    client = make_idp(IDP_CLOCK=clock, IDP_LEVEL_CHECK_SECONDS=5).test_client()
    sign_in(client, "+79000000005", "simple-demo-5")
    return client


def level_claims(client: FlaskClient) -> dict[str, t.Any]:
    """Return the ID token claims of a fresh flow with snils and id_doc."""
    return verified_claims(client, tokens_for(client, scope="openid snils id_doc")["id_token"])


@pytest.mark.parametrize(
    "snils", ["11223344595", "12345678964", "20030040048", "14522637852", "98765432183"]
)
def test_snils_checksum_accepts_valid_numbers(snils: str) -> None:
    assert snils_checksum_ok(snils)


@pytest.mark.parametrize("snils", ["11223344596", "98765432100", "1234567896", "abcdefghijk"])
def test_snils_checksum_rejects_invalid_numbers(snils: str) -> None:
    assert not snils_checksum_ok(snils)


def test_documents_make_the_account_standard_after_the_check(
    pavel: FlaskClient, clock: FakeClock
) -> None:
    response = pavel.post("/profile/", data=DOCUMENTS)
    assert response.status_code == 303
    assert "Данные проверяются" in pavel.get("/profile/").get_data(as_text=True)
    assert level_claims(pavel)["account_level"] == "simplified"

    clock.advance(5)

    assert "стандартная" in pavel.get("/profile/").get_data(as_text=True)
    claims = level_claims(pavel)
    assert claims["account_level"] == "standard"
    assert claims["urn:esia:sbj"]["urn:esia:sbj:lvl"] == "P"
    assert claims["snils"] == "987-654-321 83"
    assert claims["passport"]["number"] == "765432"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"snils": "111-111-111 45"}, "СФР: СНИЛС не найден"),
        ({"passport_series": "4500", "passport_number": "000000"}, "МВД: паспорт недействителен"),
        ({"snils": "112-233-445 95"}, "СНИЛС уже указан в другой учётной записи"),
    ],
)
def test_known_bad_data_is_rejected_with_the_reason(
    pavel: FlaskClient, clock: FakeClock, changes: dict[str, str], reason: str
) -> None:
    pavel.post("/profile/", data={**DOCUMENTS, **changes})
    clock.advance(5)

    page = pavel.get("/profile/").get_data(as_text=True)

    assert f"Проверка не пройдена: {reason}" in page
    assert level_claims(pavel)["account_level"] == "simplified"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"snils": "987-654-321 84"}, "Неверный СНИЛС"),
        ({"passport_series": "361"}, "Серия паспорта — 4 цифры"),
        ({"passport_number": "76543"}, "Номер паспорта — 6 цифр"),
        ({"passport_issuer_code": "630010"}, "Код подразделения в формате 000-000"),
        ({"passport_issued_on": "31.02.2010"}, "дату выдачи"),
        ({"birthdate": "завтра"}, "дату рождения"),
    ],
)
def test_bad_formats_are_explained(
    pavel: FlaskClient, changes: dict[str, str], message: str
) -> None:
    response = pavel.post("/profile/", data={**DOCUMENTS, **changes})

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_zero_delay_decides_on_the_next_request(make_idp: t.Callable[..., Flask]) -> None:
    client = make_idp(IDP_LEVEL_CHECK_SECONDS=0).test_client()
    sign_in(client, "+79000000005", "simple-demo-5")

    client.post("/profile/", data=DOCUMENTS)

    assert level_claims(client)["account_level"] == "standard"


def test_service_centre_confirms_a_standard_account(idp: FlaskClient) -> None:
    sign_in(idp, "+79000000002", "parent-demo-2")

    response = idp.post("/__dev/service-centre", data={"person_id": "2", "decision": "confirm"})

    assert response.status_code == 303
    claims = level_claims(idp)
    assert claims["account_level"] == "confirmed"
    assert claims["urn:esia:sbj"]["urn:esia:sbj:lvl"] == "PR"
    assert claims["urn:esia:sbj"]["urn:esia:sbj:is_tru"] is True


def test_service_centre_refuses_a_simplified_account(idp: FlaskClient) -> None:
    page = idp.post("/__dev/service-centre", data={"person_id": "5", "decision": "confirm"})

    assert "только стандартную" in page.get_data(as_text=True)
    sign_in(idp, "+79000000005", "simple-demo-5")
    assert level_claims(idp)["account_level"] == "simplified"


def test_profile_needs_sign_in(idp: FlaskClient) -> None:
    response = idp.get("/profile/")

    assert response.headers["Location"].startswith("/login?next=")
