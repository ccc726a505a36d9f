"""Emulator of Dnevnik.ru (REST API v2, Tver region demo): OAuth2, password flows, diary, faults."""

from __future__ import annotations

from regional_mock.dnevnik_ru.app import create_app

__all__ = ["create_app"]
