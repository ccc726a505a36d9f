"""Shared bits of the Dnevnik.ru connector tests: fixtures on disk and demo constants."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://login.dnevnik.test"
API = "https://api.dnevnik.test"
MOBILE = ("dnevnik-mobile-demo", "demo-mobile-secret")
PARTNER = ("diary-gateway-partner", "demo-dnevnik-secret")
REDIRECT = "http://127.0.0.1:8000/children/oauth/callback"
LOGIN = ("smirnova.i.s", "Dnevnik-2026")
POLINA = "Смирнова Полина Дмитриевна"
SETTINGS = {
    "mobile_client_id": MOBILE[0],
    "mobile_client_secret": MOBILE[1],
    "partner_client_id": PARTNER[0],
    "partner_client_secret": PARTNER[1],
}


def load(name: str) -> t.Any:
    """Return a JSON fixture, parsed as the client parses replies."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
