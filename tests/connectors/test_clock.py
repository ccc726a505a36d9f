"""The connectors' one clock and their one reader of ``Retry-After``."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from connectors import clock

NOON = dt.datetime(2026, 3, 11, 9, 0, tzinfo=dt.UTC)


def _answer(**headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = 429
    response.headers.update(headers)
    return response


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("30", 30.0), ("0", 0.0), ("", None), ("soon", None), ("-5", None), ("1.5", None)],
)
def test_retry_after_in_seconds(header: str, seconds: float | None) -> None:
    assert clock.retry_after(_answer(**{"Retry-After": header}), now=lambda: NOON) == seconds


def test_a_retry_date_counts_from_the_injected_clock_without_a_date_header() -> None:
    answer = _answer(**{"Retry-After": "Wed, 11 Mar 2026 09:01:00 GMT"})
    assert clock.retry_after(answer, now=lambda: NOON) == 60.0
    assert clock.retry_after(answer, now=lambda: NOON + dt.timedelta(minutes=5)) == 0.0


def test_a_retry_date_counts_from_the_servers_own_date_when_it_sends_one() -> None:
    answer = _answer(
        **{"Retry-After": "Wed, 11 Mar 2026 09:01:00 GMT", "Date": "Wed, 11 Mar 2026 09:00:45 GMT"}
    )
    far_off = NOON + dt.timedelta(hours=3)  # our clock and the server's disagree
    assert clock.retry_after(answer, now=lambda: far_off) == 15.0


def test_the_default_clock_is_the_wall_clock_in_utc() -> None:
    before = dt.datetime.now(dt.UTC)
    read = clock.utcnow()
    assert read.tzinfo is dt.UTC and before <= read <= dt.datetime.now(dt.UTC)
