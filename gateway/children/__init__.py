"""Linking children with school-issued credentials."""

from __future__ import annotations

from gateway.children import link as _link  # noqa: F401  (its routes are on the same bp)
from gateway.children.views import bp

__all__ = ["bp"]
