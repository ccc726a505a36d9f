"""Sign-in through the identity provider, sign-out, and consent to data processing."""

from __future__ import annotations

from gateway.auth.views import bp

__all__ = ["bp"]
