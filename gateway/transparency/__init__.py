"""The transparency log's public face: its checkpoints, keys and consistency proofs."""

from __future__ import annotations

from gateway.transparency.views import bp

__all__ = ["bp"]
