"""Shared bits of the MESH connector tests: fixtures on disk, hosts and tokens."""

from __future__ import annotations

import base64
import datetime as dt
import json
import typing as t
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
SCHOOL = "https://school.mos.test"
LOGIN = "https://login.mos.test"


def fixture(name: str) -> t.Any:
    """Return a JSON fixture of ``fixtures/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def _part(data: dict[str, object]) -> str:
    """Encode one JWT part."""
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def make_jwt(exp: dt.datetime) -> str:
    """Return a JWT with an ``exp`` claim, as clients decode it (no signature check)."""
    return f"{_part({'alg': 'HS256'})}.{_part({'exp': int(exp.timestamp()), 'rol': 'parent'})}.sig"


def as_calendar(marks: dict[str, t.Any]) -> dict[str, t.Any]:
    """Return a ``/marks`` body as the event calendar nests it: one lesson per mark, giving the
    mark its date and subject (note §2.4 a)."""
    lesson_keys = ("date", "subject_name", "subject_id")
    return {
        "response": [
            {
                "id": 384400000 + n,
                "source": "PLAN",
                "start_at": f"{item['date']}T09:30:00+03:00",
                "subject_name": item.get("subject_name"),
                "marks": [{k: v for k, v in item.items() if k not in lesson_keys}],
            }
            for n, item in enumerate(marks["payload"])
        ]
    }
