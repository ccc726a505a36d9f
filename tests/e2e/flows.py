"""Steps the browser tests share: sign in through the provider, link children."""

from __future__ import annotations

import datetime as dt
import typing as t

from flask import Flask
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import SectionSnapshot


def sign_in(page: t.Any, gateway: str, login: str, password: str) -> None:
    """Sign in through the provider's pages and accept the gateway's consent if asked."""
    page.goto(gateway)
    page.get_by_role("link", name="Войти через Госуслуги").click()
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    consent = page.locator("button[name=decision][value=allow]")
    if consent.count():
        consent.click()
    page.wait_for_load_state()
    if page.locator("#accept").count():
        page.check("#accept")
        page.get_by_role("button", name="Продолжить").click()


def start_link(page: t.Any, region: str) -> None:
    """Open the link form of a region."""
    page.get_by_role("link", name="Привязать ребёнка").first.click()
    page.get_by_role("link", name=region).click()


def link_maxim(page: t.Any, password: str = "Пароль-2026") -> None:
    """Link Максим at the NetSchool lyceum."""
    start_link(page, "Самарская область")
    page.fill("#school", "Лицей № 3")
    page.fill("#login", "СмирноваИС")
    page.fill("#password", password)
    page.get_by_role("button", name="Проверить и привязать").click()


def link_polina(page: t.Any) -> None:
    """Link Полина through Dnevnik.ru's own sign-in page (the partner flow)."""
    start_link(page, "Тверская область")
    page.get_by_role("link", name="Войти на сайте «Дневник.ру»").click()
    page.fill("input[name=login]", "smirnova.i.s")
    page.fill("input[name=password]", "Dnevnik-2026")
    page.locator("form button, form input[type=submit]").first.click()


def link_three(page: t.Any) -> None:
    """Link Артём (MESH, with the SMS code), Полина (Dnevnik.ru's own page) and Максим."""
    start_link(page, "Москва")
    page.fill("#login", "irina.smirnova")
    page.fill("#password", "Mesh-2026-parent")
    page.get_by_role("button", name="Проверить и привязать").click()
    page.fill("#code", "424242")
    page.get_by_role("button", name="Подтвердить").click()
    page.get_by_text("Привязаны: Child1 — Смирнов Артём").wait_for()
    link_polina(page)
    page.get_by_text("Привязаны: Child2 — Смирнова Полина").wait_for()
    link_maxim(page)
    page.get_by_text("Привязаны: Child3 — Смирнов Максим").wait_for()


def age_snapshots(app: Flask, by: dt.timedelta = dt.timedelta(hours=3)) -> None:
    """Make every cached section old enough that the next page asks the backends again."""
    with app.app_context():
        for row in db.session.scalars(select(SectionSnapshot)):
            row.fetched_at = row.fetched_at.replace(tzinfo=row.fetched_at.tzinfo or dt.UTC) - by
        db.session.commit()
