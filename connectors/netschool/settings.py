"""Validate an operator's settings for a NetSchool connector instance.

Settings an operator gives an instance (all optional):

- ``connect_timeout``, ``read_timeout``: seconds, default 3.05 and 10;
- ``school_id``: the school's ``scid``; every parent of the instance then signs in to that
  school and the ``schools/search`` lookup is skipped;
- ``mobile_client_secret``: the ``parent-mobile`` client secret of the mobile identity
  server; without it the instance offers no attendance (the web diary has none, note §2.12);
- ``identity_url``: the identity server minting mobile tokens, default the base URL itself;
- ``app_version``: the mobile app version sent to the mobile API, default ``2.0.3``;
- ``operator_api_key``: the regional operator's key of the operator-side API (roster checks,
  issuing parents' logins; see ``connectors.netschool.operator``).
"""

from __future__ import annotations

import dataclasses
import typing as t
from collections.abc import Mapping

from connectors.settings import DEFAULT_TIMEOUT
from connectors.settings import SettingsCheck
from connectors.settings import Timeout

__all__ = ["NetSchoolSettings"]

KEYS = frozenset(
    ("connect_timeout", "read_timeout", "school_id")
    + ("mobile_client_secret", "identity_url", "app_version", "operator_api_key")
)
APP_VERSION = "2.0.3"
check = SettingsCheck("NetSchool")


def _optional_text(settings: Mapping[str, t.Any], key: str) -> str | None:
    """Return a non-empty string setting, or None when it is not given."""
    value = settings.get(key)
    return None if value is None else check.text(value, key)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NetSchoolSettings:
    """An instance's validated settings."""

    base_url: str
    timeout: Timeout = DEFAULT_TIMEOUT
    school_id: int | None = None
    mobile_client_secret: str | None = None
    identity_url: str
    app_version: str = APP_VERSION
    operator_api_key: str | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def parse(cls, base_url: str, settings: Mapping[str, t.Any]) -> NetSchoolSettings:
        """Validate an operator's settings.

        :raise ValueError: naming the offending setting, never echoing a secret.
        """
        check.only(settings, KEYS)
        base = check.http_url(base_url, "base_url")
        school_id = settings.get("school_id")
        if school_id is not None and (type(school_id) is not int or school_id <= 0):
            raise check.invalid("school_id", "a positive integer")
        identity = settings.get("identity_url")
        return cls(
            base_url=base,
            timeout=check.timeout(settings),
            school_id=school_id,
            mobile_client_secret=_optional_text(settings, "mobile_client_secret"),
            identity_url=check.http_url(identity, "identity_url") if identity is not None else base,
            app_version=_optional_text(settings, "app_version") or APP_VERSION,
            operator_api_key=_optional_text(settings, "operator_api_key"),
        )
