"""The kit every connector shares: settings checks, the drift reader and section dispatch."""

from __future__ import annotations

import typing as t

import pytest

from connectors.base import FETCHES
from connectors.base import fetch_of
from connectors.dnevnik_ru import DnevnikRuConnector
from connectors.errors import UnexpectedResponse
from connectors.errors import reading
from connectors.mesh import MeshConnector
from connectors.netschool import NetSchoolConnector
from connectors.schema import Section
from connectors.settings import MAX_SECONDS
from connectors.settings import SettingsCheck

BASE = "https://diary.example"
check = SettingsCheck("Example")
DNEVNIK = {"mobile_client_id": "m", "mobile_client_secret": "s"}
BUILT_INS: tuple[tuple[t.Any, dict[str, t.Any]], ...] = (
    (MeshConnector, {}),
    (DnevnikRuConnector, DNEVNIK),
    (NetSchoolConnector, {}),
)


def test_unknown_settings_are_refused_by_name_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"^Example: unknown settings tiemout; known: a, b$"):
        check.only({"a": 1, "tiemout": 2}, {"b", "a"})
    check.only({"a": 1}, {"a", "b"})


@pytest.mark.parametrize(
    "value", ["ftp://x.example", "x.example", "https://x.example?a=1", "https://x#f", 5, "", None]
)
def test_a_url_must_be_http_with_a_host_and_no_query(value: object) -> None:
    with pytest.raises(ValueError, match="^Example: base_url must be an http"):
        check.http_url(value, "base_url")


def test_a_url_loses_its_blanks_and_trailing_slash() -> None:
    assert check.http_url(" https://x.example/diary/ ", "base_url") == "https://x.example/diary"


@pytest.mark.parametrize("value", [0, -1, MAX_SECONDS + 1, True, "10", None])
def test_seconds_are_a_number_within_the_one_bound(value: object) -> None:
    with pytest.raises(ValueError, match=r"read_timeout must be a number of seconds in \(0, 300\]"):
        check.seconds(value, "read_timeout")


def test_timeouts_default_to_connect_3_05_and_read_10() -> None:
    assert check.timeout({}) == (3.05, 10.0)
    assert check.timeout({"read_timeout": 30}) == (3.05, 30.0)


@pytest.mark.parametrize(("connector", "settings"), BUILT_INS, ids=lambda c: getattr(c, "name", ""))
def test_every_built_in_connector_shares_the_bound(
    connector: t.Any, settings: dict[str, t.Any]
) -> None:
    connector.from_settings(BASE, {**settings, "read_timeout": MAX_SECONDS})
    with pytest.raises(ValueError, match="read_timeout"):
        connector.from_settings(BASE, {**settings, "read_timeout": MAX_SECONDS + 0.5})


def test_blank_text_is_refused_and_text_is_kept_as_given() -> None:
    with pytest.raises(ValueError, match="secret must be a non-empty string"):
        check.text("  ", "secret")
    assert check.text(" s ", "secret") == " s "


@pytest.mark.parametrize("drift", [KeyError("k"), IndexError(0), TypeError(), ValueError()])
def test_reading_turns_drift_into_unexpected_response(drift: Exception) -> None:
    with pytest.raises(UnexpectedResponse, match="^Example marks: unexpected shape") as caught:
        with reading("Example marks"):
            raise drift
    assert caught.value.__cause__ is drift


def test_every_section_has_a_declared_fetch() -> None:
    assert set(FETCHES) == set(Section)


def test_sections_are_fetched_through_the_table() -> None:
    mesh = MeshConnector.from_settings(BASE, {})
    for section in MeshConnector.sections:
        assert fetch_of(mesh, section) == getattr(mesh, f"fetch_{section.value}")


def test_a_section_without_its_capability_has_no_fetch() -> None:
    netschool = NetSchoolConnector.from_settings(BASE, {})
    with pytest.raises(TypeError, match="'netschool' has no fetch of section 'rating'"):
        fetch_of(netschool, Section.RATING)
