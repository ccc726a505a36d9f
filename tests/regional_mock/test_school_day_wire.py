"""The school day in MESH's and Dnevnik.ru's own wire formats, over the Flask test client."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from regional_mock.dnevnik_ru import create_app as dnevnik_app
from regional_mock.dnevnik_ru import ids
from regional_mock.mesh import create_app as create_mesh
from regional_mock.mesh.ids import MeshIds
from regional_mock.world import World
from tests.regional_mock import mesh_helpers as mh
from tests.regional_mock.conftest import TODAY
from tests.regional_mock.day_helpers import coming_lesson
from tests.regional_mock.day_helpers import held_lesson
from tests.regional_mock.day_helpers import other_subject
from tests.regional_mock.dnevnik_helpers import POLINA
from tests.regional_mock.dnevnik_helpers import context
from tests.regional_mock.dnevnik_helpers import make_app
from tests.regional_mock.dnevnik_helpers import partner_token
from tests.regional_mock.helpers import FakeClock


def _get(
    client: FlaskClient, path: str, headers: dict[str, str] | None = None, **query: t.Any
) -> t.Any:
    reply = client.get(path, headers=headers or {}, query_string=query or None)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


def _post(client: FlaskClient, path: str, body: dict[str, t.Any] | None = None) -> t.Any:
    reply = client.post(f"/__admin/day{path}", json=body or {})
    assert reply.status_code in (200, 201), reply.get_data(as_text=True)
    return reply.get_json()


# MESH ---------------------------------------------------------------------------------


@pytest.fixture
def mesh_app(world: World) -> Flask:
    """Return the MESH emulator."""
    return create_mesh(world)


@pytest.fixture
def mesh(mesh_app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    """Return a MESH client and Irina's family API headers."""
    client = mesh_app.test_client()
    return client, mh.api(mh.sign_in(client)) | {"X-Mes-Role": "parent"}


def _calendar(mesh: tuple[FlaskClient, dict[str, str]], world: World, day: dt.date) -> list[t.Any]:
    client, headers = mesh
    artem = world.student_by_name(mh.ARTEM)
    query = {"person_ids": MeshIds(world).contingent_guid(artem), "begin_date": day}
    query |= {"end_date": day, "expand": "marks,homework,absence_reason_id"}
    return t.cast(
        list[t.Any], _get(client, "/api/eventcalendar/v1/api/events", headers, **query)["response"]
    )


def test_mesh_marks_carry_mesh_ids_and_keep_them_when_edited(
    mesh: tuple[FlaskClient, dict[str, str]], world: World
) -> None:
    client, headers = mesh
    artem = world.student_by_name(mh.ARTEM)
    lesson = held_lesson(world, mh.ARTEM)
    mark = _post(client, "/marks", {"student": "Артём", "lesson_id": lesson.id, "value": 4})["mark"]
    query = {
        "student_id": MeshIds(world).student_profile_id(artem),
        "from": lesson.date,
        "to": TODAY,
    }
    marks = {
        m["id"]: m for m in _get(client, "/api/family/web/v1/marks", headers, **query)["payload"]
    }
    mesh_id = MeshIds(world).mark_id(mark["id"])
    assert mesh_id not in {MeshIds(world).mark_id(m.id) for m in world.marks}
    assert marks[mesh_id]["value"] == "4" and marks[mesh_id]["subject_name"] == lesson.subject
    client.patch(f"/__admin/day/marks/{mark['id']}", json={"value": 2, "comment": "Переписать"})
    marks = {
        m["id"]: m for m in _get(client, "/api/family/web/v1/marks", headers, **query)["payload"]
    }
    assert (marks[mesh_id]["value"], marks[mesh_id]["comment"]) == ("2", "Переписать")


def test_mesh_flags_a_replaced_and_a_cancelled_lesson(
    mesh: tuple[FlaskClient, dict[str, str]], world: World
) -> None:
    """mesh.md §2.4 a: the calendar's ``replaced``, ``replaced_teacher_id``, ``cancelled``."""
    client, headers = mesh
    lesson = coming_lesson(world, mh.ARTEM)
    other = next(
        x
        for x in world.lessons_of(world.student_by_name(mh.ARTEM).id, lesson.date, lesson.date)
        if x.number == 1
    )
    _post(
        client,
        f"/lessons/{lesson.id}/replace",
        {"subject": other_subject(world, lesson), "room": "214"},
    )
    _post(client, f"/lessons/{other.id}/cancel")
    events = {e["id"]: e for e in _calendar(mesh, world, lesson.date)}
    ids_ = MeshIds(world)
    shown = events[ids_.schedule_item_id(lesson.id)]
    assert shown["replaced"] is True and shown["subject_name"] == other_subject(world, lesson)
    assert shown["replaced_teacher_id"] == ids_.teacher_id(lesson.teacher_id)
    assert shown["comment"].startswith("Замена")
    assert events[ids_.schedule_item_id(other.id)]["cancelled"] is True
    sid = ids_.student_profile_id(world.student_by_name(mh.ARTEM))
    day = _get(client, "/api/family/mobile/v1/schedule", headers, student_id=sid, date=lesson.date)
    flags = {
        a["lesson"]["schedule_item_id"]: (a["lesson"]["replaced"], a["lesson"]["is_cancelled"])
        for a in day["activities"]
        if a["type"] == "LESSON"
    }
    assert flags[ids_.schedule_item_id(lesson.id)] == (True, False)
    assert flags[ids_.schedule_item_id(other.id)] == (False, True)


def test_mesh_homework_absence_and_meeting(
    mesh: tuple[FlaskClient, dict[str, str]], world: World
) -> None:
    client, headers = mesh
    ids_ = MeshIds(world)
    artem = world.student_by_name(mh.ARTEM)
    due = coming_lesson(world, mh.ARTEM)
    homework = _post(client, "/homework", {"lesson_id": due.id, "text": "Упр. 7"})["homework"]
    query = {"student_id": ids_.student_profile_id(artem), "from": due.date, "to": due.date}
    shown = _get(client, "/api/family/web/v1/homeworks", headers, **query)["payload"]
    (item,) = [h for h in shown if h["homework_id"] == ids_.homework_id(homework["id"])]
    assert (item["description"], item["date"]) == ("Упр. 7", due.date.isoformat())
    done = client.post(f"/api/family/web/v1/homeworks/{item['homework_id']}/done", headers=headers)
    assert done.get_json() == {"success": True}  # the new id maps back to the homework

    missed = held_lesson(world, mh.ARTEM, days_back=2)
    _post(client, "/absences", {"student": mh.ARTEM, "lesson_id": missed.id, "kind": "ill"})
    events = {e["id"]: e for e in _calendar(mesh, world, missed.date)}
    shown_missed = events[ids_.schedule_item_id(missed.id)]
    assert shown_missed["is_missed_lesson"] is True and shown_missed["absence_reason_id"] == 6

    starts = f"{due.date}T19:00"
    event = _post(client, "/meetings", {"student": "Артём", "starts_at": starts, "place": "зал"})
    organizer = [e for e in _calendar(mesh, world, due.date) if e["source"] == "ORGANIZER"]
    assert ids_.event_id(event["event"]["id"]) in {e["id"] for e in organizer}


# Dnevnik.ru ---------------------------------------------------------------------------


@pytest.fixture
def dn(world: World) -> tuple[FlaskClient, dict[str, t.Any]]:
    """Return a Dnevnik.ru client holding Полина's parent's token, and her ids."""
    client = make_app(world, FakeClock()).test_client()
    token = partner_token(client)
    client.environ_base["HTTP_ACCESS_TOKEN"] = token
    child = context(client, token)["children"][0]
    return client, {"p": child["personId"], "s": child["schoolIds"][0], "g": child["groupIds"][0]}


def test_dnevnik_marks_and_attendance(
    dn: tuple[FlaskClient, dict[str, t.Any]], world: World
) -> None:
    client, ctx = dn
    lesson = held_lesson(world, POLINA)
    mark = _post(client, "/marks", {"student": "Полина", "lesson_id": lesson.id, "value": 5})[
        "mark"
    ]
    path = f"/v2/persons/{ctx['p']}/schools/{ctx['s']}/marks/{world.first_day}/{TODAY}"
    marks = {m["id_str"]: m for m in _get(client, path)}
    shown = marks[str(ids.encode("mark", mark["id"]))]
    assert shown["value"] == "5" and shown["lesson_str"] == str(ids.encode("lesson", lesson.id))
    client.patch(f"/__admin/day/marks/{mark['id']}", json={"value": 4})
    assert {m["id_str"]: m for m in _get(client, path)}[shown["id_str"]]["value"] == "4"
    client.delete(f"/__admin/day/marks/{mark['id']}")
    assert shown["id_str"] not in {m["id_str"] for m in _get(client, path)}

    missed = held_lesson(world, POLINA, days_back=2)
    _post(client, "/absences", {"student": POLINA, "lesson_id": missed.id, "kind": "unexcused"})
    query = f"startDate={missed.date}&endDate={missed.date}"
    entries = _get(client, f"/v2/persons/{ctx['p']}/lesson-log-entries?{query}")
    assert (ids.encode("lesson", missed.id), "Absent") in {
        (e["lesson"], e["status"]) for e in entries
    }


def test_dnevnik_shows_a_replacement_as_the_new_subject_and_drops_a_cancelled_lesson(
    dn: tuple[FlaskClient, dict[str, t.Any]], world: World
) -> None:
    """dnevnik_ru.md §2.8: v2 schedules have no replacement or cancellation field."""
    client, ctx = dn
    lesson = coming_lesson(world, POLINA)
    polina = world.student_by_name(POLINA)
    other = next(x for x in world.lessons_of(polina.id, lesson.date, lesson.date) if x.number == 1)
    subject = other_subject(world, lesson)
    _post(client, f"/lessons/{lesson.id}/replace", {"subject": subject})
    _post(client, f"/lessons/{other.id}/cancel")
    homework = _post(client, "/homework", {"lesson_id": lesson.id, "text": "Прописи, с. 9"})
    query = f"startDate={lesson.date}&endDate={lesson.date}"
    (day,) = _get(client, f"/v2/persons/{ctx['p']}/groups/{ctx['g']}/schedules?{query}")["days"]
    lessons = {x["id"]: x for x in day["lessons"]}
    assert ids.encode("lesson", other.id) not in lessons
    names = {s["id"]: s["name"] for s in day["subjects"]}
    assert names[lessons[ids.encode("lesson", lesson.id)]["subjectId"]] == subject
    assert set(lessons[ids.encode("lesson", lesson.id)]) == set(next(iter(lessons.values())))
    assert ids.encode("homework", homework["homework"]["id"]) in {h["id"] for h in day["homeworks"]}


@pytest.mark.parametrize(
    ("create_app", "child"),
    [(create_mesh, mh.ARTEM), (dnevnik_app, POLINA)],
    ids=["mesh", "dnevnik_ru"],
)
def test_every_emulator_has_the_page_and_resets(
    create_app: t.Any, child: str, world: World
) -> None:
    client = create_app(world).test_client()
    page = client.get("/__admin/day/page", query_string={"student": child})
    assert page.status_code == 200 and child in page.get_data(as_text=True)
    lesson = coming_lesson(world, child)
    form = {"page_student": world.student_by_name(child).id, "lesson_id": lesson.id}
    assert client.post("/__admin/day/page/cancel", data=form).status_code == 303
    assert [e["action"] for e in client.get("/__admin/day").get_json()["edits"]] == [
        "cancel_lesson"
    ]
    assert client.post("/__admin/day/page/reset", data=form).status_code == 303
    assert client.get("/__admin/day").get_json()["edits"] == []
