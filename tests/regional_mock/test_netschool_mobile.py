"""Attendance through the mobile API: pincode -> /connect/token -> classmeetings."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient

from regional_mock.world import World
from tests.regional_mock.conftest import TODAY
from tests.regional_mock.helpers import ALEXEY
from tests.regional_mock.helpers import IRINA
from tests.regional_mock.helpers import MAXIM
from tests.regional_mock.helpers import sign_in

DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


def _token(client: FlaskClient, login: tuple[str, str], secret: str = "demo-mobile-secret"):
    code = client.get("/webapi/mysettings/mobile/pincode", headers=sign_in(client, *login))
    form = {
        "grant_type": DEVICE_CODE,
        "device_code": code.get_json()["userCode"],
        "client_id": "parent-mobile",
        "client_secret": secret,
        "appVersion": "2.0.3",
    }
    return client.post("/connect/token", data=form)


def _meetings(client: FlaskClient, token: str, student: int, start: dt.date, end: dt.date):
    query = f"studentIds={student}&startDate={start}&endDate={end}&lng=ru&appVersion=2.0.3"
    return client.get(
        f"/api/mobile/classmeetings?{query}", headers={"Authorization": f"Bearer {token}"}
    )


def test_the_pincode_buys_a_sixty_day_bearer_token(client: FlaskClient) -> None:
    body = _token(client, IRINA).get_json()
    assert body["expires_in"] == 5_184_000 and body["token_type"] == "Bearer"
    assert body["access_token"] and body["refresh_token"]


def test_a_wrong_client_secret_or_a_reused_code_is_refused(client: FlaskClient) -> None:
    assert _token(client, IRINA, secret="guess").status_code == 401
    code = client.get("/webapi/mysettings/mobile/pincode", headers=sign_in(client, *IRINA))
    form = {
        "grant_type": DEVICE_CODE,
        "device_code": code.get_json()["userCode"],
        "client_id": "parent-mobile",
        "client_secret": "demo-mobile-secret",
    }
    assert client.post("/connect/token", data=form).status_code == 200
    reused = client.post("/connect/token", data=form)
    assert reused.status_code == 400 and reused.get_json() == {"error": "invalid_grant"}


def test_classmeetings_carry_the_attendance_codes(client: FlaskClient, world: World) -> None:
    token = _token(client, IRINA).get_json()["access_token"]
    maxim = world.student_by_name(MAXIM)
    start = TODAY - dt.timedelta(days=27)
    body = _meetings(client, token, maxim.id, start, TODAY).get_json()
    codes = {item["classmeetingId"]: item["attendance"] for item in body}
    absences = world.absences_of(maxim.id, start, TODAY)
    expected = {"ill": "Б", "unexcused": "НП", "excused": "УП", "late": "ОП"}
    assert {a.lesson_id: expected[a.kind] for a in absences} == {
        k: v for k, v in codes.items() if v
    }
    assert {"Б", "НП"} <= set(codes.values())
    first = body[0]
    lesson = world.lesson(first["classmeetingId"])
    assert first["teachers"] == [
        {"id": lesson.teacher_id, "name": world.teacher(lesson.teacher_id).full_name}
    ]
    assert first["startTime"] == f"{lesson.date}T{lesson.starts_at}:00"


def test_a_bad_bearer_gets_401_and_another_login_s_child_403(
    client: FlaskClient, world: World
) -> None:
    maxim = world.student_by_name(MAXIM).id
    assert _meetings(client, "forged", maxim, TODAY, TODAY).status_code == 401
    token = _token(client, ALEXEY).get_json()["access_token"]
    assert _meetings(client, token, maxim, TODAY, TODAY).status_code == 403


def test_a_refresh_token_replaces_the_access_token(client: FlaskClient, world: World) -> None:
    first = _token(client, IRINA).get_json()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": "parent-mobile",
        "client_secret": "demo-mobile-secret",
    }
    second = client.post("/connect/token", data=form).get_json()
    maxim = world.student_by_name(MAXIM).id
    assert _meetings(client, first["access_token"], maxim, TODAY, TODAY).status_code == 401
    assert _meetings(client, second["access_token"], maxim, TODAY, TODAY).status_code == 200
