"""Connector-health rows: recording prunes the old ones, keeping what the pages still read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.errors import BackendUnavailable
from connectors.schema import Section
from gateway.extensions import db
from gateway.models import BackendCall
from gateway.models import ConnectorInstance
from gateway.services import health

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
LINK = 1


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """Return the gateway's database session inside an app context."""
    with app.app_context():
        yield db.session


def _instance(session: Session, key: str) -> ConnectorInstance:
    instance = ConnectorInstance(
        key=key,
        region_code="77",
        region_name="Москва",
        connector="fake",
        base_url="http://school.test",
    )
    session.add(instance)
    session.flush()
    return instance


def _call(session: Session, instance: ConnectorInstance, *, ok: bool, ago: dt.timedelta) -> int:
    call = BackendCall(
        instance_id=instance.id,
        section=str(Section.GRADES),
        ok=ok,
        latency_ms=100,
        error=None if ok else "BackendUnavailable",
        at=NOW - ago,
    )
    session.add(call)
    session.flush()
    return call.id


def _record(session: Session, instance: ConnectorInstance, *, now: dt.datetime = NOW) -> None:
    outcome = {(LINK, Section.GRADES): BackendUnavailable("down")}
    health.record(session, {LINK: instance.id}, outcome, seconds=0.1, now=now)
    session.commit()


def _left(session: Session) -> set[int]:
    return set(session.scalars(select(BackendCall.id)))


def test_recording_prunes_calls_older_than_kept_and_keeps_recent_ones(session: Session) -> None:
    instance = _instance(session, "moscow-fake")
    old_failure = _call(session, instance, ok=False, ago=dt.timedelta(days=3))
    old_success = _call(session, instance, ok=True, ago=dt.timedelta(days=3))
    yesterday = _call(session, instance, ok=True, ago=dt.timedelta(days=1))
    recent = _call(session, instance, ok=False, ago=dt.timedelta(minutes=10))
    _record(session, instance)
    left = _left(session)
    assert old_failure not in left and old_success not in left
    assert {yesterday, recent} < left and len(left) == 3  # and the call just recorded


def test_an_instances_latest_success_stays_however_old(session: Session) -> None:
    instance = _instance(session, "moscow-fake")
    last_success = _call(session, instance, ok=True, ago=dt.timedelta(days=5))
    failure = _call(session, instance, ok=False, ago=dt.timedelta(days=4))
    other = _instance(session, "tver-fake")
    other_success = _call(session, other, ok=True, ago=dt.timedelta(days=6))
    before = health.summary(session, instance, frozenset(), now=NOW).last_success_at
    _record(session, instance)
    left = _left(session)
    assert {last_success, other_success} < left and failure not in left
    assert health.summary(session, instance, frozenset(), now=NOW).last_success_at == before


def test_pruning_waits_until_a_call_is_overdue_by_the_interval(session: Session) -> None:
    instance = _instance(session, "moscow-fake")
    just_old = _call(session, instance, ok=False, ago=health.KEEP + dt.timedelta(minutes=30))
    _record(session, instance)
    assert just_old in _left(session)  # prunable, but not for PRUNE_EVERY yet: no DELETE ran
    _record(session, instance, now=NOW + health.PRUNE_EVERY)
    assert just_old not in _left(session)


def test_prune_returns_how_many_calls_it_deleted(session: Session) -> None:
    instance = _instance(session, "moscow-fake")
    for days in (3, 4):
        _call(session, instance, ok=False, ago=dt.timedelta(days=days))
    _call(session, instance, ok=False, ago=dt.timedelta(hours=1))
    assert health.prune(session, now=NOW) == 2
    assert health.prune(session, now=NOW) == 0
