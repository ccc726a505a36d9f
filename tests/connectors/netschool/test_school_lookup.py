"""A school typed the way parents type it, against the NetSchool emulator's directory."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from connectors import errors
from connectors.base import Credentials
from connectors.netschool import NetSchoolConnector
from connectors.netschool.schools import match_school
from regional_mock.netschool import create_app
from regional_mock.world import build_world
from tests.support.live import serving

LYCEUM = "МБОУ Лицей № 3 г. Самары"


@pytest.fixture(scope="module")
def netschool() -> t.Iterator[NetSchoolConnector]:
    """Serve the emulator over the demo world and return a connector to it."""
    with serving(create_app(build_world(today=dt.date(2025, 10, 15), seed=2026))) as url:
        yield NetSchoolConnector.from_settings(url, {})


def _students(connector: NetSchoolConnector, school: str) -> list[str]:
    session = connector.login(Credentials("СмирноваИС", "Пароль-2026", school=school))
    return [s.full_name for s in connector.students(session)]


@pytest.mark.parametrize(
    "typed",
    [
        "Лицей № 3",
        "лицей 3",
        "Лицей №3",
        "ЛИЦЕЙ N3",
        "лицей No 3",
        "мбоу «Лицей № 3»",
        'МБОУ "ЛИЦЕЙ №3" г.Самары',
        "лицей № 3, самара",
        "Лицей №3 г. Самары",
    ],
)
def test_the_school_is_found_however_the_parent_writes_it(
    netschool: NetSchoolConnector, typed: str
) -> None:
    assert _students(netschool, typed) == ["Смирнов Максим"]


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("лицей 5", [LYCEUM]),  # no such number: the schools sharing a word
        ("Самара", [LYCEUM, "МБОУ Школа № 45 г.о. Самара", "МБДОУ «Д/с № 12» г.о. Самара"]),
        ("сош 45", ["МБОУ Школа № 45 г.о. Самара"]),  # one fits, but the login is not there
    ],
)
def test_a_name_that_fits_none_or_several_offers_the_directorys_schools(
    netschool: NetSchoolConnector, typed: str, offered: list[str]
) -> None:
    with pytest.raises(errors.InvalidCredentials) as refused:
        _students(netschool, typed)
    if isinstance(refused.value, errors.SchoolNotFound):
        assert sorted(refused.value.candidates) == sorted(offered)
    else:  # the one school that fits was tried: the login is not one of its parents'
        assert offered == ["МБОУ Школа № 45 г.о. Самара"]


def test_an_unknown_school_offers_nothing(netschool: NetSchoolConnector) -> None:
    with pytest.raises(errors.SchoolNotFound) as refused:
        _students(netschool, "Гимназия № 999")
    assert refused.value.candidates == ()


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("школа", ["МБОУ Школа № 45 г.о. Самара"]),  # the only one fits: offered, not taken
        ("Лицей", [LYCEUM]),
        ("лицей г. Самары", [LYCEUM]),
    ],
)
def test_a_name_that_says_only_the_kind_of_school_offers_the_schools_it_fits(
    netschool: NetSchoolConnector, typed: str, offered: list[str]
) -> None:
    with pytest.raises(errors.SchoolNotFound) as refused:
        _students(netschool, typed)
    assert not isinstance(refused.value, errors.SchoolNameTooVague)
    assert list(refused.value.candidates) == offered


@pytest.mark.parametrize("typed", ["МБОУ", "№", "мбоу №", "«»"])
def test_a_name_with_nothing_to_tell_schools_apart_asks_for_more(
    netschool: NetSchoolConnector, typed: str
) -> None:
    with pytest.raises(errors.SchoolNameTooVague) as refused:
        _students(netschool, typed)
    assert refused.value.candidates == ()


def _school(school_id: int, short: str, town: str) -> dict[str, t.Any]:
    return {"id": school_id, "shortName": short, "name": f"{short} (г. {town}) "}


TWINS = [_school(1, "МБОУ Школа № 1", "Самара"), _school(2, "МБОУ Школа № 1", "Тольятти")]


def test_two_schools_with_one_name_are_offered_with_their_towns() -> None:
    with pytest.raises(errors.SchoolNotFound) as refused:
        match_school(TWINS, "МБОУ Школа № 1")
    assert refused.value.candidates == (
        "МБОУ Школа № 1 (г. Самара)",
        "МБОУ Школа № 1 (г. Тольятти)",
    )
    assert match_school(TWINS, "МБОУ Школа № 1 (г. Тольятти)") == 2


def test_many_schools_of_one_kind_ask_for_more_instead_of_a_list() -> None:
    many = [_school(n, f"МБОУ Школа № {n}", "Самара") for n in range(1, 30)]
    with pytest.raises(errors.SchoolNameTooVague):
        match_school(many, "школа")
    assert match_school(many, "школа 17") == 17
