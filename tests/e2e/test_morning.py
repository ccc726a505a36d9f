"""In Chromium: Ирина's morning — three children, every section, a chart, the calendar."""

from __future__ import annotations

import typing as t

import icalendar
import pytest
import requests

from tests.e2e.flows import link_three
from tests.e2e.flows import sign_in

pytestmark = pytest.mark.browser
SECTIONS = [
    "Оценки",
    "Расписание",
    "Домашние задания",
    "Посещаемость",
    "События",
    "Сообщения",
    "Рейтинг",
]


def test_irinas_whole_morning(page: t.Any, live_gateway: str) -> None:
    sign_in(page, live_gateway, "+79000000001", "parent-demo-1")
    link_three(page)
    page.get_by_role("link", name="Мои дети").click()
    cards = page.locator("li.card[data-child]")
    assert cards.count() == 3
    for card in cards.all():
        text = card.inner_text()
        assert "Новые оценки" in text and "Домашние задания" in text
        assert "недоступна" not in text
    assert "Родительское собрание" in page.content()  # the meeting, from MESH's calendar

    for child in ("Child1", "Child2", "Child3"):
        page.get_by_role("link", name="Мои дети").click()
        page.get_by_role("link", name=child).click()
        for title in SECTIONS:
            page.locator("nav.tabs").get_by_role("link", name=title).click()
            heading = page.get_by_role("heading", level=2).first.inner_text()
            assert heading.startswith(title), (child, title, heading)
            body = page.locator("main").inner_text()
            assert "недоступна" not in body and "Ошибка" not in body, (child, title)
            if title == "Оценки":
                assert page.locator("figure.chart svg polyline").count() > 0, child

    page.get_by_role("link", name="Мои дети").click()
    page.get_by_role("link", name="Child3").click()
    page.get_by_role("link", name="Календарь").click()
    page.get_by_role("button", name="Создать ссылку").click()
    feed_url = page.locator("#feed-https").input_value()
    feed = requests.get(feed_url, timeout=10)
    assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(feed.content)
    events = [c for c in calendar.walk("VEVENT")]
    timed = [e for e in events if e.get("DTSTART").params.get("TZID") == "Europe/Samara"]
    assert timed, "the lessons of a Samara school are in Samara time"
    assert any(not hasattr(e.get("DTSTART").dt, "hour") for e in events), "homework deadlines"
