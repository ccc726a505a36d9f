"""The gateway as an installable web app: its manifest and its service worker."""

from __future__ import annotations

from gateway.pwa.views import bp

__all__ = ["bp"]
