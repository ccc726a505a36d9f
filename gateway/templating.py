"""The interface language and the template filters that speak it.

Which language a request is shown in, how a day and a diary section are written, and how
people, regions and school systems are named.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping

from babel import dates as babel_dates
from flask import Flask
from flask import request
from flask import session
from flask_babel import format_date
from flask_babel import format_datetime
from flask_babel import format_decimal
from flask_babel import get_locale
from flask_babel import gettext as _

from gateway.models import ConnectorInstance
from gateway.services import names
from gateway.services.instances import ConnectorPool
from gateway.services.instances import UnknownConnector

LOCALES = ("ru", "en")


def select_locale() -> str:
    """Russian first; English when the person chose it or their browser prefers it."""
    chosen = session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    return request.accept_languages.best_match(LOCALES, default="ru") or "ru"


@functools.lru_cache(maxsize=8192)
def _formatted_date(value: dt.date, pattern: str, locale: str) -> str:
    return babel_dates.format_date(value, pattern, locale=locale)


def format_day(value: dt.date, pattern: str = "medium") -> str:
    """Format a calendar date for the interface language (dates repeat: remembered)."""
    if isinstance(value, dt.datetime):
        return format_date(value, pattern)
    return _formatted_date(value, pattern, str(get_locale()))


def format_period(start: dt.date, end: dt.date, *, today: dt.date) -> str:
    """Write a period as «1 сентября — 14 сентября», with the years when it is not all in
    this year: «1 сентября 2025 — 14 сентября 2025» read in May 2026 is not ambiguous."""
    pattern = "d MMMM" if start.year == end.year == today.year else "d MMMM y"
    return f"{format_day(start, pattern)} — {format_day(end, pattern)}"


def section_title(section: str) -> str:
    """Name a diary section in the interface language."""
    titles = {
        "grades": _("Оценки"),
        "schedule": _("Расписание"),
        "homework": _("Домашние задания"),
        "attendance": _("Посещаемость"),
        "events": _("События"),
        "messages": _("Сообщения"),
        "rating": _("Рейтинг"),
        "family": _("Страница семьи"),
    }
    return titles.get(str(section), str(section))


def this_page() -> str:
    """Return the shown page's path with its query string, for a link that comes back here."""
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def _language() -> str:
    return str(get_locale().language)


def person_genitive(full_name: str) -> str:
    """Name a person after «по приглашению»: declined in Russian, as written otherwise."""
    if _language() == "ru":
        return names.genitive(full_name)
    return names.family_and_given(full_name)


def region_name(code: str, *, known: Mapping[str, str]) -> str:
    """Name a region by its code, or say which code it is when it has no known name."""
    return known.get(str(code)) or _("регион %(code)s", code=code)


def system_name(instance: ConnectorInstance, *, pool: ConnectorPool) -> str:
    """Name an instance's school system as its connector does, e.g. «МЭШ» or "MESH"."""
    try:
        cls = pool.connector_class(instance.connector)
    except UnknownConnector:
        return instance.connector
    # A third-party connector written before display names existed still has a title.
    shown: Mapping[str, str] = getattr(cls, "display_names", {})
    return shown.get(_language()) or shown.get("ru") or getattr(cls, "title", instance.connector)


def register(app: Flask, *, pool: ConnectorPool) -> None:
    """Add the filters and the formatting globals to the app's templates."""
    app.jinja_env.filters.update(
        section_title=section_title,
        short_name=names.short_name,
        person_genitive=person_genitive,
        region_name=functools.partial(region_name, known=app.config["REGION_NAMES"]),
        system_name=functools.partial(system_name, pool=pool),
    )
    app.jinja_env.globals.update(
        get_locale=get_locale,
        this_page=this_page,
        format_date=format_day,
        format_period=format_period,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
    )
