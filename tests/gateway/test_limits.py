"""How long a rate-limited person is told to wait."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from flask import Flask
from flask_babel import Babel

from gateway.limits import retry_after_seconds
from gateway.limits import wait_message
from tests.gateway.clock import pin_clock


class _Limit:
    """What of Flask-Limiter's RequestLimit the wait is read from: epoch seconds."""

    def __init__(self, reset_at: float) -> None:
        self.reset_at = reset_at


def test_the_wait_is_read_on_the_wall_clock_whatever_the_gateway_clock_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pin_clock(monkeypatch, dt.datetime(2026, 5, 20, 7, 0, tzinfo=dt.UTC))  # months ago
    assert 89 <= retry_after_seconds(_Limit(time.time() + 90)) <= 90  # type: ignore[arg-type]
    assert retry_after_seconds(_Limit(time.time() - 5)) == 1  # type: ignore[arg-type]


def test_the_wait_is_said_in_whole_minutes() -> None:
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        assert "через 2 мин" in wait_message(90)
        assert "через 1 мин" in wait_message(10)
