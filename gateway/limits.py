"""Refuse a rate-limited form without throwing away what the person typed.

Flask-Limiter calls a route limit's ``on_breach`` before the view; what it returns replaces the
bare 429 page. Each form view passes :func:`keep_form` a function that re-renders its own page
from the submitted values, and the person reads when to try again above the form they filled.
"""

from __future__ import annotations

import math
import time
import typing as t

from flask import Response
from flask import flash
from flask import make_response
from flask_babel import gettext as _
from flask_limiter import RequestLimit


def retry_after_seconds(limit: RequestLimit) -> int:
    """Return the whole seconds until the limit lets the next attempt through (at least 1).

    Flask-Limiter's ``reset_at`` is wall-clock epoch seconds, so it is read against the wall
    clock, never the gateway's own (a test's pinned clock would make the wait months).
    """
    return max(1, math.ceil(limit.reset_at - time.time()))


def wait_message(seconds: int) -> str:
    """Say when to try again, in minutes."""
    return _(
        "Слишком много попыток. Введённое сохранено: попробуйте снова через %(minutes)d мин.",
        minutes=max(1, round(seconds / 60)),
    )


def keep_form(render: t.Callable[[], str]) -> t.Callable[[RequestLimit], Response]:
    """Return an ``on_breach`` callback: the form's page again, status 429, with Retry-After.

    ``render`` rebuilds the page from the request's form; it must never put a password or a
    document number back into it.
    """

    def refuse(limit: RequestLimit) -> Response:
        seconds = retry_after_seconds(limit)
        flash(wait_message(seconds), "error")
        response = make_response(render(), 429)
        response.headers["Retry-After"] = str(seconds)
        return response

    return refuse
