"""MESH data endpoints serve exactly the world's records for Артём, in the note's shapes."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from regional_mock.mesh import create_app
from regional_mock.mesh.ids import MeshIds
from regional_mock.world import World
from tests.regional_mock import mesh_helpers as mh
from tests.regional_mock.conftest import TODAY

MONTH_START = TODAY - dt.timedelta(days=28)
WEEK_AHEAD = TODAY + dt.timedelta(days=7)


@pytest.fixture
def app(world: World) -> Flask:
    """Return the MESH emulator with a second, childless parent."""
    return create_app(world, {"MESH_EXTRA_ACCOUNTS": mh.EXTRA})


@pytest.fixture
def headers(client: FlaskClient) -> dict[str, str]:
    """Sign Irina in; return the family API headers."""
    return mh.api(mh.sign_in(client))


@pytest.fixture
def artem(world: World) -> t.Any:
    """Return Артём's world record."""
    return world.student_by_name(mh.ARTEM)


def _get(client: FlaskClient, path: str, headers: dict[str, str], **query: object) -> t.Any:
    reply = client.get(path, headers=headers, query_string=query)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


def test_the_profile_lists_artem_with_his_ids(
    client: FlaskClient, headers: dict, world: World
) -> None:
    body = _get(client, "/api/family/mobile/v1/profile", headers)
    (child,) = body["children"]
    assert (child["last_name"], child["first_name"]) == ("Смирнов", "Артём")
    assert child["class_name"] == "7-Б" and child["school"]["short_name"] == "ГБОУ Школа № 1535"
    ids = MeshIds(world)
    assert child["id"] == ids.student_profile_id(world.student_by_name(mh.ARTEM))
    assert body["profile"]["type"] == "parent" and body["profile"]["phone"] == "9000000001"
    session = client.post(
        "/api/ej/acl/v1/sessions", json={"auth_token": headers["Authorization"][7:]}
    )
    assert session.get_json()["profiles"][0]["id"] == body["profile"]["id"]


def test_marks_are_the_world_marks_of_the_range(
    client: FlaskClient, headers: dict, world: World, artem: t.Any
) -> None:
    sid = MeshIds(world).student_profile_id(artem)
    body = _get(
        client,
        "/api/family/web/v1/marks",
        headers,
        student_id=sid,
        **{"from": MONTH_START, "to": TODAY},
    )
    expected = world.marks_of(artem.id, MONTH_START, TODAY)
    assert [m["id"] for m in body["payload"]] == [MeshIds(world).mark_id(m.id) for m in expected]
    assert [m["value"] for m in body["payload"]] == [m.shown for m in expected]
    text = [m for m in body["payload"] if m["value"] == "зч"]
    assert text and text[0]["values"] is None
    commented = [m for m in body["payload"] if m["comment_exists"]]
    assert commented and all(m["comment"] for m in commented)
    assert any(m["weight"] == 2 and m["is_exam"] for m in body["payload"])
    assert any(m["value"] == "2" for m in body["payload"])
    numeric = next(m for m in body["payload"] if m["values"])
    assert numeric["values"][0]["grade"]["five"] == float(numeric["value"])
    assert len(numeric["created_at"]) == 19 and "+" not in numeric["created_at"]


def test_a_single_day_range_and_a_bad_range(
    client: FlaskClient, headers: dict, world: World, artem: t.Any
) -> None:
    sid = MeshIds(world).student_profile_id(artem)
    day = next(m.date for m in world.marks if m.student_id == artem.id)
    body = _get(
        client, "/api/family/web/v1/marks", headers, student_id=sid, **{"from": day, "to": day}
    )
    assert {m["date"] for m in body["payload"]} == {day.isoformat()}
    bad = client.get(f"/api/family/web/v1/marks?student_id={sid}&from=2026-03-10", headers=headers)
    assert bad.status_code == 400


def test_homework_has_attachments_and_ticks(
    client: FlaskClient, headers: dict, world: World, artem: t.Any
) -> None:
    sid = MeshIds(world).student_profile_id(artem)
    query = {"student_id": sid, "from": MONTH_START, "to": WEEK_AHEAD}
    body = _get(client, "/api/family/web/v1/homeworks", headers, **query)["payload"]
    expected = world.homework_of(artem.id, MONTH_START, WEEK_AHEAD)
    assert sorted(h["homework_id"] for h in body) == sorted(
        MeshIds(world).homework_id(h.id) for h in expected
    )
    with_files = [h for h in body if h["materials"]]
    assert with_files and any(not h["materials"] for h in body)
    url = with_files[0]["materials"][0]["urls"][0]["url"]
    assert client.get(url.replace("http://localhost", ""), headers=headers).status_code == 200
    target = body[-1]["homework_id"]
    tick = client.post(f"/api/family/web/v1/homeworks/{target}/done", headers=headers)
    assert tick.get_json() == {"success": True}
    again = _get(client, "/api/family/web/v1/homeworks", headers, **query)["payload"]
    assert next(h for h in again if h["homework_id"] == target)["is_done"] is True
    short = _get(client, "/api/family/mobile/v1/homeworks/short", headers, **query)["payload"]
    assert len(short) == len(body)


def test_the_calendar_shows_replaced_and_cancelled_lessons_and_the_meeting(
    client: FlaskClient, headers: dict, world: World, artem: t.Any
) -> None:
    ids = MeshIds(world)
    query = {"person_ids": ids.contingent_guid(artem), "begin_date": TODAY, "end_date": WEEK_AHEAD}
    query["expand"] = "marks,homework,absence_reason_id,health_status,nonattendance_reason_id"
    body = _get(
        client, "/api/eventcalendar/v1/api/events", headers | {"X-Mes-Role": "parent"}, **query
    )
    assert body["total_count"] == len(body["response"]) and body["errors"] is None
    lessons = [e for e in body["response"] if e["source"] == "PLAN"]
    assert len(lessons) == len(world.lessons_of(artem.id, TODAY, WEEK_AHEAD))
    replaced = [e for e in lessons if e["replaced"]]
    cancelled = [e for e in lessons if e["cancelled"]]
    assert len(replaced) == 1 and len(cancelled) == 1
    assert replaced[0]["replaced_teacher_id"] is not None
    assert lessons[0]["start_at"].endswith("+03:00")
    (meeting,) = [e for e in body["response"] if e["source"] == "ORGANIZER"]
    assert "Повестка" in meeting["description"] and meeting["title"].startswith("Родительское")


def test_attendance_shows_unexcused_and_illness(
    client: FlaskClient, headers: dict, world: World, artem: t.Any
) -> None:
    ids = MeshIds(world)
    query = {"person_ids": ids.contingent_guid(artem), "begin_date": MONTH_START, "end_date": TODAY}
    query |= {"expand": "absence_reason_id", "source_types": "PLAN"}
    events = _get(client, "/api/eventcalendar/v1/api/events", headers, **query)["response"]
    missed = {e["id"]: e["absence_reason_id"] for e in events if e["is_missed_lesson"]}
    by_kind = {
        a.kind: ids.schedule_item_id(a.lesson_id)
        for a in world.absences_of(artem.id, MONTH_START, TODAY)
    }
    assert missed[by_kind["unexcused"]] is None and missed[by_kind["ill"]] == 6
    notices = _get(
        client,
        "/api/family/mobile/v1/attendance/",
        headers,
        student_id=ids.student_profile_id(artem),
    )
    assert any(n["reason_id"] == 6 and n["description"] == "болезнь" for n in notices["attendance"])


def test_the_day_timetable_has_breaks_and_the_short_one_lists_lessons(
    client: FlaskClient, headers: dict, world: World, artem: t.Any
) -> None:
    sid = MeshIds(world).student_profile_id(artem)
    day = _get(client, "/api/family/mobile/v1/schedule", headers, student_id=sid, date=TODAY)
    lessons = world.lessons_of(artem.id, TODAY, TODAY)
    kinds = [a["type"] for a in day["activities"]]
    assert kinds.count("LESSON") == len(lessons) and kinds.count("BREAK") == len(lessons) - 1
    dates = f"{TODAY},{TODAY + dt.timedelta(days=1)}"
    short = _get(client, "/api/family/web/v1/schedule/short", headers, student_id=sid, dates=dates)
    assert [len(d["lessons"]) for d in short["payload"]][0] == len(lessons)


def test_the_day_timetable_flags_the_replaced_and_the_cancelled_lesson(
    client: FlaskClient, headers: dict, world: World, artem: t.Any
) -> None:
    sid, ids = MeshIds(world).student_profile_id(artem), MeshIds(world)
    changed = [x for x in world.lessons_of(artem.id, TODAY, WEEK_AHEAD) if x.status != "planned"]
    assert sorted(x.status for x in changed) == ["cancelled", "replaced"]
    for lesson in changed:
        day = _get(
            client, "/api/family/mobile/v1/schedule", headers, student_id=sid, date=lesson.date
        )
        [shown] = [
            a["lesson"]
            for a in day["activities"]
            if a["type"] == "LESSON"
            and a["lesson"]["schedule_item_id"] == ids.schedule_item_id(lesson.id)
        ]
        flags = (shown["replaced"], shown["is_cancelled"])
        assert flags == (lesson.status == "replaced", lesson.status == "cancelled")
        assert shown["subject_name"] == lesson.subject


def test_notifications_averages_and_rating(
    client: FlaskClient, headers: dict, world: World, artem: t.Any
) -> None:
    ids = MeshIds(world)
    sid, guid = ids.student_profile_id(artem), ids.contingent_guid(artem)
    notes = _get(client, "/api/family/mobile/v1/notifications/search", headers, student_id=sid)
    assert {"create_mark", "create_mark_comment", "create_homework"} <= {
        n["event_type"] for n in notes
    }
    averages = _get(client, "/api/family/web/v1/subject_marks", headers, student_id=sid)["payload"]
    assert all(float(r["average"]) <= 5 for r in averages if "average" in r)
    rank = _get(client, "/api/ej/rating/v1/rank/class", headers, personId=guid, date=TODAY)
    assert guid in {r["personId"] for r in rank} and rank[0]["rank"]["rankPlace"] == 1
    again = create_app(world).test_client()
    token = mh.sign_in(again)
    assert (
        _get(again, "/api/ej/rating/v1/rank/class", mh.api(token), personId=guid, date=TODAY)
        == rank
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/family/web/v1/marks?student_id={sid}&from=2026-03-01&to=2026-03-11",
        "/api/family/mobile/v1/homeworks?student_id={sid}&from=2026-03-01&to=2026-03-11",
        "/api/family/mobile/v1/schedule?student_id={sid}&date=2026-03-11",
        "/api/family/mobile/v1/attendance/?student_id={sid}",
        "/api/eventcalendar/v1/api/events?person_ids={guid}&begin_date=2026-03-11&end_date=2026-03-11",
        "/api/ej/rating/v1/rank/class?personId={guid}&date=2026-03-11",
    ],
)
def test_another_parent_cannot_read_artem(
    app: Flask, world: World, artem: t.Any, path: str
) -> None:
    client = app.test_client()
    token = mh.sign_in(client, *mh.OTHER)
    ids = MeshIds(world)
    url = path.format(sid=ids.student_profile_id(artem), guid=ids.contingent_guid(artem))
    reply = client.get(url, headers=mh.api(token))
    assert reply.status_code == 403
    assert _get(client, "/api/family/web/v1/profile", mh.api(token))["children"] == []


def test_an_unknown_api_path_is_a_json_404(client: FlaskClient, headers: dict) -> None:
    reply = client.get("/api/family/web/v1/no_such_thing", headers=headers)
    assert reply.status_code == 404 and reply.get_json()["type"] == "NOT_FOUND"
