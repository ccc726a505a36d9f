"""Template filters that name people, regions and school systems in the interface language."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _

from gateway.models import ConnectorInstance
from gateway.services import names
from gateway.services.instances import ConnectorPool
from gateway.services.instances import UnknownConnector


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
    """Add the filters to the app's templates."""
    app.jinja_env.filters.update(
        short_name=names.short_name,
        person_genitive=person_genitive,
        region_name=functools.partial(region_name, known=app.config["REGION_NAMES"]),
        system_name=functools.partial(system_name, pool=pool),
    )
