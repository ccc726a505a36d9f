"""Tell the time through one injectable clock, so tests never sleep."""

from __future__ import annotations

import time
import typing as t
from collections.abc import Callable

from flask import current_app

EXTENSION = "idp_mock.clock"

Clock = Callable[[], float]


def init_clock(app: t.Any, clock: Clock | None) -> None:
    """Install the app's clock: the IDP_CLOCK setting in tests, wall time otherwise."""
    app.extensions[EXTENSION] = clock or time.time


def now() -> int:
    """Return the current app's time in whole seconds."""
    clock: Clock = current_app.extensions[EXTENSION]
    return int(clock())
