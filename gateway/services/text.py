"""Control characters in text: what a form refuses and a backend's text is cleaned of.

They are invisible, break layouts and logs, and PostgreSQL cannot store a NUL at all.
"""

from __future__ import annotations

import unicodedata

LINE_BREAKS_AND_TABS = frozenset("\t\n\r")


def has_control_characters(text: str, *, multi_line: bool = False) -> bool:
    """Tell whether ``text`` holds a control character (tabs and breaks pass in multi-line)."""
    allowed = LINE_BREAKS_AND_TABS if multi_line else frozenset()
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


def without_control_characters(text: str | None) -> str | None:
    """Drop control characters (from text a backend sent, which no one can be asked to fix)."""
    if text is None:
        return None
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
