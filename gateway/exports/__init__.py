"""Exports of a child's diary: a printable table, a CSV of marks and a calendar feed."""

from __future__ import annotations

from gateway.exports.views import bp

__all__ = ["bp"]
