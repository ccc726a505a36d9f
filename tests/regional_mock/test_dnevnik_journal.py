"""Dnevnik.ru API v2 marks, schedules, homework and attendance serve exactly the world's month."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from flask.testing import FlaskClient

from regional_mock.dnevnik_ru import ids
from regional_mock.world import World
from tests.regional_mock.conftest import TODAY
from tests.regional_mock.dnevnik_helpers import POLINA
from tests.regional_mock.dnevnik_helpers import context
from tests.regional_mock.dnevnik_helpers import make_app
from tests.regional_mock.dnevnik_helpers import partner_token
from tests.regional_mock.helpers import FakeClock

BIG = 2**53
MARK_KEYS = {
    "id", "id_str", "type", "value", "textValue", "person", "person_str", "work", "work_str",
    "lesson", "lesson_str", "number", "date", "workType", "mood", "use_avg_calc",
}  # fmt: skip


@pytest.fixture
def dn(world: World, clock: FakeClock) -> FlaskClient:
    """Return a client holding Полина's parent's token in its default headers."""
    client = make_app(world, clock).test_client()
    token = partner_token(client)
    client.environ_base["HTTP_ACCESS_TOKEN"] = token
    return client


@pytest.fixture
def ctx(dn: FlaskClient) -> dict[str, t.Any]:
    """Return Полина's person, school and group ids."""
    child = context(dn, dn.environ_base["HTTP_ACCESS_TOKEN"])["children"][0]
    return {"p": child["personId"], "s": child["schoolIds"][0], "g": child["groupIds"][0]}


def _get(dn: FlaskClient, path: str) -> t.Any:
    reply = dn.get(path)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


def test_marks_for_a_range_are_the_world_s_marks(dn: FlaskClient, ctx: dict, world: World) -> None:
    polina = world.student_by_name(POLINA)
    marks = _get(dn, f"/v2/persons/{ctx['p']}/schools/{ctx['s']}/marks/{world.first_day}/{TODAY}")
    expected = world.marks_of(polina.id, world.first_day, TODAY)
    assert [m["id_str"] for m in marks] == [str(ids.encode("mark", m.id)) for m in expected]
    assert [m["value"] for m in marks] == [m.shown for m in expected]
    assert all(set(m) == MARK_KEYS for m in marks)
    assert all(m["id"] > BIG and m["id_str"] == str(m["id"]) for m in marks)
    assert all(
        m["lesson_str"] == str(m["lesson"]) and m["work_str"] == str(m["work"]) for m in marks
    )
    assert all(len(m["date"]) == 23 and m["date"][19] == "." for m in marks)


def test_the_text_mark_is_kept_as_text_and_left_out_of_averages(
    dn: FlaskClient, ctx: dict, world: World
) -> None:
    marks = _get(dn, f"/v2/persons/{ctx['p']}/schools/{ctx['s']}/marks/{world.first_day}/{TODAY}")
    (text,) = [m for m in marks if m["value"] == "н/а"]
    assert text["textValue"] == "н/а" and text["type"] == "na" and text["use_avg_calc"] is False
    numeric = [m for m in marks if m["type"] == "mark5"]
    assert {m["mood"] for m in numeric if m["value"] == "2"} == {"Bad"}
    assert {m["mood"] for m in numeric if m["value"] == "5"} == {"Good"}


def test_a_weighted_test_is_found_through_its_work_type(
    dn: FlaskClient, ctx: dict, world: World
) -> None:
    marks = _get(dn, f"/v2/persons/{ctx['p']}/schools/{ctx['s']}/marks/{world.first_day}/{TODAY}")
    weights = {w["id"]: w["weight"] for w in _get(dn, f"/v2/work-types/{ctx['s']}")}
    assert max(weights[m["workType"]] for m in marks) == 4


def test_marks_by_subject_and_by_group_split_the_same_marks(
    dn: FlaskClient, ctx: dict, world: World
) -> None:
    span = f"{world.first_day}/{world.last_day}"
    every = _get(dn, f"/v2/persons/{ctx['p']}/edu-groups/{ctx['g']}/marks/{span}")
    subjects = _get(dn, f"/v2/edu-groups/{ctx['g']}/subjects")
    by_subject = [
        m
        for s in subjects
        for m in _get(dn, f"/v2/persons/{ctx['p']}/subjects/{s['id_str']}/marks/{span}")
    ]
    assert sorted(m["id"] for m in by_subject) == sorted(m["id"] for m in every)


def test_recent_marks_bundle_the_newest_marks(dn: FlaskClient, ctx: dict, world: World) -> None:
    body = _get(dn, f"/v2/persons/{ctx['p']}/group/{ctx['g']}/recentmarks?limit=1")
    assert set(body) == {
        "marks", "criteriabasedmarks", "works", "subjects", "workTypes", "lessons",
        "lessonLogEntries",
    }  # fmt: skip
    subject_of = {lesson["id"]: lesson["subject"]["id"] for lesson in body["lessons"]}
    per_subject = [subject_of[m["lesson"]] for m in body["marks"]]
    assert len(per_subject) == len(set(per_subject))
    assert {w["id"] for w in body["works"]} == {m["work"] for m in body["marks"]}


def test_the_average_is_a_bare_weighted_number(dn: FlaskClient, ctx: dict) -> None:
    periods = _get(dn, f"/v2/edu-groups/{ctx['g']}/reporting-periods")
    current = next(p for p in periods if p["start"] <= f"{TODAY}" <= p["finish"])
    value = _get(dn, f"/v2/persons/{ctx['p']}/reporting-periods/{current['id_str']}/avg-mark")
    assert isinstance(value, float) and 2 <= value <= 5


def test_the_schedule_serves_the_week_s_lessons(dn: FlaskClient, ctx: dict, world: World) -> None:
    polina = world.student_by_name(POLINA)
    start, end = TODAY - dt.timedelta(days=2), TODAY + dt.timedelta(days=9)
    body = _get(
        dn, f"/v2/persons/{ctx['p']}/groups/{ctx['g']}/schedules?startDate={start}&endDate={end}"
    )
    lessons = [x for d in body["days"] for x in d["lessons"]]
    expected = [x for x in world.lessons_of(polina.id, start, end) if x.status != "cancelled"]
    assert [x["id"] for x in lessons] == [ids.encode("lesson", x.id) for x in expected]
    assert all(d["date"].endswith("T00:00:00") for d in body["days"])
    assert lessons[0]["hours"] == f"{expected[0].starts_at} - {expected[0].ends_at}"
    assert lessons[0]["date"] == f"{expected[0].date}T{expected[0].starts_at}:00"
    replaced = next(x for x in world.lessons_of(polina.id, start, end) if x.status == "replaced")
    shown = next(x for x in lessons if x["id"] == ids.encode("lesson", replaced.id))
    subject_names = {s["id"]: s["name"] for d in body["days"] for s in d["subjects"]}
    assert subject_names[shown["subjectId"]] == replaced.subject
    assert body["days"][-1]["nextDate"] is None or body["days"][-1]["nextDate"] > f"{end}"


def test_a_schedule_day_bundles_marks_homework_and_absences(
    dn: FlaskClient, ctx: dict, world: World
) -> None:
    polina = world.student_by_name(POLINA)
    ill = next(a for a in world.absences_of(polina.id, world.first_day, TODAY) if a.kind == "ill")
    query = f"startDate={ill.date}&endDate={ill.date}"
    (day,) = _get(dn, f"/v2/persons/{ctx['p']}/groups/{ctx['g']}/schedules?{query}")["days"]
    entries = {e["lesson"]: e["status"] for e in day["lessonLogEntries"]}
    assert entries[ids.encode("lesson", ill.lesson_id)] == "Ill"
    due = world.homework_of(polina.id, ill.date, ill.date)
    assert [h["id"] for h in day["homeworks"]] == [ids.encode("homework", h.id) for h in due]
    assert {t["role"] for t in day["teachers"]} == {"Teacher"}


def test_homework_bundle_serves_the_world_s_homework(
    dn: FlaskClient, ctx: dict, world: World
) -> None:
    polina = world.student_by_name(POLINA)
    query = f"startDate={world.first_day}&endDate={world.last_day}"
    body = _get(dn, f"/v2/persons/{ctx['p']}/school/{ctx['s']}/homeworks?{query}")
    expected = world.homework_of(polina.id, world.first_day, world.last_day)
    assert [w["text"] for w in body["works"]] == [h.text for h in expected]
    assert all(
        w["type"] == "Homework" and w["tasks"][0]["person"] == ctx["p"] for w in body["works"]
    )
    with_files = [w for w in body["works"] if w["files"]]
    assert with_files and {f["id"] for f in body["files"]} == {
        i for w in with_files for i in w["files"]
    }
    download = dn.get(body["files"][0]["downloadUrl"].replace("http://localhost", ""))
    assert download.status_code == 200 and download.data.startswith("Демо-файл".encode())


def test_attendance_serves_the_world_s_absences(dn: FlaskClient, ctx: dict, world: World) -> None:
    polina = world.student_by_name(POLINA)
    query = f"startDate={world.first_day}&endDate={world.last_day}"
    entries = _get(dn, f"/v2/persons/{ctx['p']}/lesson-log-entries?{query}")
    expected = world.absences_of(polina.id, world.first_day, world.last_day)
    kinds = {"ill": "Ill", "unexcused": "Absent", "excused": "Pass", "late": "Late"}
    assert [(e["lesson"], e["status"]) for e in entries] == [
        (ids.encode("lesson", a.lesson_id), kinds[a.kind]) for a in expected
    ]
    assert all(
        set(e)
        == {"person", "person_str", "lesson", "lesson_str", "comment", "status", "createdDate"}
        for e in entries
    )
    assert _get(dn, "/v2/lesson-log-entries/statuses") == [
        "Attend",
        "Absent",
        "Ill",
        "Late",
        "Pass",
    ]


def test_a_lesson_has_a_nested_subject_and_full_works(dn: FlaskClient, world: World) -> None:
    polina = world.student_by_name(POLINA)
    mark = world.marks_of(polina.id, world.first_day, TODAY)[0]
    lesson = _get(dn, f"/v2/lessons/{ids.encode('lesson', mark.lesson_id)}")
    assert lesson["subject"]["name"] == mark.subject and lesson["id_str"] == str(lesson["id"])
    assert ids.encode("work", mark.id) in {w["id"] for w in lesson["works"]}
    assert lesson["teachers_str"] == [str(x) for x in lesson["teachers"]]


def test_cancelled_lessons_are_not_served(dn: FlaskClient, world: World) -> None:
    polina = world.student_by_name(POLINA)
    cancelled = next(
        x
        for x in world.lessons_of(polina.id, world.first_day, world.last_day)
        if x.status == "cancelled"
    )
    reply = dn.get(f"/v2/lessons/{ids.encode('lesson', cancelled.id)}")
    assert reply.status_code == 404
