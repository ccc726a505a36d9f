"""NetSchoolConnector sends a fetch's independent calls at once, each parent's state intact."""

from __future__ import annotations

import datetime as dt
import threading
import typing as t

import pytest
import requests
import responses

from connectors.concurrency import POOL_SIZE
from connectors.netschool import NetSchoolConnector
from connectors.netschool import NetSchoolSettings
from connectors.schema import Period
from tests.connectors.helpers import barrier_reply
from tests.connectors.netschool.helpers import API
from tests.connectors.netschool.helpers import BASE
from tests.connectors.netschool.helpers import COOKIE
from tests.connectors.netschool.helpers import NOW
from tests.connectors.netschool.helpers import load
from tests.connectors.netschool.helpers import session
from tests.connectors.netschool.helpers import with_session

WEEK = Period(start=dt.date(2025, 10, 13), end=dt.date(2025, 10, 19))
STUDENT = "583101"


@pytest.fixture
def mocked() -> t.Iterator[responses.RequestsMock]:
    """Serve replies in any order; every one must be used."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def connector() -> NetSchoolConnector:
    """Return a connector with its own HTTP session."""
    return NetSchoolConnector(NetSchoolSettings.parse(BASE, {}), now=lambda: NOW)


def test_the_diary_and_the_teachers_are_asked_for_at_once(
    mocked: responses.RequestsMock,
) -> None:
    """A barrier of two trips only if ``student/diary`` and ``classmeetings`` overlap."""
    barrier = threading.Barrier(2, timeout=30)
    diary, meetings = load("diary_week"), load("classmeetings")
    mocked.add_callback(
        responses.GET,
        f"{API}/student/diary",
        callback=barrier_reply(barrier, diary),
        match=with_session(),
    )
    url = f"{BASE}/api/mobile/classmeetings"
    mocked.add_callback(responses.GET, url, callback=barrier_reply(barrier, meetings))

    lessons = {x.id: x for x in connector().fetch_schedule(session(), STUDENT, WEEK)}

    assert lessons["311204640"].teacher == "Соколова Ирина Павловна"


def test_the_cards_of_zero_weights_are_read_at_once_with_the_parents_cookie(
    mocked: responses.RequestsMock,
) -> None:
    """Four cards, a barrier of four; every card call carries the session's ``at`` and cookie."""
    edge = Period(start=dt.date(2025, 10, 20), end=dt.date(2025, 10, 26))
    mocked.get(f"{API}/student/diary", json=load("diary_edge_cases"), match=with_session())
    barrier = threading.Barrier(4, timeout=30)
    weights = {371003001: 10, 371003002: 40, 371003011: 20, 371003013: 0}
    for assignment_id, weight in weights.items():
        card = dict(load("assign_card"), id=assignment_id, weight=weight)
        mocked.add_callback(
            responses.GET,
            f"{API}/student/diary/assigns/{assignment_id}",
            callback=barrier_reply(barrier, card),
            match=with_session(),
        )

    grades = connector().fetch_grades(session(mobile_token=None), STUDENT, edge)

    by_id = {g.id: g.weight for g in grades}
    assert by_id == {"371003001": 10.0, "371003002": 40.0, "371003011": 20.0, "371003013": None}
    assert {c.request.headers["Cookie"] for c in mocked.calls} == {f"NSSESSIONID={COOKIE}"}


def test_an_own_session_is_pooled_for_the_fan_out_and_an_injected_one_is_left_as_is() -> None:
    """Only the session the connector creates gets the larger pools."""
    own = connector()._http
    assert own.get_adapter(BASE).poolmanager.connection_pool_kw["maxsize"] == POOL_SIZE
    injected = requests.Session()
    NetSchoolConnector.from_settings(BASE, {}, http=injected)
    assert injected.get_adapter(BASE).poolmanager.connection_pool_kw["maxsize"] == 10
