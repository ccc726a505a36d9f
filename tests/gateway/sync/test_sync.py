"""The sync reads each claimed child through the pages' own diary service: the first sync is
the baseline, the school year follows once on the backfill queue, then the cadence; a page
after a sync asks no backend; failures back off and a refused login stops the syncing."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.schema import Section
from gateway import jobs
from gateway.diary.views import PAUSED_CHECK_SECONDS
from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import LinkStatus
from gateway.models import OutboxMessage
from gateway.models import Queue
from gateway.models import RecordChange
from gateway.models import SectionSnapshot
from gateway.models import SyncedRecord
from gateway.models import User
from gateway.services import periods
from gateway.services.snapshots import aware
from tests.gateway.clock import Clock
from tests.gateway.clock import pin_clock
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade
from tests.gateway.sync.helpers import drain
from tests.gateway.sync.helpers import link_children
from tests.gateway.sync.helpers import rows
from tests.gateway.sync.helpers import run
from tests.gateway.sync.helpers import tick

# A school day's morning in Moscow, before the wall clock (the fake school's sessions
# expire an hour after the real now).
MORNING = dt.datetime(2026, 12, 3, 6, 30, tzinfo=dt.UTC)
SCHOOL_DAY = MORNING.date()  # the marks' day: the pinned clock's, not the wall clock's


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return pin_clock(monkeypatch, MORNING)


def _snapshots(app: Flask) -> set[tuple[int, str, dt.date, dt.date]]:
    with app.app_context():
        return {
            (row.link_id, row.section, row.period_start, row.period_end)
            for row in db.session.scalars(select(SectionSnapshot))
        }


def test_the_first_sync_is_the_baseline_then_the_school_year_then_the_cadence(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, second = link_children(parent, fake_app)
    [(queue, ids, lease), (_, others, _)] = tick(fake_app)
    assert queue == "interactive"
    synced = run(fake_app, ids, lease)
    assert synced is not None and synced.link_id == first and not synced.failed
    run(fake_app, others, lease)
    after_baseline = rows(fake_app)[(first, Section.GRADES)]
    assert after_baseline.baseline_at is not None and after_baseline.backfilled_at is None
    # The baseline's backfill is due at once, behind everything else, on its own queue.
    assert after_baseline.queue is Queue.BACKFILL and after_baseline.priority == 20

    drain(fake_app)
    today = dt.date(2026, 12, 3)
    year = periods.school_year(Section.GRADES, today)
    month = periods.default_period(Section.GRADES, today)
    stored = _snapshots(fake_app)
    for link in (first, second):
        assert (link, "grades", month.start, month.end) in stored
        assert (link, "grades", year.start, year.end) in stored
    settled = rows(fake_app)[(first, Section.GRADES)]
    assert settled.queue is Queue.SCHEDULED and settled.backfilled_at is not None
    assert settled.failures == 0 and settled.synced_at is not None
    # In school hours a grade is read again within its interval and its spread.
    wait = aware(settled.due_at) - MORNING
    assert dt.timedelta(minutes=20) <= wait < dt.timedelta(minutes=22)
    assert tick(fake_app) == []  # nothing else is due


def test_a_page_after_the_sync_asks_no_backend(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, _ = link_children(parent, fake_app)
    grade(school.grades["s1"], value="4", numeric=4.0, date=SCHOOL_DAY)
    drain(fake_app)
    asked = sum(school.calls.values())
    page = parent.get(f"/child/{first}")
    assert page.status_code == 200 and page.text.count('class="grade"') == 1
    assert parent.get("/").status_code == 200
    assert sum(school.calls.values()) == asked


def test_the_next_sync_brings_what_changed_at_school(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, _ = link_children(parent, fake_app)
    drain(fake_app)
    grade(school.grades["s1"], value="2", numeric=2.0, date=SCHOOL_DAY)
    clock.advance(minutes=25)
    drain(fake_app)
    assert parent.get(f"/child/{first}").text.count('class="grade"') == 1


def test_a_failing_system_backs_off_and_keeps_the_row(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, _ = link_children(parent, fake_app)
    drain(fake_app)
    school.down = True
    for expected in (1, 2):
        clock.advance(hours=4)
        drain(fake_app, rounds=1)
        row = rows(fake_app)[(first, Section.GRADES)]
        assert row.failures == expected and row.last_error == "unavailable"
        assert row.queue is Queue.SCHEDULED
    wait = aware(row.due_at) - clock.at
    assert wait >= 4 * dt.timedelta(minutes=20)  # doubled twice
    school.down = False
    clock.advance(hours=4)
    drain(fake_app, rounds=1)
    assert rows(fake_app)[(first, Section.GRADES)].failures == 0


def test_a_refused_login_stops_the_syncing_of_that_login(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, second = link_children(parent, fake_app)
    with fake_app.app_context():
        for user in db.session.scalars(select(User)):
            user.phone = "+79001234567"
        db.session.commit()
    drain(fake_app)
    school.accounts["parent"] = ("changed-at-school", school.accounts["parent"][1])
    with fake_app.app_context():
        for link in db.session.scalars(select(ChildLink)):
            assert link.credential is not None
            link.credential.backend_session = None  # the stored session ran out
        db.session.commit()
    clock.advance(hours=4)
    drain(fake_app, rounds=1)
    with fake_app.app_context():
        statuses = set(db.session.scalars(select(ChildLink.status)))
    assert statuses == {LinkStatus.RELINK_REQUIRED}
    logins = school.calls["login"]
    clock.advance(hours=8)
    assert tick(fake_app) == []  # neither child is claimed again until relinked
    assert school.calls["login"] == logins
    with fake_app.app_context():
        told = db.session.scalars(select(OutboxMessage)).all()
        # Once, by SMS, for the child whose sync found it (the other shares the login).
        assert [(m.channel, m.recipient) for m in told] == [("sms", "+79001234567")]
        assert "заново" in told[0].subject


def test_a_worker_that_lost_its_lease_reads_nothing(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    link_children(parent, fake_app)
    [(_, ids, _), _] = tick(fake_app)
    asked = sum(school.calls.values())
    assert run(fake_app, ids, "someone-elses-lease") is None
    assert sum(school.calls.values()) == asked


PAUSED = "Фоновое обновление дневников сейчас приостановлено"


def test_the_family_page_says_when_the_background_stopped_and_keeps_serving(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, _ = link_children(parent, fake_app)
    grade(school.grades["s1"], value="5", numeric=5.0, date=SCHOOL_DAY)
    drain(fake_app)
    assert PAUSED not in parent.get("/").text
    # No scheduler, worker or broker from here on: the rows fall due and nobody takes them.
    clock.advance(hours=2)
    asked = school.calls["grades"]
    family = parent.get("/")
    assert family.status_code == 200 and PAUSED in family.text
    page = parent.get(f"/child/{first}")
    assert page.status_code == 200 and page.text.count('class="grade"') == 1
    assert school.calls["grades"] > asked  # the pages read the diaries themselves
    drain(fake_app)  # the background is back
    assert PAUSED in parent.get("/").text  # a family's notice is asked once in a slot
    clock.advance(seconds=PAUSED_CHECK_SECONDS)
    assert PAUSED not in parent.get("/").text


def test_a_parents_refresh_records_what_changed_and_counts_as_the_sync(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, _ = link_children(parent, fake_app)
    drain(fake_app)
    clock.advance(minutes=5)
    grade(school.grades["s1"], value="2", numeric=2.0, date=SCHOOL_DAY)
    asked = school.calls["grades"]
    reply = parent.post(f"/child/{first}/refresh", data={"page": "child", "section": "grades"})
    assert reply.status_code == 303 and school.calls["grades"] == asked + 1
    with fake_app.app_context():
        [change] = db.session.scalars(select(RecordChange)).all()
        assert (change.section, change.kind.value, change.after["value"]) == (
            "grades",
            "added",
            "2",
        )
    row = rows(fake_app)[(first, Section.GRADES)]
    assert aware(row.synced_at) == clock.at and aware(row.due_at) > clock.at + dt.timedelta(
        minutes=19
    )
    clock.advance(minutes=5)
    drain(fake_app)  # what is due now is the other sections; grades were read just now
    assert school.calls["grades"] == asked + 1
    with fake_app.app_context():
        assert len(db.session.scalars(select(RecordChange)).all()) == 1


def test_a_refresh_before_the_first_sync_leaves_the_baseline_to_it(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, _ = link_children(parent, fake_app)
    grade(school.grades["s1"], value="4", numeric=4.0, date=SCHOOL_DAY)
    tick(fake_app)  # enrolled and claimed, not yet run: the lease is held
    reply = parent.post(f"/child/{first}/refresh", data={"page": "child", "section": "grades"})
    assert reply.status_code == 303
    clock.advance(minutes=6)  # the lease ran out; the sync runs now
    drain(fake_app)
    with fake_app.app_context():
        assert db.session.scalars(select(RecordChange)).all() == []  # a baseline, no news


def test_the_morning_page_after_the_nights_sync_asks_no_backend_and_moves_the_family_first(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = pin_clock(monkeypatch, dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC))  # 04:00 MSK
    first, second = link_children(parent, fake_app)
    grade(school.grades["s1"], value="5", numeric=5.0, date=SCHOOL_DAY)
    drain(fake_app)
    clock.advance(hours=3, minutes=29)  # 07:29: the night's sync is three and a half hours old
    asked = sum(school.calls.values())
    family = parent.get("/")
    assert family.status_code == 200 and "обновляются" in family.text
    assert sum(school.calls.values()) == asked  # nothing on the page's critical path
    hurried = rows(fake_app)
    assert {hurried[(link, Section.GRADES)].queue for link in (first, second)} == {
        Queue.INTERACTIVE
    }
    drain(fake_app)  # the workers read them in seconds
    assert sum(school.calls.values()) > asked
    assert "обновляются" not in parent.get("/").text


def test_garbage_for_one_child_holds_up_no_other(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, second = link_children(parent, fake_app)
    drain(fake_app)
    school.garbled.add("s1")
    grade(school.grades["s2"], value="4", numeric=4.0, date=SCHOOL_DAY)
    clock.advance(minutes=25)
    drain(fake_app)
    found = rows(fake_app)
    assert found[(first, Section.GRADES)].failures == 1
    assert found[(first, Section.HOMEWORK)].failures == 0  # the child's other sections went on
    assert found[(second, Section.GRADES)].failures == 0
    with fake_app.app_context():
        [change] = db.session.scalars(select(RecordChange)).all()
        assert change.link_id == second and change.after["value"] == "4"


def test_tasks_carry_ids_and_a_lease_never_a_credential_and_logs_name_none(
    parent: FlaskClient,
    fake_app: Flask,
    school: FakeSchool,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    link_children(parent, fake_app)
    celery = fake_app.extensions["celery"]
    sent: list[tuple[str, t.Any]] = []
    monkeypatch.setattr(celery, "send_task", lambda name, **kw: sent.append((name, kw)))
    school.garbled.add("s1")  # a failure's log line too
    with caplog.at_level(logging.DEBUG), fake_app.app_context():
        assert jobs.tick() > 0
        for _, message in list(sent):
            jobs.run(*message["args"])
    runs = [message["args"] for name, message in sent if name == jobs.RUN]
    assert runs
    for due_ids, lease in runs:
        assert all(isinstance(i, int) for i in due_ids) and re.fullmatch(r"[0-9a-f]{32}", lease)
    assert "UnexpectedResponse" in caplog.text  # the failure was logged, and read here
    text = json.dumps(sent) + caplog.text
    for credential in ("secret", '"parent"', "'parent'"):
        assert credential not in text


def test_a_mark_given_between_the_baseline_and_the_backfill_is_still_news(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, second = link_children(parent, fake_app)
    grade(school.grades["s1"], value="5", numeric=5.0, date=dt.date(2026, 9, 15))
    for _, ids, lease in tick(fake_app):
        run(fake_app, ids, lease)  # the baselines
    grade(school.grades["s1"], value="2", numeric=2.0, date=dt.date(2026, 12, 2))
    drain(fake_app)  # the backfills: September is history, this week is not theirs
    with fake_app.app_context():
        assert db.session.scalars(select(RecordChange)).all() == []
        kept = db.session.scalars(
            select(SyncedRecord.payload).where(SyncedRecord.link_id == first)
        ).all()
        assert {p["value"] for p in kept if "value" in p} == {"5"}
    clock.advance(minutes=25)
    drain(fake_app)
    with fake_app.app_context():
        [change] = db.session.scalars(select(RecordChange)).all()
        assert (change.link_id, change.kind.value, change.after["value"]) == (first, "added", "2")
