"""Link the fake school's children and drive the sync the way a tick and a worker do."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.schema import Section
from gateway import jobs
from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import SyncDue
from gateway.runtime import services
from gateway.services import sync


def link_children(parent: FlaskClient, app: Flask) -> list[int]:
    """Link the fake parent's two children; return their link ids."""
    answer = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert answer.status_code in (200, 302, 303), answer.text
    with app.app_context():
        return list(db.session.scalars(select(ChildLink.id).order_by(ChildLink.position)))


def tick(app: Flask) -> list[tuple[str, list[int], str]]:
    """Run one tick; return the batches it would send as (queue, due ids, lease)."""
    with app.app_context():
        svc = services()
        claim = sync.tick(db.session, pool=svc.pool, now=svc.now(), settings=svc.sync)
        db.session.commit()
        return [(queue.value, ids, claim.lease) for queue, ids in claim.batches()]


def run(app: Flask, due_ids: list[int], lease: str) -> sync.Synced | None:
    """Run one batch the way the worker's task does."""
    with app.app_context():
        synced = jobs.sync_service().run(due_ids, lease=lease)
        db.session.commit()
        return synced


def due_now(app: Flask, at: dt.datetime | None = None) -> None:
    """Make every row of the due list due at once (the time a sync waits, skipped).

    ``at`` is the gateway's time when a test pins it (the wall clock's otherwise).
    """
    with app.app_context():
        db.session.execute(sa.update(SyncDue).values(due_at=at or dt.datetime.now(dt.UTC)))
        db.session.commit()


def drain(app: Flask, *, rounds: int = 5) -> int:
    """Tick and run until nothing is due; return how many batches ran."""
    ran = 0
    for _ in range(rounds):
        batches = tick(app)
        if not batches:
            return ran
        for _, ids, lease in batches:
            run(app, ids, lease)
            ran += 1
    return ran


def rows(app: Flask) -> dict[tuple[int, Section], SyncDue]:
    """Return the due rows by (link, section), detached."""
    with app.app_context():
        found = db.session.scalars(select(SyncDue)).all()
        db.session.expunge_all()
        return {(row.link_id, Section(row.section)): row for row in found}
