"""A parent's access applications: ask the region's operator for a school-issued login."""

from __future__ import annotations

from gateway.applications.views import bp

__all__ = ["bp"]
