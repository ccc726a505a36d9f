"""Irina's three real children, each through its own emulator: what their pages say."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from flask import Flask

from regional_mock.world import demo_today
from tests.gateway.demo_children import IRINA
from tests.gateway.demo_children import SYSTEMS
from tests.gateway.demo_children import link_child
from tests.support.idp import sign_in

TODAY = demo_today()
WEEK = f"start={TODAY}&end={TODAY + dt.timedelta(days=7)}"
# The systems' short names, as each connector declares them (display_names).
TITLES = {"mesh": "МЭШ", "dnevnik_ru": "Дневник.ру", "netschool": "Сетевой город"}
UNREPORTED = "не сообщает о заменах и отменах уроков"


@pytest.fixture
def gateway(make_stack_app: t.Callable[..., Flask]) -> Flask:
    """A gateway on the live stack; CSRF is proven elsewhere, so forms post bare here."""
    return make_stack_app(WTF_CSRF_ENABLED=False)


@pytest.mark.parametrize("system", SYSTEMS)
def test_each_childs_schedule_shows_its_changes_or_says_the_system_reports_none(
    gateway: Flask, system: str
) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    child = link_child(gateway, client, system)
    schedule = client.get(f"/child/{child}?section=schedule&{WEEK}").text
    family = client.get("/").text
    sentence = f"Система «{TITLES[system]}» {UNREPORTED}"
    if system == "mesh":  # the only wire format that marks replaced and cancelled lessons
        assert 'class="lesson status-replaced"' in schedule
        assert 'class="lesson status-cancelled"' in schedule
        assert "Изменения в расписании" in family
        assert UNREPORTED not in schedule + family
    else:
        assert sentence in schedule and sentence in family
        assert "status-replaced" not in schedule and "status-cancelled" not in schedule


DETAILS = {
    "mesh": "Смирнов Артём Дмитриевич · ГБОУ Школа № 1535 · 7 «Б» · Москва",
    "dnevnik_ru": "Смирнова Полина Дмитриевна · МОУ СОШ № 12 г. Твери · 2 «А» · Тверская область",
    # NetSchool gives a parent «Фамилия Имя» only (nickName, note §2.1): no patronymic.
    "netschool": "Смирнов Максим · МБОУ Лицей № 3 г. Самары · 10 «А» · Самарская область",
}


@pytest.mark.parametrize("system", SYSTEMS)
def test_each_childs_header_and_card_name_the_school_and_the_class(
    gateway: Flask, system: str
) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    child = link_child(gateway, client, system)
    assert DETAILS[system] in client.get(f"/child/{child}").text
    assert DETAILS[system] in client.get("/").text
