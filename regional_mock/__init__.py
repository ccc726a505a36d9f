"""Emulators of the regional diary APIs, serving one deterministic demo world."""

from __future__ import annotations
