"""The hourly housekeeping job: connector-health rows pruned, application documents purged
after retention, timed-out and long-ended sessions cleared, long-expired invitations gone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select

from gateway import jobs
from gateway.extensions import db
from gateway.models import BackendCall
from gateway.models import ConnectorInstance
from gateway.models import Grant
from gateway.models import UserSession
from gateway.services import broker
from tests.gateway.conftest import make_parent

NOW = dt.datetime.now(dt.UTC)


def _session(user_id: int, name: str, *, seen: dt.timedelta, ended: dt.timedelta | None) -> None:
    db.session.add(
        UserSession(
            id=name,
            user_id=user_id,
            created_at=NOW - seen,
            last_seen_at=NOW - seen,
            ended_at=None if ended is None else NOW - ended,
            ended_reason=None if ended is None else "logout",
        )
    )


def _invitation(owner_id: int, name: str, *, expired: dt.timedelta, accepted: bool) -> None:
    db.session.add(
        Grant(
            owner_id=owner_id,
            invitee_name=name,
            token_hash=name * 8,
            invitation_expires_at=NOW - expired,
            accepted_at=NOW - expired - dt.timedelta(days=1) if accepted else None,
        )
    )


def test_the_sweep_clears_only_what_has_outlived_its_keeping(fake_app: Flask) -> None:
    owner = make_parent(fake_app)
    with fake_app.app_context():
        _session(owner, "live", seen=dt.timedelta(minutes=5), ended=None)
        _session(owner, "idle", seen=dt.timedelta(hours=3), ended=None)
        _session(owner, "ended-yesterday", seen=dt.timedelta(days=1), ended=dt.timedelta(days=1))
        _session(owner, "ended-long-ago", seen=dt.timedelta(days=45), ended=dt.timedelta(days=40))
        _invitation(owner, "a", expired=dt.timedelta(days=2), accepted=False)
        _invitation(owner, "b", expired=dt.timedelta(days=40), accepted=False)
        _invitation(owner, "c", expired=dt.timedelta(days=40), accepted=True)
        instance = db.session.scalars(select(ConnectorInstance)).first()
        assert instance is not None
        for age, ok in ((dt.timedelta(days=3), False), (dt.timedelta(hours=1), False)):
            db.session.add(
                BackendCall(
                    instance_id=instance.id, section="grades", ok=ok, latency_ms=5, at=NOW - age
                )
            )
        db.session.commit()

        swept = jobs.sweep()

        sessions = {s.id: s.ended_reason for s in db.session.scalars(select(UserSession))}
        invitations = set(db.session.scalars(select(Grant.invitee_name)))
        calls = db.session.scalars(select(BackendCall)).all()
    assert sessions == {"live": None, "idle": "idle", "ended-yesterday": "logout"}
    assert invitations == {"a", "c"}
    assert len(calls) == 1
    assert swept == {
        "backend_calls": 1,
        "application_documents": 0,
        "sessions": 1,
        "invitations": 1,
        "broker_messages": 0,
        "notifications": 0,
    }


def test_the_embedded_brokers_delivered_messages_are_deleted_a_day_later(tmp_path: Path) -> None:
    url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    assert broker.compact(url, now=NOW) == 0  # no worker has made the tables yet
    engine = sa.create_engine(url.removeprefix("sqla+"))
    local = NOW.astimezone().replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE kombu_message (id INTEGER PRIMARY KEY, visible BOOLEAN,"
                " timestamp DATETIME, payload TEXT, version SMALLINT, queue_id INTEGER)"
            )
        )
        for visible, age in ((False, 30), (False, 1), (True, 30)):
            connection.execute(
                sa.text(
                    "INSERT INTO kombu_message (visible, timestamp, payload, version)"
                    " VALUES (:visible, :at, '{}', 1)"
                ),
                {"visible": visible, "at": local - dt.timedelta(hours=age)},
            )
    assert broker.compact(url, now=NOW) == 1  # delivered a day and more ago
    with engine.connect() as connection:
        left = connection.execute(sa.text("SELECT visible FROM kombu_message")).all()
    engine.dispose()
    assert sorted(bool(v) for (v,) in left) == [False, True]  # recent, and undelivered
    assert broker.compact("redis://127.0.0.1:6379/0", now=NOW) == 0
