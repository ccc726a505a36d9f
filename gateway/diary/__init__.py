"""The family page and each child's diary."""

from __future__ import annotations

from gateway.diary.views import bp

__all__ = ["bp"]
