"""Emulator of NetSchool («Сетевой город. Образование»): web API, mobile attendance, faults."""

from __future__ import annotations

from regional_mock.netschool.app import create_app

__all__ = ["create_app"]
