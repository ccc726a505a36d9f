"""Notification preferences, the one-click unsubscribe of notification e-mail, and the
browsers a person receives Web Push in."""

from __future__ import annotations

from gateway.notifications import push  # noqa: F401  (its routes join the blueprint)
from gateway.notifications.views import bp

__all__ = ["bp"]
