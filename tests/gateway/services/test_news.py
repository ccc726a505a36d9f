"""Which changes are news: marks (low ones flagged), absences (truancy urgent), today's and
tomorrow's timetable, new homework, events and messages; a republished record is not."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from gateway.models import ChangeKind
from gateway.models import RecordChange
from gateway.services.news import NewsKind
from gateway.services.news import is_low
from gateway.services.news import news_of

TODAY = dt.date(2026, 12, 3)
SEEN = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def change(
    section: str,
    kind: ChangeKind,
    *,
    key: str = "k1",
    day: dt.date = TODAY,
    before: dict[str, t.Any] | None = None,
    after: dict[str, t.Any] | None = None,
) -> RecordChange:
    return RecordChange(
        link_id=1,
        section=section,
        record_key=key,
        revision=1,
        kind=kind,
        day=day,
        before=before,
        after=after,
        seen_at=SEEN,
    )


def mark(value: float, scale: str = "five_point") -> dict[str, t.Any]:
    return {"id": "m1", "value": str(int(value)), "numeric": value, "scale": scale}


@pytest.mark.parametrize(
    ("payload", "low"),
    [
        (mark(2), True),
        (mark(3), False),
        (mark(4, "ten_point"), True),
        (mark(5, "ten_point"), False),
        (mark(49, "hundred_point"), True),
        (mark(0, "pass_fail"), True),
        (mark(1, "pass_fail"), False),
        ({"value": "н", "numeric": None, "scale": "five_point"}, False),
    ],
)
def test_a_low_mark_is_low_for_its_scale(payload: dict[str, t.Any], low: bool) -> None:
    assert is_low(payload) is low


def test_marks_added_changed_and_removed_are_news() -> None:
    found = news_of(
        [
            change("grades", ChangeKind.ADDED, key="a", after=mark(2)),
            change("grades", ChangeKind.MODIFIED, key="b", before=mark(5), after=mark(4)),
            change("grades", ChangeKind.REMOVED, key="c", before=mark(3)),
        ],
        today=TODAY,
    )
    assert [(n.kind, n.low, n.urgent) for n in found] == [
        (NewsKind.MARK, True, False),
        (NewsKind.MARK_CHANGED, False, False),
        (NewsKind.MARK_REMOVED, False, False),
    ]


def test_truancy_is_urgent_and_an_absence_taken_back_is_not_news() -> None:
    found = news_of(
        [
            change("attendance", ChangeKind.ADDED, key="a", after={"kind": "unexcused"}),
            change("attendance", ChangeKind.ADDED, key="b", after={"kind": "ill"}),
            change("attendance", ChangeKind.REMOVED, key="c", before={"kind": "late"}),
        ],
        today=TODAY,
    )
    assert [(n.change.record_key, n.urgent) for n in found] == [("a", True), ("b", False)]


def test_only_todays_and_tomorrows_timetable_changes_are_news() -> None:
    days = [
        TODAY - dt.timedelta(days=1),
        TODAY,
        TODAY + dt.timedelta(days=1),
        TODAY + dt.timedelta(days=2),
    ]
    changes = [
        change("schedule", ChangeKind.MODIFIED, key=day.isoformat(), day=day, before={}, after={})
        for day in days
    ]
    found = news_of(changes, today=TODAY)
    assert [n.change.day for n in found] == days[1:3]
    assert {n.kind for n in found} == {NewsKind.TIMETABLE}


def test_new_homework_events_and_messages_are_news_their_edits_are_not() -> None:
    found = news_of(
        [
            change("homework", ChangeKind.ADDED, key="h", after={"id": "h", "text": "§5"}),
            change("homework", ChangeKind.MODIFIED, key="h2", before={}, after={"text": "§6"}),
            change("events", ChangeKind.ADDED, key="e", after={"id": "e"}),
            change("messages", ChangeKind.ADDED, key="m", after={"id": "m"}),
            change("rating", ChangeKind.MODIFIED, key="r", before={}, after={}),
        ],
        today=TODAY,
    )
    assert [n.kind for n in found] == [NewsKind.HOMEWORK, NewsKind.EVENT, NewsKind.MESSAGE]


def test_a_record_republished_under_a_new_id_is_not_news_a_changed_one_is() -> None:
    task = {"subject": "Физика", "text": "§12, задачи 1–3", "due_on": "2026-12-04"}
    republished = news_of(
        [
            change("homework", ChangeKind.REMOVED, key="old", before={"id": "old", **task}),
            change("homework", ChangeKind.ADDED, key="new", after={"id": "new", **task}),
        ],
        today=TODAY,
    )
    assert republished == []
    rewritten = news_of(
        [
            change("homework", ChangeKind.REMOVED, key="old", before={"id": "old", **task}),
            change(
                "homework", ChangeKind.ADDED, key="new", after={"id": "new", **task, "text": "§13"}
            ),
        ],
        today=TODAY,
    )
    assert [n.change.record_key for n in rewritten] == ["new"]
