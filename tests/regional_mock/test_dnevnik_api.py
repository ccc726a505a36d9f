"""Dnevnik.ru API v2 identity and directory endpoints, token handling and error shapes."""

from __future__ import annotations

import typing as t

import pytest
from flask.testing import FlaskClient

from regional_mock.world import World
from tests.regional_mock.dnevnik_helpers import LOGIN
from tests.regional_mock.dnevnik_helpers import OTHER
from tests.regional_mock.dnevnik_helpers import POLINA
from tests.regional_mock.dnevnik_helpers import authorize_url
from tests.regional_mock.dnevnik_helpers import context
from tests.regional_mock.dnevnik_helpers import exchange
from tests.regional_mock.dnevnik_helpers import make_app
from tests.regional_mock.dnevnik_helpers import partner_token
from tests.regional_mock.dnevnik_helpers import sign_in_page
from tests.regional_mock.helpers import FakeClock

BIG = 2**53


@pytest.fixture
def dn(world: World, clock: FakeClock) -> FlaskClient:
    """Return a client of the Dnevnik.ru emulator."""
    return make_app(world, clock).test_client()


@pytest.fixture
def token(dn: FlaskClient) -> str:
    """Return Полина's parent's partner token."""
    return partner_token(dn)


def _get(dn: FlaskClient, path: str, token: str) -> t.Any:
    reply = dn.get(path, headers={"Access-Token": token})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


def test_context_lists_polina_with_her_school_and_class(dn: FlaskClient, token: str) -> None:
    body = context(dn, token)
    assert body["roles"] == ["EduParent"] and body["shortName"] == "Смирнова И.С."
    (child,) = body["children"]
    assert (child["lastName"], child["firstName"], child["middleName"]) == tuple(POLINA.split())
    assert child["groupIds"][0] > BIG and child["schoolIds"][0] < BIG


def test_users_me_is_the_parent_with_id_twins(dn: FlaskClient, token: str) -> None:
    me = _get(dn, "/v2/users/me", token)
    assert me["id_str"] == str(me["id"]) and me["personId_str"] == str(me["personId"])
    assert me["login"] == LOGIN[0] and me["timezone"] == "+3:00" and me["roles"] == ["EduParent"]
    assert me["fullName"] == "Смирнова Ирина Сергеевна" and me["sex"] == "Female"


def test_users_me_children_are_user_ids_and_person_children_are_persons(
    dn: FlaskClient, token: str
) -> None:
    me = _get(dn, "/v2/users/me", token)
    user_ids = _get(dn, "/v2/users/me/children", token)
    persons = _get(dn, f"/v2/person/{me['personId']}/children", token)
    same = _get(dn, f"/v2/user/{me['id']}/children", token)
    assert persons == same and len(user_ids) == 1
    assert persons[0]["userId"] == user_ids[0] and persons[0]["id"] != user_ids[0]
    assert persons[0]["id"] == context(dn, token)["children"][0]["personId"]
    assert persons[0]["sex"] == "Female" and persons[0]["shortName"] == "Смирнова П.Д."


def test_the_v2_0_prefix_serves_the_same_paths(dn: FlaskClient, token: str) -> None:
    assert _get(dn, "/v2.0/users/me", token) == _get(dn, "/v2/users/me", token)


def test_schools_groups_periods_and_catalogs(dn: FlaskClient, token: str, world: World) -> None:
    child = context(dn, token)["children"][0]
    school_id, group_id = child["schoolIds"][0], child["groupIds"][0]
    (short,) = _get(dn, "/v2/schools/person-schools", token)
    assert short["name"] == "МОУ СОШ № 12 г. Твери" and short["id_str"] == str(school_id)
    full = _get(dn, f"/v2/schools/{school_id}", token)
    assert full["uses_weighted_avg"] is True and full["markType"] == "mark5"
    (group,) = _get(dn, f"/v2/persons/{child['personId']}/edu-groups", token)
    assert group["id_str"] == str(group_id) and group["type"] == "Group"
    assert group["parallel"] == 2 and group["studyyear"] == 2025 and "journaltype" in group
    periods = _get(dn, f"/v2/edu-groups/{group_id}/reporting-periods", token)
    assert [p["number"] for p in periods] == [1, 2, 3, 4] and periods[2]["type"] == "Quarter"
    subjects = _get(dn, f"/v2/edu-groups/{group_id}/subjects", token)
    polina = world.student_by_name(POLINA)
    courses = {c.subject for c in world.courses if c.class_id == polina.class_id}
    assert {s["name"] for s in subjects} == courses
    assert all(s["id"] > BIG and s["id_str"] == str(s["id"]) for s in subjects)


def test_work_types_keep_the_weights(dn: FlaskClient, token: str, world: World) -> None:
    school_id = context(dn, token)["children"][0]["schoolIds"][0]
    types = _get(dn, f"/v2/work-types/{school_id}", token)
    by_title = {x["title"]: x for x in types}
    assert by_title["Контрольная работа"]["weight"] == 4
    assert by_title["Ответ на уроке"]["weight"] == 1
    assert set(by_title["Домашнее задание"]) == {
        "id", "id_str", "schoolId", "kindId", "kind", "title", "abbr", "weight"
    }  # fmt: skip
    assert len(types) == len(world.work_types)


def test_mark_values_list_the_five_point_scale_and_text_marks(dn: FlaskClient, token: str) -> None:
    values = _get(dn, "/v2/marks/values", token)
    assert values["mark5"][:3] == ["1-", "1", "1+"] and values["mark5"][-1] == "5+"
    assert "н/а" in values["na"] and "зч" in values["pass"]


@pytest.mark.parametrize(
    "headers, query",
    [
        ({"access-token": "{t}"}, ""),
        ({"Authorization": "Bearer {t}"}, ""),
        ({}, "?access_token={t}"),
    ],
)
def test_the_token_is_accepted_in_header_bearer_or_query(
    dn: FlaskClient, token: str, headers: dict[str, str], query: str
) -> None:
    filled = {k: v.format(t=token) for k, v in headers.items()}
    assert dn.get("/v2/users/me" + query.format(t=token), headers=filled).status_code == 200


def test_no_token_invalid_token_and_expired_token(
    dn: FlaskClient, token: str, clock: FakeClock
) -> None:
    missing = dn.get("/v2/users/me")
    assert missing.status_code == 401 and missing.get_json()["type"] == "tokenRequired"
    wrong = dn.get("/v2/users/me", headers={"Access-Token": "0" * 32})
    assert wrong.status_code == 401 and wrong.get_json()["type"] == "invalidToken"
    clock.advance(31_536_001)
    expired = dn.get("/v2/users/me", headers={"Access-Token": token})
    assert expired.status_code == 401 and expired.get_json()["type"] == "invalidToken"


@pytest.mark.parametrize(
    "spelling, code", [("short", "invalidToken"), ("long", "authorizationInvalidToken")]
)
def test_errors_with_http_200_in_both_spellings(
    world: World, clock: FakeClock, spelling: str, code: str
) -> None:
    config = {"DNEVNIK_ERRORS_WITH_200": True, "DNEVNIK_ERROR_SPELLING": spelling}
    dn = make_app(world, clock, **config).test_client()
    reply = dn.get("/v2/users/me/context", headers={"Access-Token": "f" * 32})
    assert reply.status_code == 200
    assert reply.get_json() == {"type": code, "description": "Token is invalid or expired"}


def test_the_error_style_can_be_switched_live(dn: FlaskClient, token: str) -> None:
    reply = dn.post("/__admin/dnevnik", json={"spelling": "long", "errors_with_200": True})
    assert reply.get_json() == {"spelling": "long", "errors_with_200": True}
    missing = dn.get("/v2/persons/1/edu-groups", headers={"Access-Token": token})
    assert missing.status_code == 200 and missing.get_json()["type"] == "apiResourceUnavailable"
    assert dn.post("/__admin/dnevnik", json={"spelling": "medium"}).status_code == 400


def test_a_token_without_educational_info_is_out_of_scope(dn: FlaskClient) -> None:
    signed = sign_in_page(dn, authorize_url(scope="CommonInfo"), *LOGIN)
    code = dn.get(signed.location).location.split("code=")[1].split("&")[0]
    narrow = exchange(dn, code).get_json()["accessToken"]
    reply = dn.get("/v2/schools/person-schools", headers={"Access-Token": narrow})
    assert reply.status_code == 403 and reply.get_json()["type"] == "outOfScope"
    me = _get(dn, "/v2/users/me", narrow)
    assert "email" not in me and "phone" not in me and me["firstName"] == "Ирина"


def test_another_parent_cannot_read_polina(dn: FlaskClient, token: str) -> None:
    child = context(dn, token)["children"][0]
    other = partner_token(dn.application.test_client(), *OTHER)
    assert context(dn, other)["children"] == []
    person, group = child["personId"], child["groupIds"][0]
    for path in (
        f"/v2/persons/{person}",
        f"/v2/persons/{person}/edu-groups",
        f"/v2/persons/{person}/groups/{group}/schedules?startDate=2026-03-09&endDate=2026-03-15",
        f"/v2/persons/{person}/lesson-log-entries?startDate=2026-03-01&endDate=2026-03-15",
        f"/v2/edu-groups/{group}",
    ):
        reply = dn.get(path, headers={"Access-Token": other})
        assert reply.status_code == 403 and reply.get_json()["type"] == "notOwner", path


def test_unknown_ids_paths_and_methods_have_json_errors(dn: FlaskClient, token: str) -> None:
    headers = {"Access-Token": token}
    unknown = dn.get("/v2/persons/1854320000000000001", headers=headers)
    assert unknown.status_code == 404 and unknown.get_json()["type"] == "resourceUnavailable"
    assert dn.get("/v2/no-such-thing", headers=headers).get_json()["type"] == "resourceUnavailable"
    assert dn.delete("/v2/users/me", headers=headers).get_json()["type"] == "methodNotSupported"


def test_dates_parse_like_dotnet_and_garbage_is_parameter_invalid(
    dn: FlaskClient, token: str
) -> None:
    child = context(dn, token)["children"][0]
    base = f"/v2/persons/{child['personId']}/schools/{child['schoolIds'][0]}/marks"
    headers = {"Access-Token": token}
    # Python clients put str(datetime) in the path; .NET binds it as a DateTime.
    spaced = dn.get(f"{base}/2026-03-01 00:00:00/2026-03-10 23:59:59.123456", headers=headers)
    plain = dn.get(f"{base}/2026-03-01/2026-03-10", headers=headers)
    assert spaced.status_code == 200 and spaced.get_json() == plain.get_json() != []
    reply = dn.get(f"{base}/01.03.2026/2026-03-10", headers=headers)
    assert reply.status_code == 400 and reply.get_json()["type"] == "parameterInvalid"
    backwards = dn.get(f"{base}/2026-03-10/2026-03-01", headers=headers)
    assert backwards.get_json()["type"] == "parameterInvalid"
