"""Stale-while-revalidate: a slightly old snapshot shows at once and refreshes behind."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import SectionSnapshot
from gateway.runtime import services
from tests.gateway.clock import pin_clock
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


@pytest.mark.parametrize("first", ["child", "family"])
def test_a_refresh_that_failed_makes_both_pages_say_the_system_is_down_with_the_time(
    parent: FlaskClient,
    fake_app: Flask,
    school: FakeSchool,
    monkeypatch: pytest.MonkeyPatch,
    first: str,
) -> None:
    clock = pin_clock(monkeypatch, dt.datetime(2026, 5, 20, 7, 32, tzinfo=dt.UTC))  # 10:32 MSK
    grade(school.grades["s1"], value="4", numeric=4.0, date=clock.at.date())
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with fake_app.app_context():
        child = db.session.scalar(select(ChildLink.id).order_by(ChildLink.position))

    def child_page() -> str:
        return parent.get(f"/child/{child}").text

    def family_card() -> str:
        return _card(parent.get("/").text, "Child1")

    child_page(), family_card()  # good snapshots of both pages at 10:32
    clock.advance(minutes=30)  # old enough to refresh behind the page, young enough to show
    school.down = True  # and the backend keeps failing from now on
    page = child_page() if first == "child" else family_card()
    assert "Данные на 10:32, обновляются" in page and "недоступна" not in page
    with fake_app.app_context():
        services().diary.revalidate.drain()  # type: ignore[union-attr]  # the refresh fails

    for page in (child_page(), family_card()):
        assert "Данные на 10:32: школьная система сейчас недоступна" in page
        assert "обновляются" not in page
    assert child_page().count('class="grade"') == 1  # the data itself is kept
    with fake_app.app_context():
        services().diary.revalidate.drain()  # type: ignore[union-attr]  # before the next test


def test_a_refresh_that_works_again_clears_the_unavailable_label(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = pin_clock(monkeypatch, dt.datetime(2026, 5, 20, 7, 32, tzinfo=dt.UTC))
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with fake_app.app_context():
        child = db.session.scalar(select(ChildLink.id).order_by(ChildLink.position))

    def settled_page() -> str:
        page = parent.get(f"/child/{child}").text
        with fake_app.app_context():
            services().diary.revalidate.drain()  # type: ignore[union-attr]
        return page

    settled_page()
    clock.advance(minutes=30)
    school.down = True
    settled_page()  # the refresh behind it fails
    assert "недоступна" in settled_page()
    school.down = False
    assert "недоступна" in settled_page()  # still the old data, while this refresh works
    page = settled_page()
    assert "недоступна" not in page and "Обновлено в 11:02" in page


def _card(page: str, child: str) -> str:
    start = page.index(f'data-child="{child}"')
    end = page.find('data-child="', start + 1)
    return page[start : end if end > 0 else len(page)]
