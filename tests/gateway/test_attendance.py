"""A late arrival is a late arrival: never counted or listed among the absences."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from connectors.schema import Section
from gateway.extensions import db
from gateway.models import ChildLink
from regional_mock.world import demo_today
from tests.gateway.fakes import FakeSchool

TODAY = demo_today()


@pytest.fixture
def anna(parent: FlaskClient, fake_app: Flask, school: FakeSchool) -> int:
    """Link the fake school's children after giving Anna two absences and a late arrival."""
    school.records[Section.ATTENDANCE]["s1"] += [
        Attendance(date=TODAY - dt.timedelta(days=1), kind=AttendanceKind.LATE, subject="Химия"),
        Attendance(
            date=TODAY - dt.timedelta(days=2), kind=AttendanceKind.UNEXCUSED, subject="Физика"
        ),
        Attendance(date=TODAY - dt.timedelta(days=3), kind=AttendanceKind.ILL, subject="История"),
    ]
    reply = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert reply.status_code == 303
    with fake_app.app_context():
        return db.session.scalar(select(ChildLink.id).where(ChildLink.external_id == "s1"))


def _between(text: str, start: str, end: str) -> str:
    first = text.index(start)
    return text[first : text.index(end, first)]


def test_the_family_card_lists_the_late_arrival_apart_from_the_absences(
    parent: FlaskClient, anna: int
) -> None:
    card = _between(parent.get("/").text, 'data-child="Child1"', "</li>\n")
    absences = _between(card, "<h3>Пропуски</h3>", "</ul>")
    assert "Физика" in absences and "История" in absences
    assert "Химия" not in absences and "опоздание" not in absences
    late = _between(card, "<h3>Опоздания</h3>", "</ul>")
    assert "Химия" in late


def test_the_attendance_section_counts_absences_and_late_arrivals_apart(
    parent: FlaskClient, anna: int
) -> None:
    page = parent.get(f"/child/{anna}?section=attendance").text
    assert "Всего пропусков: 2." in page
    assert "Опозданий: 1." in page
    assert "Без уважительной причины (прогулы): 1" in page
    assert 'class="absence kind-late"' not in page and 'class="late kind-late"' in page
