"""A clock the gateway reads instead of the wall clock, moved by the test."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.runtime import Services


class Clock:
    """The gateway's current time (``Services.now``), set and moved by a test."""

    def __init__(self, at: dt.datetime) -> None:
        """Start at ``at`` (aware)."""
        self.at = at

    def now(self) -> dt.datetime:
        """Return the pinned time."""
        return self.at

    def advance(self, **delta: float) -> None:
        """Move the time on by a ``timedelta``'s keyword arguments."""
        self.at += dt.timedelta(**delta)


def pin_clock(monkeypatch: pytest.MonkeyPatch, at: dt.datetime) -> Clock:
    """Make every gateway app read its time from a :class:`Clock` starting at ``at``.

    Pick a moment before the real one: the fake school's sessions expire an hour after
    the wall clock's now.
    """
    clock = Clock(at)
    monkeypatch.setattr(Services, "now", staticmethod(clock.now))
    return clock
