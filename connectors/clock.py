"""The one clock connectors read, and the one reader of a server's ``Retry-After``.

Whoever builds a connector (the gateway's pool, a test, the conformance kit) hands it the
clock it runs on, so a test moves time instead of sleeping and the gateway and its
connectors agree on what "now" is.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable

import requests

Clock = Callable[[], dt.datetime]
"""Return the current time, timezone-aware."""


def utcnow() -> dt.datetime:
    """Return the wall clock's time in UTC: the clock when none is injected."""
    return dt.datetime.now(dt.UTC)


def retry_after(response: requests.Response, *, now: Clock = utcnow) -> float | None:
    """Read ``Retry-After`` as seconds; None when absent or unreadable.

    An HTTP date is counted from the response's own ``Date`` (RFC 9110 §10.2.3), so the
    wait does not depend on how our clock and the server's differ; without a ``Date`` it is
    counted from ``now``.
    """
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    moment = _http_date(raw)
    if moment is None:
        return None
    sent = _http_date(response.headers.get("Date", "")) or now()
    return max((moment - sent).total_seconds(), 0.0)


def _http_date(raw: str) -> dt.datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None
