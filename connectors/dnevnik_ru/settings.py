"""Validate an operator's settings for a Dnevnik.ru connector instance.

Keys (at least one client pair is required):

- ``partner_client_id`` + ``partner_client_secret``: a registered partner app; enables the
  browser (OAuth2 code) link.
- ``mobile_client_id`` + ``mobile_client_secret``: the mobile API client; enables the
  password link (note §1.5c).
- ``api_base``: where ``api.dnevnik.ru`` lives when the base URL is ``login.dnevnik.ru``
  (defaults to the base URL, as on one-host installations and the emulator).
- ``connect_timeout``, ``read_timeout``: seconds (defaults 3.05 and 10).
- ``backend_timezone``: the zone of the naive ``expiresDate`` (default ``Europe/Moscow``).
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from connectors.dnevnik_ru.client import App
from connectors.settings import SettingsCheck
from connectors.settings import Timeout

KEYS = frozenset(
    {
        "partner_client_id",
        "partner_client_secret",
        "mobile_client_id",
        "mobile_client_secret",
        "api_base",
        "connect_timeout",
        "read_timeout",
        "backend_timezone",
    }
)
check = SettingsCheck("Дневник.ру")


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated settings of one instance."""

    login_url: str
    api_url: str
    partner: App | None
    mobile: App | None
    timeout: Timeout
    zone: ZoneInfo


def _pair(settings: Mapping[str, t.Any], prefix: str) -> App | None:
    """Return the ``{prefix}_client_id``/``_secret`` pair; both or neither must be given."""
    id_key, secret_key = f"{prefix}_client_id", f"{prefix}_client_secret"
    if settings.get(id_key) is None and settings.get(secret_key) is None:
        return None
    client_id, secret = (settings.get(key) for key in (id_key, secret_key))
    for key, value in ((id_key, client_id), (secret_key, secret)):
        if not isinstance(value, str) or not value.strip():
            raise check.invalid(key, "a non-empty string (set both or none)")
    return App(client_id=str(client_id).strip(), client_secret=str(secret).strip())


def _zone(value: t.Any) -> ZoneInfo:
    """Return a time zone, or raise ``ValueError``."""
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"Дневник.ру: unknown backend_timezone {value!r}") from err


def parse(base_url: str, settings: Mapping[str, t.Any]) -> Settings:
    """Validate the base URL and settings; raise ``ValueError`` with a readable message."""
    check.only(settings, KEYS)
    login_url = check.http_url(base_url, "base_url")
    api = settings.get("api_base")
    partner, mobile = _pair(settings, "partner"), _pair(settings, "mobile")
    if partner is None and mobile is None:
        raise ValueError("Дневник.ру: set a mobile_client_* pair, a partner_client_* pair or both")
    return Settings(
        login_url=login_url,
        api_url=check.http_url(api, "api_base") if api is not None else login_url,
        partner=partner,
        mobile=mobile,
        timeout=check.timeout(settings),
        zone=_zone(settings.get("backend_timezone", "Europe/Moscow")),
    )
