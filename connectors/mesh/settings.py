"""Validate an operator's settings for a MESH connector instance.

Keys (all optional):

- ``connect_timeout``, ``read_timeout``: seconds (defaults 3.05 and 10);
- ``subsystem``, ``mobile_subsystem``: the ``X-Mes-Subsystem`` of the web and the mobile
  API (defaults ``familyweb`` and ``familymp``);
- ``login_url``: where login.mos.ru lives, default the base URL itself (the emulator).
"""

from __future__ import annotations

import re
import typing as t
from collections.abc import Mapping

from connectors.settings import SettingsCheck

__all__ = ["client_options"]

KEYS = frozenset(("connect_timeout", "read_timeout", "subsystem", "mobile_subsystem", "login_url"))
SUBSYSTEM = re.compile(r"^[a-z]{2,32}$")
check = SettingsCheck("MESH")


def _subsystem(settings: Mapping[str, t.Any], key: str, default: str) -> str:
    """Return an ``X-Mes-Subsystem`` value, or raise ValueError."""
    value = settings.get(key, default)
    if not isinstance(value, str) or not SUBSYSTEM.match(value):
        raise check.invalid(key, "an X-Mes-Subsystem value like familyweb")
    return value


def client_options(base_url: str, settings: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Validate an operator's settings and return the client's keyword arguments."""
    check.only(settings, KEYS)
    base = check.http_url(base_url, "base_url")
    login = settings.get("login_url")
    return {
        "base_url": base,
        "login_url": check.http_url(login, "login_url") if login else base,
        "timeout": check.timeout(settings),
        "subsystem": _subsystem(settings, "subsystem", "familyweb"),
        "mobile_subsystem": _subsystem(settings, "mobile_subsystem", "familymp"),
    }
