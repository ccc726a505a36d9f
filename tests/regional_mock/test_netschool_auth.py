"""The NetSchool emulator's sign-in handshake, failures, lockout and session lifetime."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.regional_mock.helpers import ALEXEY
from tests.regional_mock.helpers import IRINA
from tests.regional_mock.helpers import FakeClock
from tests.regional_mock.helpers import attempt
from tests.regional_mock.helpers import hashes
from tests.regional_mock.helpers import sign_in


def test_logindata_sets_a_32_hex_session_cookie(client: FlaskClient) -> None:
    reply = client.get("/webapi/logindata")
    assert reply.status_code == 200 and reply.get_json()["schoolLogin"] is True
    cookie = client.get_cookie("NSSESSIONID")
    assert cookie is not None and re.fullmatch(r"[0-9a-f]{32}", cookie.value)


def test_getdata_gives_digit_strings_and_a_fresh_salt_per_attempt(client: FlaskClient) -> None:
    first = client.post("/webapi/auth/getdata").get_json()
    second = client.post("/webapi/auth/getdata").get_json()
    assert set(first) == {"lt", "ver", "salt"}
    assert all(value.isdigit() for value in first.values())
    assert first["salt"] != second["salt"]


def test_a_cyrillic_password_hashed_as_cp1251_signs_in(client: FlaskClient) -> None:
    reply = attempt(client, *IRINA)
    body = reply.get_json()
    assert reply.status_code == 200
    assert body["at"].isdigit() and body["timeOut"] == 3_600_000
    assert body["accountInfo"]["userRoles"][0]["role"]["name"] == "Родитель"
    assert body["accountInfo"]["currentOrganization"]["id"] == 63003


def test_the_same_password_hashed_as_utf8_is_refused(client: FlaskClient) -> None:
    reply = attempt(client, *IRINA, encoding="utf-8")
    assert reply.status_code == 409
    assert "Неправильный пароль" in reply.get_json()["message"]


def test_a_wrong_password_gets_409_with_the_attempts_left(client: FlaskClient) -> None:
    reply = attempt(client, IRINA[0], "Пароль-2025")
    assert reply.status_code == 409
    assert reply.get_json() == {
        "message": "Неправильный пароль или имя пользователя. Осталось попыток: 2"
    }


def test_three_failures_lock_the_login_for_a_minute(client: FlaskClient, clock: FakeClock) -> None:
    messages = [attempt(client, *ALEXEY[:1], "неверный").get_json()["message"] for _ in range(3)]
    assert messages[1].endswith("Осталось попыток: 1")
    assert messages[2].startswith("Вы совершили 3 неудачные попытки входа")
    refused = attempt(client, *ALEXEY)
    assert (
        refused.status_code == 409 and "не ранее чем через минуту" in refused.get_json()["message"]
    )
    clock.advance(61)
    assert attempt(client, *ALEXEY).status_code == 200


def test_upper_case_field_names_are_accepted(client: FlaskClient) -> None:
    client.get("/webapi/logindata")
    meta = client.post("/webapi/auth/getdata").get_json()
    pw, pw2 = hashes(IRINA[1], meta["salt"])
    form = {"LoginType": 1, "SCID": 63003, "UN": IRINA[0], "PW": pw, "pw2": pw2, **meta}
    form.pop("salt")
    assert client.post("/webapi/login", data=form).status_code == 200


def test_a_salt_serves_one_attempt_only(client: FlaskClient) -> None:
    client.get("/webapi/logindata")
    meta = client.post("/webapi/auth/getdata").get_json()
    pw, pw2 = hashes(IRINA[1], meta["salt"])
    form = {"loginType": 1, "scid": 63003, "un": IRINA[0], "pw": pw, "pw2": pw2}
    form |= {"lt": meta["lt"], "ver": meta["ver"]}
    assert client.post("/webapi/login", data=form).status_code == 200
    assert client.post("/webapi/login", data=form).status_code == 409


def test_an_unknown_school_or_another_schools_id_is_refused(client: FlaskClient) -> None:
    assert attempt(client, *IRINA, scid=99999).status_code == 409
    assert attempt(client, *IRINA, scid=63045).status_code == 409


def test_data_calls_need_the_at_header_and_the_cookie(client: FlaskClient) -> None:
    headers = sign_in(client, *IRINA)
    assert client.get("/webapi/student/diary/init").status_code == 401
    assert client.get("/webapi/student/diary/init", headers={"at": "123"}).status_code == 401
    assert client.get("/webapi/student/diary/init", headers=headers).status_code == 200
    client.delete_cookie("NSSESSIONID")
    assert client.get("/webapi/student/diary/init", headers=headers).status_code == 401


def test_an_idle_session_expires_after_timeout(client: FlaskClient, clock: FakeClock) -> None:
    headers = sign_in(client, *IRINA)
    clock.advance(3000)
    assert client.get("/webapi/context", headers=headers).status_code == 200
    clock.advance(3000)
    assert client.get("/webapi/context", headers=headers).status_code == 200
    clock.advance(3601)
    assert client.get("/webapi/context", headers=headers).status_code == 401


def test_context_expired_answers_a_bare_boolean(client: FlaskClient) -> None:
    at = sign_in(client, *IRINA)["at"]
    assert client.get(f"/webapi/context/expired?token={at}").get_json() is False
    assert client.get("/webapi/context/expired?token=42").get_json() is True


def test_logout_ends_the_session(client: FlaskClient) -> None:
    headers = sign_in(client, *IRINA)
    assert client.post("/webapi/auth/logout", headers=headers).status_code == 200
    assert client.get("/webapi/context", headers=headers).status_code == 401
    assert client.post("/webapi/auth/logout", headers=headers).status_code == 401


def test_school_search_needs_a_name(client: FlaskClient) -> None:
    assert client.get("/webapi/schools/search").status_code == 403
    assert client.get("/webapi/schools/search?name=").status_code == 403


def test_school_search_matches_a_substring_and_suffixes_the_city(client: FlaskClient) -> None:
    [lyceum] = client.get("/webapi/schools/search?name=лицей № 3").get_json()
    assert lyceum == {
        "id": 63003,
        "name": "МБОУ Лицей № 3 г. Самары (г. Самара) ",
        "shortName": "МБОУ Лицей № 3 г. Самары",
        "inn": "6315012345",
        "ogrn": "1026300953456",
        "cityId": 63001,
        "provinceId": 0,
        "address": "г. Самара",
    }
    assert client.get("/webapi/schools/search?name=Гимназия № 999").get_json() == []
    everything = client.get("/webapi/schools/search?name=У").get_json()
    assert {s["id"] for s in everything} == {63003, 63045, 63112}


def test_the_school_can_change_a_password_and_old_sessions_end() -> None:
    from regional_mock.netschool import create_app
    from regional_mock.world import build_world

    app = create_app(build_world(today=__import__("datetime").date(2026, 11, 27)))
    client = app.test_client()
    changed = client.post(
        "/__admin/netschool/password", json={"login": "СмирноваИС", "password": "Новый-2027"}
    )
    assert changed.status_code == 200
    assert client.post("/__admin/netschool/password", json={"login": "nobody"}).status_code == 400
