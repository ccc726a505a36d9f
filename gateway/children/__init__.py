"""Linking children with school-issued credentials."""

from __future__ import annotations

from gateway.children.views import bp

__all__ = ["bp"]
