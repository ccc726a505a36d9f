"""Drive a running emulator's school day over HTTP, for end-to-end tests and demo scripts.

``DayClient("http://127.0.0.1:9103").add_mark(student="Максим", date="2026-03-10",
subject="Алгебра", value=5)`` returns the emulator's JSON record (world ids); a refused
change raises ``DayRefused`` with the field the emulator named.
"""

from __future__ import annotations

import typing as t

import requests

TIMEOUT = (3.05, 10)


class DayRefused(Exception):
    """The emulator refused a change (400) or did not know a record (404)."""

    def __init__(self, status: int, field: str | None, message: str) -> None:
        """Keep the status, the field and the emulator's message."""
        super().__init__(f"{status} {field}: {message}")
        self.status = status
        self.field = field
        self.message = message


class DayClient:
    """The ``/__admin/day`` API of one emulator."""

    def __init__(self, base_url: str, *, http: requests.Session | None = None) -> None:
        """Point at an emulator's base URL (no trailing slash needed)."""
        self.base = base_url.rstrip("/") + "/__admin/day"
        self.http = http or requests.Session()

    def _call(self, method: str, path: str = "", body: dict[str, t.Any] | None = None) -> t.Any:
        reply = self.http.request(method, self.base + path, json=body, timeout=TIMEOUT)
        if reply.status_code in (400, 404):
            error = reply.json()
            raise DayRefused(reply.status_code, error.get("field"), error.get("error", ""))
        reply.raise_for_status()
        return reply.json()

    def add_mark(self, **body: t.Any) -> dict[str, t.Any]:
        """Add a mark; return it with its new id."""
        return t.cast(dict[str, t.Any], self._call("POST", "/marks", body)["mark"])

    def edit_mark(self, mark_id: int, **body: t.Any) -> dict[str, t.Any]:
        """Change a mark's ``value`` and/or ``comment``."""
        return t.cast(dict[str, t.Any], self._call("PATCH", f"/marks/{mark_id}", body)["mark"])

    def delete_mark(self, mark_id: int) -> None:
        """Delete a mark."""
        self._call("DELETE", f"/marks/{mark_id}")

    def mark_absence(self, **body: t.Any) -> dict[str, t.Any]:
        """Mark an absence (``kind`` ill, unexcused, excused or late)."""
        return t.cast(dict[str, t.Any], self._call("POST", "/absences", body)["absence"])

    def replace_lesson(self, lesson_id: int, **body: t.Any) -> dict[str, t.Any]:
        """Give a lesson another ``subject``, ``teacher`` and/or ``room``."""
        path = f"/lessons/{lesson_id}/replace"
        return t.cast(dict[str, t.Any], self._call("POST", path, body)["lesson"])

    def cancel_lesson(self, lesson_id: int) -> dict[str, t.Any]:
        """Cancel a lesson."""
        path = f"/lessons/{lesson_id}/cancel"
        return t.cast(dict[str, t.Any], self._call("POST", path, {})["lesson"])

    def set_homework(self, **body: t.Any) -> dict[str, t.Any]:
        """Set the homework due on a lesson."""
        return t.cast(dict[str, t.Any], self._call("POST", "/homework", body)["homework"])

    def call_meeting(self, **body: t.Any) -> dict[str, t.Any]:
        """Announce a parent meeting."""
        return t.cast(dict[str, t.Any], self._call("POST", "/meetings", body)["event"])

    def edits(self) -> list[dict[str, t.Any]]:
        """Return the edits since the last reset."""
        return t.cast(list[dict[str, t.Any]], self._call("GET")["edits"])

    def reset(self) -> None:
        """Give back the seeded world."""
        self._call("DELETE")

    def budget(self) -> dict[str, int]:
        """Return ``/__admin/budget``: ``total`` and ``peak_per_minute`` since the reset."""
        base = self.base.removesuffix("/day")
        reply = self.http.get(f"{base}/budget", timeout=TIMEOUT)
        reply.raise_for_status()
        return t.cast(dict[str, int], reply.json())
