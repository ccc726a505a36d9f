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
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from connectors.dnevnik_ru.client import DEFAULT_TIMEOUT
from connectors.dnevnik_ru.client import App

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


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated settings of one instance."""

    login_url: str
    api_url: str
    partner: App | None
    mobile: App | None
    timeout: tuple[float, float]
    zone: ZoneInfo


def _url(value: t.Any, name: str) -> str:
    """Return an http(s) URL without a trailing slash, or raise ``ValueError``."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"Дневник.ру: {name} must be a non-empty URL")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Дневник.ру: {name} must be an http(s) URL, got {value!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"Дневник.ру: {name} must not carry a query or fragment")
    return value.strip().rstrip("/")


def _pair(settings: Mapping[str, t.Any], prefix: str) -> App | None:
    """Return the ``{prefix}_client_id``/``_secret`` pair; both or neither must be given."""
    client_id = settings.get(f"{prefix}_client_id")
    secret = settings.get(f"{prefix}_client_secret")
    if client_id is None and secret is None:
        return None
    for name, value in ((f"{prefix}_client_id", client_id), (f"{prefix}_client_secret", secret)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"Дневник.ру: {name} must be a non-empty string (set both or none)")
    return App(client_id=client_id.strip(), client_secret=secret.strip())


def _seconds(settings: Mapping[str, t.Any], name: str, default: float) -> float:
    """Return a timeout in seconds, or raise ``ValueError``."""
    value = settings.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 300:
        raise ValueError(f"Дневник.ру: {name} must be a number of seconds in (0, 300]")
    return float(value)


def _zone(value: t.Any) -> ZoneInfo:
    """Return a time zone, or raise ``ValueError``."""
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"Дневник.ру: unknown backend_timezone {value!r}") from err


def parse(base_url: str, settings: Mapping[str, t.Any]) -> Settings:
    """Validate the base URL and settings; raise ``ValueError`` with a readable message."""
    unknown = sorted(set(settings) - KEYS)
    if unknown:
        raise ValueError(f"Дневник.ру: unknown settings {unknown}; known: {sorted(KEYS)}")
    login_url = _url(base_url, "base_url")
    api = settings.get("api_base")
    partner, mobile = _pair(settings, "partner"), _pair(settings, "mobile")
    if partner is None and mobile is None:
        raise ValueError("Дневник.ру: set a mobile_client_* pair, a partner_client_* pair or both")
    return Settings(
        login_url=login_url,
        api_url=_url(api, "api_base") if api is not None else login_url,
        partner=partner,
        mobile=mobile,
        timeout=(
            _seconds(settings, "connect_timeout", DEFAULT_TIMEOUT[0]),
            _seconds(settings, "read_timeout", DEFAULT_TIMEOUT[1]),
        ),
        zone=_zone(settings.get("backend_timezone", "Europe/Moscow")),
    )
