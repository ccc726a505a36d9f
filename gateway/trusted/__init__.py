"""Trusted persons: a parent shares some sections of some children with someone."""

from __future__ import annotations

from gateway.trusted.views import bp

__all__ = ["bp"]
