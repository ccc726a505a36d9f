"""The checks every connector runs on an operator's instance settings.

A bad setting must fail when the instance is registered (dex's ``Config.Open``), not at a
parent's first sign-in, so each connector's ``from_settings`` validates everything through
one :class:`SettingsCheck`. Its messages name the system and the setting and never echo a
value: a setting may be a client secret, and registration errors are logged and printed.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["DEFAULT_TIMEOUT", "MAX_SECONDS", "SettingsCheck", "Timeout"]

Timeout = tuple[float, float]
# (connect, read): just over a TCP retransmission window to connect, then ten seconds.
DEFAULT_TIMEOUT: Timeout = (3.05, 10.0)
# The one bound on every seconds setting. The family page waits for its slowest fetch, so a
# longer timeout never helps a parent; five minutes leaves room for the slowest backend an
# operator has met, and a larger number is a typo (milliseconds given as seconds).
MAX_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class SettingsCheck:
    """Validators whose ``ValueError`` messages begin with one system's name."""

    system: str

    def invalid(self, key: str, expected: str) -> ValueError:
        """Return the error saying what a setting must be."""
        return ValueError(f"{self.system}: {key} must be {expected}")

    def only(self, settings: Mapping[str, t.Any], known: Iterable[str]) -> None:
        """Refuse settings the connector does not know (a typo would be ignored silently).

        :raise ValueError: naming the unknown keys and the known ones.
        """
        names = sorted(set(known))
        unknown = sorted(set(settings) - set(names))
        if unknown:
            raise ValueError(
                f"{self.system}: unknown settings {', '.join(unknown)}; known: {', '.join(names)}"
            )

    def http_url(self, value: object, key: str) -> str:
        """Return an http(s) URL with a host and without query, fragment or trailing slash."""
        text = value.strip() if isinstance(value, str) else ""
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.invalid(key, "an http(s) URL")
        if parts.query or parts.fragment:
            raise self.invalid(key, "an http(s) URL without a query or fragment")
        return text.rstrip("/")

    def seconds(self, value: object, key: str) -> float:
        """Return a number of seconds in (0, :data:`MAX_SECONDS`]; booleans are not numbers."""
        number = not isinstance(value, bool) and isinstance(value, int | float)
        if not number or not 0 < t.cast(float, value) <= MAX_SECONDS:
            raise self.invalid(key, f"a number of seconds in (0, {MAX_SECONDS:g}]")
        return float(t.cast(float, value))

    def text(self, value: object, key: str) -> str:
        """Return a string that is not blank, as given: a secret is sent as typed."""
        if not isinstance(value, str) or not value.strip():
            raise self.invalid(key, "a non-empty string")
        return value

    def timeout(self, settings: Mapping[str, t.Any], default: Timeout = DEFAULT_TIMEOUT) -> Timeout:
        """Return the ``(connect_timeout, read_timeout)`` pair of the settings."""
        return (
            self.seconds(settings.get("connect_timeout", default[0]), "connect_timeout"),
            self.seconds(settings.get("read_timeout", default[1]), "read_timeout"),
        )
