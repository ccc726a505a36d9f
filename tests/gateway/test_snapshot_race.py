"""Many tabs opening the same never-fetched page at once, over a real server."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import SectionSnapshot
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade
from tests.support.live import serving

TABS = 12


def _link_one_child(parent: FlaskClient, app: Flask) -> int:
    reply = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert reply.status_code == 303
    with app.app_context():
        for instance in db.session.scalars(select(ConnectorInstance)):
            instance.concurrency_limit = TABS
        db.session.commit()
        return db.session.scalar(select(ChildLink.id).where(ChildLink.display_name == "Child1"))


def _open_at_once(url: str, cookie: str) -> list[requests.Response]:
    start = threading.Barrier(TABS)

    def tab(_: int) -> requests.Response:
        browser = requests.Session()
        browser.cookies.set("dg_session", cookie)
        start.wait(timeout=10)
        return browser.get(url, timeout=30)

    with ThreadPoolExecutor(max_workers=TABS) as tabs:
        return list(tabs.map(tab, range(TABS)))


def _snapshot_rows(app: Flask, child: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(SectionSnapshot.id)).where(SectionSnapshot.link_id == child)
        )


def test_tabs_opening_a_never_fetched_section_at_once_all_get_the_page(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    grade(school.grades["s1"], value="5", numeric=5.0, comment="Работа у доски")
    child = _link_one_child(parent, fake_app)
    # Every tab's fetch waits for all the others: none can find another's snapshot first.
    school.barrier = threading.Barrier(TABS)
    cookie = parent.get_cookie("dg_session").value
    with serving(fake_app) as base:
        replies = _open_at_once(f"{base}/child/{child}?section=grades", cookie)
    assert [r.status_code for r in replies] == [200] * TABS
    assert all("Работа у доски" in r.text for r in replies)
    assert school.calls["grades"] == TABS
    assert _snapshot_rows(fake_app, child) == 1
