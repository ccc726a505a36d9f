"""Notification preferences, and the one-click unsubscribe of notification e-mail."""

from __future__ import annotations

from gateway.notifications.views import bp

__all__ = ["bp"]
