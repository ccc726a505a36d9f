"""Emulators of the regional diary APIs, serving one deterministic demo world."""
