"""A real Celery worker on the real broker (Redis when REDIS_URL is set, else the embedded
SQLite transport) runs the tick and every child's sync, queue by queue."""

from __future__ import annotations

import time
from collections.abc import Callable

from celery.contrib.testing.worker import start_worker
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.background import QUEUES
from gateway.background import init_celery
from gateway.extensions import db
from gateway.jobs import CHECKPOINT
from gateway.jobs import HOUSEKEEPING
from gateway.jobs import RECEIVE
from gateway.jobs import SEND
from gateway.jobs import TICK
from gateway.models import Queue
from gateway.models import SyncDue
from tests.gateway.fakes import FakeSchool
from tests.gateway.sync.helpers import link_children

WAIT = 60.0


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {WAIT:.0f} s: {what}")


def _settled(app: Flask) -> bool:
    with app.app_context():
        found = db.session.scalars(select(SyncDue)).all()
        done = bool(found) and all(
            row.queue is Queue.SCHEDULED and row.backfilled_at is not None for row in found
        )
        db.session.rollback()
        return done


def test_a_worker_takes_every_linked_child_from_link_to_backfill_to_the_schedule(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    links = link_children(parent, fake_app)
    celery = fake_app.extensions["celery"]
    with start_worker(
        celery,
        pool="threads",
        concurrency=3,
        queues=list(QUEUES),
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=20,
    ):
        celery.send_task(TICK, queue="scheduled")
        _until(lambda: _settled(fake_app), "every child synced, backfilled and scheduled")
    with fake_app.app_context():
        synced = set(db.session.scalars(select(SyncDue.link_id)))
    assert synced == set(links)
    assert school.calls["grades"] >= 2 * len(links)  # a baseline and a backfill each


def test_the_scheduler_sends_the_tick_the_housekeeping_the_checkpoint_and_the_mail(
    fake_app: Flask,
) -> None:
    schedule = fake_app.extensions["celery"].conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} == {TICK, HOUSEKEEPING, CHECKPOINT, SEND}
    assert schedule["sync-tick"]["schedule"] == 15
    assert schedule["log-checkpoint"]["schedule"] == 60
    assert schedule["notify-send"]["schedule"] == 30


def test_the_scheduler_reads_the_bots_updates_only_when_a_bot_is_configured(
    fake_app: Flask,
) -> None:
    fake_app.config.update(TELEGRAM_TOKEN="1:x", TELEGRAM_POLL_SECONDS=5)
    celery = init_celery(fake_app, tick_seconds=15, checkpoint_seconds=60, send_seconds=30)
    assert celery.conf.beat_schedule["telegram-receive"] == {"task": RECEIVE, "schedule": 5.0}
