"""The demo world is deterministic and holds everything DEMO.md promises for every child."""

from __future__ import annotations

import datetime as dt

import pytest

from regional_mock.world import World
from regional_mock.world import build_world

CHILDREN = [
    ("Смирнов Артём Дмитриевич", dt.date(2013, 4, 12), "ГБОУ Школа № 1535", "7 «Б»", "mesh"),
    (
        "Смирнова Полина Дмитриевна",
        dt.date(2018, 9, 3),
        "МОУ СОШ № 12 г. Твери",
        "2 «А»",
        "dnevnik_ru",
    ),
    (
        "Смирнов Максим Дмитриевич",
        dt.date(2010, 1, 25),
        "МБОУ Лицей № 3 г. Самары",
        "10 «А»",
        "netschool",
    ),
    (
        "Кузнецова Дарья Алексеевна",
        dt.date(2015, 6, 30),
        "МБОУ Лицей № 3 г. Самары",
        "5 «В»",
        "netschool",
    ),
    (
        "Кузнецов Егор Алексеевич",
        dt.date(2019, 2, 14),
        "МБОУ Лицей № 3 г. Самары",
        "1 «Б»",
        "netschool",
    ),
    (
        "Новикова София Павловна",
        dt.date(2012, 10, 5),
        "МБОУ Лицей № 3 г. Самары",
        "8 «А»",
        "netschool",
    ),
]
# A Monday, a Friday, a Sunday, the first of September and New Year's week.
DATES = [
    dt.date(2026, 3, 9),
    dt.date(2026, 3, 13),
    dt.date(2026, 3, 15),
    dt.date(2026, 9, 1),
    dt.date(2027, 1, 1),
    dt.date.today(),
]


def test_the_same_seed_and_date_give_the_same_world() -> None:
    first = build_world(today=dt.date(2026, 3, 11), seed=7)
    again = build_world(today=dt.date(2026, 3, 11), seed=7)
    other = build_world(today=dt.date(2026, 3, 11), seed=8)
    assert first == again
    assert first.marks != other.marks


@pytest.mark.parametrize(("name", "born", "school", "class_name", "system"), CHILDREN)
def test_every_child_of_demo_md_is_in_the_world(
    world: World, name: str, born: dt.date, school: str, class_name: str, system: str
) -> None:
    student = world.student_by_name(name)
    assert student.birth_date == born
    assert world.school_of(student.id).short_name == school
    assert world.school_of(student.id).system == system
    assert world.class_of(student.id).name == class_name


def test_the_school_issued_logins_show_their_children(world: World) -> None:
    logins = {
        (a.system, a.login, a.password): [s.full_name for s in world.students_of(a)]
        for a in world.accounts
    }
    assert logins == {
        ("netschool", "СмирноваИС", "Пароль-2026"): ["Смирнов Максим Дмитриевич"],
        ("netschool", "КузнецовАП", "Дарья2015"): [
            "Кузнецова Дарья Алексеевна",
            "Кузнецов Егор Алексеевич",
        ],
        ("mesh", "irina.smirnova", "Mesh-2026-parent"): ["Смирнов Артём Дмитриевич"],
        ("dnevnik_ru", "smirnova.i.s", "Dnevnik-2026"): ["Смирнова Полина Дмитриевна"],
    }
    assert [a.login for a in world.accounts_for("netschool")] == ["СмирноваИС", "КузнецовАП"]
    assert world.account("netschool", "смирноваис") == world.accounts_for("netschool")[0]


def test_teachers_have_russian_full_names_and_lessons_have_times(world: World) -> None:
    assert all(len(t.full_name.split()) == 3 for t in world.teachers)
    assert all(x.starts_at < x.ends_at and x.number >= 1 for x in world.lessons)
    assert {x.date.weekday() for x in world.lessons} <= {0, 1, 2, 3, 4, 5}


@pytest.mark.parametrize("today", DATES, ids=str)
@pytest.mark.parametrize("name", [child[0] for child in CHILDREN])
def test_every_child_has_the_month_demo_md_requires(today: dt.date, name: str) -> None:
    world = build_world(today=today)
    student = world.student_by_name(name)
    month_ago = today - dt.timedelta(days=27)
    marks = world.marks_of(student.id, month_ago, today)
    assert any(m.weight == 40 and m.value is not None for m in marks), "a weighted test"
    assert any(m.kind in ("dot", "text") and m.value is None for m in marks), "non-numeric"
    assert any(m.comment for m in marks), "a mark with a comment"
    assert any(m.value == 2 for m in marks), "a low mark"
    kinds = {a.kind for a in world.absences_of(student.id, month_ago, today)}
    assert {"ill", "unexcused"} <= kinds
    coming = world.lessons_of(
        student.id, today + dt.timedelta(days=1), today + dt.timedelta(days=7)
    )
    assert {"replaced", "cancelled"} <= {x.status for x in coming}
    homework = world.homework_of(student.id, month_ago, today + dt.timedelta(days=7))
    assert any(h.attachments for h in homework) and any(not h.attachments for h in homework)
    assert any(h.attachments and h.due_on > today for h in homework)
    meetings = [e for e in world.events_of(student.id) if e.kind == "parent_meeting"]
    assert any(e.starts_at.date() > today and e.agenda for e in meetings)
    assert any(m.needs_acknowledgement for m in world.messages_of(student.id))


@pytest.mark.parametrize("today", DATES, ids=str)
@pytest.mark.parametrize("name", [child[0] for child in CHILDREN])
def test_every_child_has_three_school_weeks_ahead(today: dt.date, name: str) -> None:
    # The calendar feed promises the next three weeks: each must have lessons and homework.
    world = build_world(today=today)
    student = world.student_by_name(name)
    assert world.last_day >= today + dt.timedelta(days=21)
    for week in range(3):
        start = today + dt.timedelta(days=7 * week + 1)
        end = start + dt.timedelta(days=6)
        assert world.lessons_of(student.id, start, end), f"lessons in week {week + 1}"
        assert world.homework_of(student.id, start, end), f"homework in week {week + 1}"


def test_netschool_marks_are_five_point_with_weights_by_work_type(world: World) -> None:
    lyceum = {s.id for s in world.students if world.school_of(s.id).system == "netschool"}
    marks = [m for m in world.marks if m.student_id in lyceum]
    assert {m.value for m in marks if m.kind == "numeric"} <= {1, 2, 3, 4, 5}
    assert {m.weight for m in marks} <= {10, 20, 40}
    assert all(m.weight == world.work_type(m.work_type_id).weight for m in marks)
    assert {m.shown for m in marks if m.kind == "dot"} == {"•"}


def test_a_replaced_lesson_keeps_what_was_planned(world: World) -> None:
    replaced = [x for x in world.lessons if x.status == "replaced"]
    assert len(replaced) == len(world.classes)
    assert all(x.planned_subject and x.planned_subject != x.subject for x in replaced)
    assert all(x.planned_teacher_id != x.teacher_id for x in replaced)


def test_ids_are_unique_across_marks_and_homework(world: World) -> None:
    ids = [m.id for m in world.marks] + [h.id for h in world.homework]
    assert len(ids) == len(set(ids))
    assert world.mark(world.marks[0].id) == world.marks[0]
    with pytest.raises(KeyError):
        world.student_by_name("Неизвестный Ученик")
