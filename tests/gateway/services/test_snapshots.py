"""A snapshot keeps the newest data whatever order the writes arrive in."""

from __future__ import annotations

import datetime as dt
import typing as t

from flask import Flask
from sqlalchemy import select

from connectors.schema import Period
from connectors.schema import Section
from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import SectionSnapshot
from gateway.services.snapshots import store
from tests.gateway.conftest import build_fake_app
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool

PERIOD = Period(start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 14))
EARLIER = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
LATER = EARLIER + dt.timedelta(seconds=20)


def _child(app: Flask) -> int:
    parent = signed_in(app, make_parent(app))
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with app.app_context():
        return int(db.session.scalars(select(ChildLink.id)).first())  # type: ignore[arg-type]


def _write(link_id: int, text: str, at: dt.datetime) -> SectionSnapshot | None:
    written = store(
        db.session,
        link_id=link_id,
        section=Section.HOMEWORK,
        period=PERIOD,
        payload=[{"text": text}],
        fetched_at=at,
    )
    db.session.commit()
    return written


def test_a_slow_fetch_that_ends_last_does_not_replace_newer_data(
    make_app: t.Callable[..., Flask], school: FakeSchool
) -> None:
    app = build_fake_app(make_app)
    link_id = _child(app)
    with app.app_context():
        assert _write(link_id, "newer", LATER) is not None  # the quick refresh, asked later
        assert _write(link_id, "older", EARLIER) is None  # the slow one, asked earlier
        [row] = db.session.scalars(select(SectionSnapshot)).all()
        assert row.payload == [{"text": "newer"}]
        assert _write(link_id, "newest", LATER + dt.timedelta(seconds=1)) is not None
        db.session.expire_all()
        [row] = db.session.scalars(select(SectionSnapshot)).all()
        assert row.payload == [{"text": "newest"}]
