"""The school day's admin API, page and budget figures, shown on the NetSchool emulator."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from regional_mock import school_day
from regional_mock.faults import Faults
from regional_mock.faults import FaultSettings
from regional_mock.netschool import create_app
from regional_mock.world import World
from tests.regional_mock.conftest import TODAY
from tests.regional_mock.day_helpers import coming_lesson
from tests.regional_mock.day_helpers import held_lesson
from tests.regional_mock.day_helpers import other_subject
from tests.regional_mock.helpers import IRINA
from tests.regional_mock.helpers import MAXIM
from tests.regional_mock.helpers import FakeClock
from tests.regional_mock.helpers import sign_in

WEEK = {"weekStart": TODAY - dt.timedelta(days=14), "weekEnd": TODAY + dt.timedelta(days=14)}


@pytest.fixture
def at(client: FlaskClient) -> dict[str, str]:
    """Sign Максим's mother in; return the data calls' headers."""
    return sign_in(client, *IRINA)


def _diary(client: FlaskClient, at: dict[str, str], world: World) -> list[dict[str, t.Any]]:
    """Return every lesson of Максим's diary around today."""
    query = {"studentId": world.student_by_name(MAXIM).id, **WEEK}
    reply = client.get("/webapi/student/diary", headers=at, query_string=query)
    assert reply.status_code == 200
    return [x for day in reply.get_json()["weekDays"] for x in day["lessons"]]


def _assignments(lessons: list[dict[str, t.Any]]) -> dict[int, dict[str, t.Any]]:
    return {a["id"]: a for x in lessons for a in x["assignments"]}


def test_a_mark_is_added_edited_and_deleted_in_the_diary(
    client: FlaskClient, at: dict[str, str], world: World
) -> None:
    lesson = held_lesson(world, MAXIM)
    known = {m.id for m in world.marks} | {h.id for h in world.homework}
    body = {"student": "Максим", "date": lesson.date.isoformat(), "subject": lesson.subject}
    added = client.post("/__admin/day/marks", json=body | {"value": 5, "comment": "Молодец"})
    assert added.status_code == 201
    mark_id = added.get_json()["mark"]["id"]
    assert mark_id not in known
    shown = _assignments(_diary(client, at, world))[mark_id]
    assert (shown["mark"]["mark"], shown["markComment"]["name"]) == (5, "Молодец")
    assert shown["classMeetingId"] == lesson.id

    edited = client.patch(f"/__admin/day/marks/{mark_id}", json={"value": 3})
    assert edited.status_code == 200 and edited.get_json()["mark"]["id"] == mark_id
    assert _assignments(_diary(client, at, world))[mark_id]["mark"]["mark"] == 3

    assert client.delete(f"/__admin/day/marks/{mark_id}").get_json() == {"deleted": mark_id}
    assert mark_id not in _assignments(_diary(client, at, world))
    assert client.delete(f"/__admin/day/marks/{mark_id}").status_code == 404


def test_a_world_mark_keeps_its_id_when_edited(
    client: FlaskClient, at: dict[str, str], world: World
) -> None:
    maxim = world.student_by_name(MAXIM)
    mark = next(m for m in world.marks_of(maxim.id, *WEEK.values()) if m.kind == "numeric")
    new = 2 if mark.value != 2 else 5
    reply = client.patch(
        f"/__admin/day/marks/{mark.id}", json={"value": new, "comment": "Пересдача"}
    )
    assert reply.status_code == 200
    shown = _assignments(_diary(client, at, world))[mark.id]
    assert (shown["mark"]["mark"], shown["markComment"]["name"]) == (new, "Пересдача")


def test_cancelled_lessons_vanish_and_replaced_ones_show_the_new_subject(
    client: FlaskClient, at: dict[str, str], world: World
) -> None:
    """NetSchool's diary has no change field (netschool.md §2.4), as for generated changes."""
    lesson = coming_lesson(world, MAXIM)
    subject = other_subject(world, lesson)
    replaced = client.post(f"/__admin/day/lessons/{lesson.id}/replace", json={"subject": subject})
    assert replaced.get_json()["lesson"]["status"] == "replaced"
    query = {"studentId": world.student_by_name(MAXIM).id, "weekStart": lesson.date}
    query["weekEnd"] = lesson.date
    diary = client.get("/webapi/student/diary", headers=at, query_string=query).get_json()
    shown = next(x for x in diary["weekDays"][0]["lessons"] if x["classmeetingId"] == lesson.id)
    assert shown["subjectName"] == subject and set(shown) == set(_diary(client, at, world)[0])

    assert client.post(f"/__admin/day/lessons/{lesson.id}/cancel").status_code == 200
    diary = client.get("/webapi/student/diary", headers=at, query_string=query).get_json()
    assert lesson.id not in {x["classmeetingId"] for d in diary["weekDays"] for x in d["lessons"]}


def test_homework_and_a_meeting_appear(
    client: FlaskClient, at: dict[str, str], world: World
) -> None:
    lesson = coming_lesson(world, MAXIM)
    reply = client.post("/__admin/day/homework", json={"lesson_id": lesson.id, "text": "§ 12"})
    homework = reply.get_json()["homework"]
    assert reply.status_code in (200, 201) and homework["due_lesson_id"] == lesson.id
    again = client.post("/__admin/day/homework", json={"lesson_id": lesson.id, "text": "§ 13"})
    assert again.status_code == 200 and again.get_json()["homework"]["id"] == homework["id"]
    shown = _assignments(_diary(client, at, world))[homework["id"]]
    assert (shown["typeId"], shown["assignmentName"]) == (3, "§ 13")

    body = {"student": MAXIM, "starts_at": "2026-03-13T18:30", "place": "каб. 210"}
    body |= {"title": "Собрание о ЕГЭ", "agenda": ["Сроки", "Пробники"]}
    meeting = client.post("/__admin/day/meetings", json=body)
    assert meeting.status_code == 201
    news = client.get("/webapi/announcements", headers=at).get_json()
    (item,) = [x for x in news if x["id"] == meeting.get_json()["event"]["id"]]
    assert item["name"] == "Собрание о ЕГЭ" and "13.03.2026 в&amp;#160;18:30" in item["description"]
    assert news[0] is not None and news[0]["id"] == item["id"]  # newest first


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/__admin/day/marks", {"student": "Максим", "value": 5}, "lesson_id"),
        ("/__admin/day/marks", {"value": 5, "lesson_id": 1}, "student"),
        ("/__admin/day/marks", {"student": "Максим", "value": 7, "date": "x"}, "date"),
        ("/__admin/day/marks", {"student": 583103, "lesson_id": "abc", "value": 5}, "lesson_id"),
        ("/__admin/day/marks", {"student": "Максим", "colour": "red"}, "colour"),
        ("/__admin/day/absences", {"student": "Максим", "kind": "ill"}, "lesson_id"),
        ("/__admin/day/homework", {"text": "§ 1"}, "lesson_id"),
        ("/__admin/day/meetings", {"student": "Максим", "place": "зал"}, "starts_at"),
        ("/__admin/day/meetings", {"student": "Максим", "starts_at": "завтра"}, "starts_at"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    client: FlaskClient, path: str, body: dict[str, t.Any], field: str
) -> None:
    reply = client.post(path, json=body)
    assert reply.status_code == 400, reply.get_json()
    assert reply.get_json()["field"] == field and reply.get_json()["error"]


def test_checks_that_need_the_world(client: FlaskClient, world: World) -> None:
    lesson = held_lesson(world, MAXIM)
    future = coming_lesson(world, MAXIM)

    def post(path: str, **body: t.Any) -> tuple[int, str]:
        reply = client.post(path, json=body)
        return reply.status_code, reply.get_json()["field"]

    assert post("/__admin/day/marks", student="Максим", lesson_id=lesson.id, value=0) == (
        400,
        "value",
    )
    assert post("/__admin/day/marks", student="Максим", lesson_id=future.id, value=5) == (
        400,
        "lesson_id",
    )
    assert post("/__admin/day/absences", student="Максим", lesson_id=lesson.id, kind="x") == (
        400,
        "kind",
    )
    assert post("/__admin/day/marks", student="Артём", lesson_id=lesson.id, value=5) == (
        404,
        "student",
    )
    daria = held_lesson(world, "Кузнецова Дарья Алексеевна")
    assert post("/__admin/day/marks", student="Максим", lesson_id=daria.id, value=5) == (
        400,
        "lesson_id",
    )
    assert post(f"/__admin/day/lessons/{lesson.id}/replace", subject="Латынь") == (400, "subject")
    assert post("/__admin/day/lessons/1/cancel") == (404, "id")
    assert client.patch("/__admin/day/marks/1", json={"value": 4}).status_code == 404
    assert client.post("/__admin/day/marks", data="[]", content_type="application/json").get_json()[
        "error"
    ]


def test_students_are_named_by_id_full_name_or_first_name(
    client: FlaskClient, world: World
) -> None:
    day = client.get("/__admin/day").get_json()
    assert day["system"] == "netschool" and day["edits"] == []
    names = {s["full_name"] for s in day["students"]}
    assert MAXIM in names and "Смирнов Артём Дмитриевич" not in names
    lesson = held_lesson(world, MAXIM)
    maxim = world.student_by_name(MAXIM).id
    for who in (maxim, str(maxim), MAXIM, "Смирнов Максим", "максим"):
        body = {"student": who, "lesson_id": lesson.id, "value": 4}
        assert (
            client.post("/__admin/day/marks", json=body).get_json()["mark"]["student_id"] == maxim
        )


def test_the_edits_list_and_reset_gives_back_the_world(
    app: Flask, client: FlaskClient, world: World
) -> None:
    lesson = held_lesson(world, MAXIM)
    first = client.post(
        "/__admin/day/absences", json={"student": MAXIM, "lesson_id": lesson.id, "kind": "ill"}
    )
    assert first.status_code == 201
    client.post(f"/__admin/day/lessons/{coming_lesson(world, MAXIM).id}/cancel")
    edits = client.get("/__admin/day").get_json()["edits"]
    assert [e["action"] for e in edits] == ["mark_absence", "cancel_lesson"]
    served = app.extensions["netschool"].world
    assert served.absences != world.absences and served.lessons != world.lessons

    assert client.delete("/__admin/day").get_json()["edits"] == []
    served = app.extensions["netschool"].world
    assert (served.absences, served.lessons, served.marks) == (
        world.absences,
        world.lessons,
        world.marks,
    )


def test_ids_are_never_reused_not_even_after_a_reset(app: Flask, world: World) -> None:
    day = school_day.of(app)
    lesson = held_lesson(world, MAXIM)
    body = {"student": MAXIM, "lesson_id": lesson.id, "value": 5}
    first = day.add_mark(body)
    day.reset()
    second = day.add_mark(body)
    assert second.id > first.id > max(m.id for m in world.marks)


def test_admin_off_hides_the_school_day(world: World) -> None:
    client = create_app(world, {"EMULATOR_ADMIN": False}).test_client()
    assert client.get("/__admin/day").status_code == 404
    assert client.get("/__admin/day/page").status_code == 404


def test_the_page_forms_work_in_a_browser_way(client: FlaskClient, world: World) -> None:
    page = client.get("/__admin/day/page")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'lang="ru"' in html and "Поставить оценку" in html
    lesson = held_lesson(world, MAXIM)
    maxim = world.student_by_name(MAXIM).id
    form = {"page_student": maxim, "student": maxim, "lesson_id": lesson.id, "value": "4"}
    done = client.post("/__admin/day/page/mark", data=form | {"comment": ""})
    assert done.status_code == 303 and "notice=" in done.headers["Location"]
    again = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Готово" in again and lesson.subject in again.split("Изменения за день")[1]
    refused = client.post("/__admin/day/page/mark", data=form | {"value": "9"})
    assert "error=" in refused.headers["Location"]
    assert "Ошибка" in client.get(refused.headers["Location"]).get_data(as_text=True)


def test_the_budget_reports_the_busiest_minute(client: FlaskClient) -> None:
    client.post("/__admin/stats/reset")
    for _ in range(3):
        client.get("/webapi/logindata")
    assert client.get("/__admin/budget").get_json() == {
        "total": 3,
        "peak_per_minute": 3,
        "window_seconds": 60,
    }
    assert client.get("/__admin/stats").get_json() == {"GET /webapi/logindata": 3}
    client.post("/__admin/stats/reset")
    assert client.get("/__admin/budget").get_json()["peak_per_minute"] == 0


def test_the_peak_counts_requests_within_sixty_seconds_only() -> None:
    clock = FakeClock()
    faults = Faults(FaultSettings(), clock=clock)
    for step in (0, 10, 20, 59.9):  # four within one minute
        clock.now = 1000 + step
        faults.count("GET /a")
    clock.now = 1000 + 70  # the first two fall out of the window
    faults.count("GET /a")
    clock.now = 1000 + 200
    faults.count("GET /a")
    assert faults.budget() == {"total": 6, "peak_per_minute": 4, "window_seconds": 60}


def test_a_teacher_change_is_a_replacement_and_the_planned_lesson_undoes_it(
    app: Flask, world: World
) -> None:
    day = school_day.of(app)
    lesson = coming_lesson(world, MAXIM)
    school = world.school_class(lesson.class_id).school_id
    stand_in = next(
        x for x in world.teachers if x.school_id == school and x.id != lesson.teacher_id
    )
    replaced = day.replace_lesson(lesson.id, {"teacher": stand_in.full_name, "room": "305"})
    assert (replaced.status, replaced.subject, replaced.teacher_id) == (
        "replaced",
        lesson.subject,
        stand_in.id,
    )
    assert replaced.planned_teacher_id == lesson.teacher_id and stand_in.full_name in str(
        replaced.note
    )
    assert replaced.room == "305" and replaced.id == lesson.id
    back = day.replace_lesson(lesson.id, {"teacher": str(lesson.teacher_id)})
    assert (back.status, back.note, back.planned_teacher_id) == ("planned", None, None)


def test_a_second_absence_on_a_lesson_replaces_the_first(app: Flask, world: World) -> None:
    day = school_day.of(app)
    lesson = held_lesson(world, MAXIM)
    maxim = world.student_by_name(MAXIM).id
    day.mark_absence({"student": maxim, "lesson_id": lesson.id, "kind": "unexcused"})
    day.mark_absence({"student": maxim, "lesson_id": lesson.id, "kind": "excused"})
    served = app.extensions["netschool"].world.absences_of(maxim, lesson.date, lesson.date)
    assert [a.kind for a in served if a.lesson_id == lesson.id] == ["excused"]


def test_logins_the_operator_issued_outlive_school_day_edits(app: Flask, world: World) -> None:
    operator = app.test_client()
    sofia = world.student_by_name("Новикова София Павловна")
    body = {"full_name": sofia.full_name, "birth_date": sofia.birth_date.isoformat()}
    body |= {"school": "Лицей № 3", "class_name": "8А", "parent_name": "Новиков Павел Олегович"}
    issued = operator.post(
        "/__admin/netschool/credentials", json=body, headers={"X-Operator-Key": "demo-operator-key"}
    ).get_json()
    assert issued["found"] is True
    day = school_day.of(app)
    day.cancel_lesson(coming_lesson(world, MAXIM).id)
    day.reset()
    assert app.extensions["netschool"].world.account("netschool", issued["login"]) is not None
