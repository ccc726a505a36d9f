"""The NetSchool connector's operator capabilities, against the emulator over real HTTP."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from connectors import errors
from connectors.base import ChecksRoster
from connectors.base import IssuesCredentials
from connectors.netschool import NetSchoolConnector
from regional_mock.netschool import create_app
from regional_mock.world import build_world
from tests.support.live import serving

SOFIA = ("Новикова София Павловна", dt.date(2012, 10, 5), "Лицей № 3", "8 «А»")


@pytest.fixture(scope="module")
def base_url() -> t.Iterator[str]:
    """Serve the emulator over a fixed-day world for the module."""
    with serving(create_app(build_world(today=dt.date(2025, 10, 15)))) as url:
        yield url


def _connector(base_url: str, **settings: t.Any) -> NetSchoolConnector:
    return NetSchoolConnector.from_settings(base_url, settings)


def test_netschool_declares_both_operator_capabilities(base_url: str) -> None:
    connector = _connector(base_url, operator_api_key="demo-operator-key")
    assert isinstance(connector, ChecksRoster) and isinstance(connector, IssuesCredentials)
    assert "demo-operator-key" not in repr(connector.settings)


def test_the_roster_check_answers_yes_no_or_cannot_say(base_url: str) -> None:
    connector = _connector(base_url, operator_api_key="demo-operator-key")
    assert connector.find_student(*SOFIA) is True
    assert connector.find_student(SOFIA[0], dt.date(2012, 10, 6), *SOFIA[2:]) is False
    assert _connector(base_url).find_student(*SOFIA) is None
    with pytest.raises(errors.AccessDenied):
        _connector(base_url, operator_api_key="wrong").find_student(*SOFIA)


def test_an_issued_login_works_with_the_normal_sign_in(base_url: str) -> None:
    connector = _connector(base_url, operator_api_key="demo-operator-key")
    credentials = connector.issue_credentials(*SOFIA, "Новиков Павел Олегович")

    assert credentials.login.startswith("НовиковПО")
    students = connector.students(connector.login(credentials))
    assert [s.full_name for s in students] == ["Новикова София"]  # NetSchool shows nick names


def test_issuing_needs_the_key_and_a_student_on_the_roster(base_url: str) -> None:
    with pytest.raises(errors.AccessDenied):
        _connector(base_url).issue_credentials(*SOFIA, "Новиков Павел Олегович")
    connector = _connector(base_url, operator_api_key="demo-operator-key")
    with pytest.raises(errors.StudentNotFound):
        connector.issue_credentials(SOFIA[0], dt.date(2012, 1, 1), *SOFIA[2:], "Новиков П. О.")
