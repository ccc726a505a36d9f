"""Tests of the regional emulators and their demo world."""

from __future__ import annotations
