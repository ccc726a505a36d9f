"""Notification preferences, the one-click unsubscribe of notification e-mail, and the
browsers and the Telegram chat a person receives them in."""

from __future__ import annotations

from gateway.notifications import push  # noqa: F401  (its routes join the blueprint)
from gateway.notifications import telegram  # noqa: F401  (its routes join the blueprint)
from gateway.notifications.views import bp

__all__ = ["bp"]
