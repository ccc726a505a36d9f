"""Stale-while-revalidate: a slightly old snapshot shows at once and refreshes behind."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import SectionSnapshot
from gateway.wiring import services
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade


def _age(app: Flask, by: dt.timedelta) -> None:
    with app.app_context():
        for row in db.session.scalars(select(SectionSnapshot)):
            row.fetched_at = row.fetched_at.replace(tzinfo=dt.UTC) - by
        db.session.commit()


def test_an_old_snapshot_is_shown_labelled_and_refreshed_in_the_background(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    grade(school.grades["s1"], value="4", numeric=4.0)
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with fake_app.app_context():
        child = db.session.scalar(select(ChildLink.id).order_by(ChildLink.position))
    assert parent.get(f"/child/{child}").text.count('class="grade"') == 1
    grade(school.grades["s1"], value="5", numeric=5.0)  # a new mark appears at school
    _age(fake_app, dt.timedelta(minutes=30))
    calls = school.calls["grades"]
    page = parent.get(f"/child/{child}")
    assert page.text.count('class="grade"') == 1 and "обновляются" in page.text
    with fake_app.app_context():
        services().diary.revalidate.drain()  # type: ignore[union-attr]
    assert school.calls["grades"] == calls + 1
    assert parent.get(f"/child/{child}").text.count('class="grade"') == 2


def test_a_snapshot_older_than_the_window_is_fetched_before_the_page(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with fake_app.app_context():
        child = db.session.scalar(select(ChildLink.id).order_by(ChildLink.position))
    parent.get(f"/child/{child}")
    grade(school.grades["s1"], value="3", numeric=3.0)
    _age(fake_app, dt.timedelta(hours=2))
    assert parent.get(f"/child/{child}").text.count('class="grade"') == 1
