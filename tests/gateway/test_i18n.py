"""The interface speaks Russian by default and English on request, with local dates and numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "gateway" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")
ENGLISH_MONTHS = (
    "January February March April May June July August September October November December"
).split()


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _entries() -> list[tuple[str, str]]:
    """Pair every msgid (and plural msgid) with each of its English msgstr forms."""
    pairs = []
    for message in _catalog(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po", "en"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs.extend((ids[min(i, len(ids) - 1)], text) for i, text in enumerate(strings))
    return pairs


def test_every_message_has_an_english_translation_and_none_is_fuzzy() -> None:
    catalog = _catalog(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po", "en")
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    empty = [source for source, text in _entries() if not text.strip()]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not empty, f"untranslated entries: {empty}"
    assert not catalog.obsolete, f"obsolete entries: {list(catalog.obsolete)}"


def test_every_translation_keeps_the_placeholders_of_its_source() -> None:
    wrong = [
        (source, text)
        for source, text in _entries()
        if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text))
    ]
    assert not wrong


def _link_with_marks(parent: FlaskClient, fake_app: Flask, school: FakeSchool) -> int:
    grade(school.grades["s1"], value="5", numeric=5.0, weight=10)
    grade(school.grades["s1"], value="3", numeric=3.0, weight=40)
    reply = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert reply.status_code == 303
    with fake_app.app_context():
        return db.session.scalar(select(ChildLink.id).where(ChildLink.display_name == "Child1"))


def test_pages_are_russian_by_default_with_a_decimal_comma(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    child = _link_with_marks(parent, fake_app, school)
    family = parent.get("/").text
    page = parent.get(f"/child/{child}").text
    assert '<html lang="ru">' in family
    assert "Мои дети" in family and "Сегодня" in family
    assert "Средний балл за период" in page and "3,4" in page


@pytest.mark.parametrize("header", ["", "en-GB,en;q=0.9", "de-DE,de;q=0.9"])
def test_the_welcome_page_follows_the_browser_only_when_it_prefers_english(
    fake_app: Flask, header: str
) -> None:
    page = fake_app.test_client().get("/", headers={"Accept-Language": header} if header else {})
    english = header.startswith("en")
    assert ('<html lang="en">' in page.text) is english
    assert ("Sign in with Gosuslugi" in page.text) is english
    assert ("Войти через Госуслуги" in page.text) is not english


def test_choosing_english_translates_the_welcome_page(fake_app: Flask) -> None:
    client = fake_app.test_client()
    assert client.get("/lang/en?next=/").headers["Location"] == "/"
    page = client.get("/", headers={"Accept-Language": "ru-RU"}).text
    assert '<html lang="en">' in page
    assert "All your children’s school diaries in one place" in page
    assert "Sign in with Gosuslugi" in page
    assert not re.search("[А-Яа-яЁё]", page.replace("Русский", ""))


def test_choosing_english_localizes_the_family_and_child_pages(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    child = _link_with_marks(parent, fake_app, school)
    parent.get("/lang/en")
    family = parent.get("/").text
    page = parent.get(f"/child/{child}").text
    assert '<html lang="en">' in family and "My children" in family and "Today" in family
    assert any(month in family for month in ENGLISH_MONTHS)
    assert "Average mark for the period:" in page and "3.4" in page and "3,4" not in page
    assert any(month in page for month in ENGLISH_MONTHS)


def test_switching_back_to_russian_restores_russian_dates(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    parent.get("/lang/en")
    parent.get("/lang/ru")
    family = parent.get("/").text
    assert '<html lang="ru">' in family and "Мои дети" in family
    assert not any(month in family for month in ENGLISH_MONTHS)


def test_an_unknown_language_code_changes_nothing(fake_app: Flask) -> None:
    client = fake_app.test_client()
    client.get("/lang/xx")
    assert 'lang="ru"' in client.get("/").text
