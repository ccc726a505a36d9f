"""Read the reader's "now" and the asked period from the request.

The pure rules (defaults, bounds, what a refused period falls back to) live in
:mod:`gateway.services.periods`; this module only supplies them the request's arguments and
the interface's clock, so that every area's views read a period the same way.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app
from flask import request

from connectors.schema import Period
from connectors.schema import Section
from gateway.runtime import services
from gateway.services import periods


def local_now() -> dt.datetime:
    """Return the current time in the interface's time zone (school days are local)."""
    return services().now().astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def requested_period(today: dt.date) -> Period:
    """Read the period picker of the marks (``?start=&end=``); the default when refused."""
    args = request.args
    return periods.pick(
        args.get("start"), args.get("end"), section=Section.GRADES, today=today
    ).period
