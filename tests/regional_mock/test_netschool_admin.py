"""The NetSchool emulator's operator-side API: roster lookups and issuing parents' logins."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.regional_mock.helpers import sign_in

KEY = {"X-Operator-Key": "demo-operator-key"}
SOFIA = {
    "full_name": "Новикова София Павловна",
    "birth_date": "2012-10-05",
    "school": "Лицей № 3",
    "class_name": "8 «А»",
}


def test_the_operator_api_needs_the_operators_key(client: FlaskClient) -> None:
    assert client.get("/__admin/netschool/roster", query_string=SOFIA).status_code == 403
    wrong = {"X-Operator-Key": "guess"}
    assert (
        client.post("/__admin/netschool/credentials", json=SOFIA, headers=wrong).status_code == 403
    )


def test_the_roster_finds_a_student_by_name_birth_date_school_and_class(
    client: FlaskClient,
) -> None:
    def found(**changes: str) -> bool:
        reply = client.get(
            "/__admin/netschool/roster", query_string={**SOFIA, **changes}, headers=KEY
        )
        return bool(reply.get_json()["found"])

    assert found()
    assert found(class_name="8А", school="МБОУ Лицей № 3 г. Самары")
    assert not found(birth_date="2012-10-06")
    assert not found(class_name="7 «А»")
    assert not found(school="Школа № 45")
    assert not found(full_name="Новикова Софья Павловна")


def test_an_issued_login_signs_in_and_shows_the_student(client: FlaskClient) -> None:
    body = {**SOFIA, "parent_name": "Новиков Павел Олегович"}
    issued = client.post("/__admin/netschool/credentials", json=body, headers=KEY).get_json()

    assert issued["found"] is True and issued["login"] == "НовиковПО"
    assert issued["school"] == "МБОУ Лицей № 3 г. Самары"
    headers = sign_in(client, issued["login"], issued["password"])
    init = client.get("/webapi/student/diary/init", headers=headers).get_json()
    assert "Новикова София" in str(init["students"])
    assert "Кузнецова" not in str(init["students"])
    again = client.post("/__admin/netschool/credentials", json=body, headers=KEY).get_json()
    assert again["login"] == "НовиковПО2"


def test_no_login_is_issued_for_a_student_not_on_the_roster(client: FlaskClient) -> None:
    body = {**SOFIA, "birth_date": "2012-10-06", "parent_name": "Новиков Павел Олегович"}
    reply = client.post("/__admin/netschool/credentials", json=body, headers=KEY)
    assert reply.get_json() == {"found": False}
