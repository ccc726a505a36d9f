"""The regional operators' console: connector instances, their health, access applications."""

from __future__ import annotations

from gateway.operator import instances  # noqa: F401  (its routes join bp)
from gateway.operator.views import bp

__all__ = ["bp"]
