"""The due list: every linked child's sections get a row; ticks claim due rows by lease, most
urgent first, never the same row twice; a lost lease cannot settle a row."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.schema import Section
from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import LinkStatus
from gateway.models import Queue
from gateway.models import SyncDue
from gateway.services import due
from gateway.services.snapshots import aware
from tests.gateway.sync.helpers import link_children
from tests.gateway.sync.helpers import rows
from tests.gateway.sync.helpers import tick

NOW = dt.datetime(2026, 12, 3, 7, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=5)


def test_a_tick_gives_each_linked_childs_sections_a_row_due_at_once(
    parent: FlaskClient, fake_app: Flask
) -> None:
    links = link_children(parent, fake_app)
    batches = tick(fake_app)
    found = rows(fake_app)
    sections = {s for _, s in found}
    assert {link for link, _ in found} == set(links)
    assert Section.GRADES in sections and Section.SCHEDULE in sections
    assert Section.RATING not in sections  # the fake school offers no rating
    # Both children's first syncs are interactive: a parent who just linked is waiting.
    assert [queue for queue, _, _ in batches] == ["interactive", "interactive"]
    assert all(row.leased_by is not None for row in found.values())
    assert tick(fake_app) == []  # leased: nothing left to claim


def test_enrolling_twice_adds_nothing(parent: FlaskClient, fake_app: Flask) -> None:
    [first, _] = link_children(parent, fake_app)
    with fake_app.app_context():
        assert due.enrol(db.session, {first: [Section.GRADES]}, now=NOW) == 1
        assert due.enrol(db.session, {first: [Section.GRADES]}, now=NOW) == 0
        db.session.commit()


def _rows_for(app: Flask, link_id: int, **values: object) -> None:
    with app.app_context():
        due.enrol(db.session, {link_id: [Section.GRADES, Section.HOMEWORK]}, now=NOW)
        if values:
            db.session.execute(
                sa.update(SyncDue).where(SyncDue.link_id == link_id).values(**values)
            )
        db.session.commit()


def test_the_most_urgent_row_is_claimed_first_then_the_longest_due(
    parent: FlaskClient, fake_app: Flask
) -> None:
    first, second = link_children(parent, fake_app)
    _rows_for(fake_app, first, queue=Queue.BACKFILL, priority=20, due_at=NOW - LEASE * 10)
    _rows_for(fake_app, second, queue=Queue.SCHEDULED, priority=10, due_at=NOW)
    with fake_app.app_context():
        claim = due.claim(db.session, now=NOW, lease_for=LEASE, limit=2)
        db.session.commit()
    assert list(claim.rows) == [Queue.SCHEDULED]
    assert {link for _, link in claim.rows[Queue.SCHEDULED]} == {second}


def test_rows_not_yet_due_wait(parent: FlaskClient, fake_app: Flask) -> None:
    first, _ = link_children(parent, fake_app)
    _rows_for(fake_app, first, due_at=NOW + dt.timedelta(minutes=1))
    with fake_app.app_context():
        assert len(due.claim(db.session, now=NOW, lease_for=LEASE, limit=10)) == 0


def _scheduled(app: Flask, link_id: int, due_at: dict[Section, dt.datetime]) -> None:
    with app.app_context():
        due.enrol(db.session, {link_id: list(due_at)}, now=NOW)
        for section, when in due_at.items():
            db.session.execute(
                sa.update(SyncDue)
                .where(SyncDue.link_id == link_id, SyncDue.section == section.value)
                .values(queue=Queue.SCHEDULED, priority=10, due_at=when)
            )
        db.session.commit()


def test_a_childs_sections_due_soon_ride_along_with_the_one_due_now(
    parent: FlaskClient, fake_app: Flask
) -> None:
    first, second = link_children(parent, fake_app)
    minutes = dt.timedelta(minutes=1)
    _scheduled(
        fake_app,
        first,
        {
            Section.GRADES: NOW,
            Section.HOMEWORK: NOW + 4 * minutes,  # within the ride
            Section.SCHEDULE: NOW + 6 * minutes,  # not yet
        },
    )
    _scheduled(fake_app, second, {Section.GRADES: NOW + 4 * minutes})  # nobody of its due
    with fake_app.app_context():
        claim = due.claim(db.session, now=NOW, lease_for=LEASE, limit=10, ride_along=5 * minutes)
        db.session.commit()
    [(queue, ids)] = claim.batches()
    assert queue is Queue.SCHEDULED
    with fake_app.app_context():
        leased = db.session.scalars(select(SyncDue).where(SyncDue.id.in_(ids))).all()
        assert {(row.link_id, Section(row.section)) for row in leased} == {
            (first, Section.GRADES),
            (first, Section.HOMEWORK),
        }
        assert {row.leased_by for row in leased} == {claim.lease}
        assert {aware(row.lease_until) for row in leased} == {NOW + LEASE}  # type: ignore[arg-type]


def test_no_row_rides_along_with_a_childs_first_sync(parent: FlaskClient, fake_app: Flask) -> None:
    first, _ = link_children(parent, fake_app)
    _scheduled(fake_app, first, {Section.HOMEWORK: NOW + dt.timedelta(minutes=1)})
    with fake_app.app_context():
        due.enrol(db.session, {first: [Section.GRADES]}, now=NOW)  # interactive, due now
        db.session.execute(
            sa.update(SyncDue)
            .where(SyncDue.link_id == first, SyncDue.section == "grades")
            .values(queue=Queue.INTERACTIVE, priority=0, due_at=NOW)
        )
        db.session.commit()
        claim = due.claim(
            db.session, now=NOW, lease_for=LEASE, limit=10, ride_along=dt.timedelta(minutes=5)
        )
    assert list(claim.rows) == [Queue.INTERACTIVE] and len(claim) == 1


@pytest.mark.parametrize("why", ["relink", "disabled", "no_credential"])
def test_a_child_that_cannot_be_read_is_not_claimed(
    parent: FlaskClient, fake_app: Flask, why: str
) -> None:
    first, second = link_children(parent, fake_app)
    _rows_for(fake_app, first)
    with fake_app.app_context():
        link = db.session.get(ChildLink, first)
        assert link is not None
        if why == "relink":
            link.status = LinkStatus.RELINK_REQUIRED
        elif why == "disabled":
            db.session.execute(sa.update(ConnectorInstance).values(enabled=False))
        else:
            db.session.execute(
                sa.update(ChildLink).where(ChildLink.id == first).values(credential_id=None)
            )
        db.session.commit()
        assert len(due.claim(db.session, now=NOW, lease_for=LEASE, limit=10)) == 0


def test_a_lease_that_ran_out_is_claimed_again_and_the_old_holder_cannot_settle(
    parent: FlaskClient, fake_app: Flask
) -> None:
    first, _ = link_children(parent, fake_app)
    _rows_for(fake_app, first)
    with fake_app.app_context():
        crashed = due.claim(db.session, now=NOW, lease_for=LEASE, limit=10)
        db.session.commit()
        assert len(crashed) == 2
        assert len(due.claim(db.session, now=NOW + LEASE / 2, lease_for=LEASE, limit=10)) == 0
        later = NOW + LEASE + dt.timedelta(seconds=1)
        again = due.claim(db.session, now=later, lease_for=LEASE, limit=10)
        db.session.commit()
        assert len(again) == 2
        [row, _] = due.held(
            db.session, [i for i, _ in again.rows[Queue.INTERACTIVE]], lease=again.lease
        )
        assert due.held(db.session, [row.id], lease=crashed.lease) == []
        settled = due.settle(
            db.session, row, lease=crashed.lease, next_due=later, queue=Queue.SCHEDULED, now=later
        )
        assert settled is False
        assert due.settle(
            db.session, row, lease=again.lease, next_due=later, queue=Queue.SCHEDULED, now=later
        )
        db.session.commit()


def test_concurrent_ticks_never_claim_a_row_twice(
    parent: FlaskClient, fake_app: Flask, database_url: str
) -> None:
    first, second = link_children(parent, fake_app)
    with fake_app.app_context():
        due.enrol(db.session, {first: list(Section), second: list(Section)}, now=NOW)
        db.session.commit()
        total = db.session.scalar(select(sa.func.count()).select_from(SyncDue))
    engine = sa.create_engine(database_url, connect_args=_wait_for_lock(database_url))
    start = threading.Barrier(6)
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def scheduler() -> None:
        try:
            with Session(engine) as session:
                start.wait()
                for _ in range(4):
                    claim = due.claim(session, now=NOW, lease_for=LEASE, limit=2)
                    session.commit()
                    with lock:
                        claimed.extend(i for rows in claim.rows.values() for i, _ in rows)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=scheduler) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert errors == []
    assert len(claimed) == len(set(claimed)) == total


def _wait_for_lock(url: str) -> dict[str, object]:
    return {"timeout": 30} if url.startswith("sqlite") else {}


def test_a_parents_refresh_moves_the_rows_first_unless_just_synced(
    parent: FlaskClient, fake_app: Flask
) -> None:
    first, _ = link_children(parent, fake_app)
    _rows_for(
        fake_app,
        first,
        queue=Queue.SCHEDULED,
        due_at=NOW + dt.timedelta(hours=1),
        synced_at=NOW - dt.timedelta(seconds=30),
    )
    with fake_app.app_context():
        debounce = dt.timedelta(seconds=60)
        assert due.hurry(db.session, first, [Section.GRADES], now=NOW, debounce=debounce) == 0
        later = NOW + dt.timedelta(minutes=5)
        assert due.hurry(db.session, first, [Section.GRADES], now=later, debounce=debounce) == 1
        db.session.commit()
    found = rows(fake_app)
    assert found[(first, Section.GRADES)].queue is Queue.INTERACTIVE
    assert found[(first, Section.HOMEWORK)].queue is Queue.SCHEDULED


def test_unlinking_deletes_the_childs_rows(parent: FlaskClient, fake_app: Flask) -> None:
    first, second = link_children(parent, fake_app)
    tick(fake_app)
    with fake_app.app_context():
        db.session.delete(db.session.get(ChildLink, first))
        db.session.commit()
    assert {link for link, _ in rows(fake_app)} == {second}
