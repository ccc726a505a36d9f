"""Emulator of MESH (МЭШ: login.mos.ru, school.mos.ru, dnevnik.mos.ru on one host)."""

from __future__ import annotations

from regional_mock.mesh.app import create_app

__all__ = ["create_app"]
