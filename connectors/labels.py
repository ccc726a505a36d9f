"""Write what every backend spells its own way («10А», «10-А», «10 а») the way schools do.

Pure functions for the normalizers; nothing here knows a wire format.
"""

from __future__ import annotations

import re

# A grade number and one letter, with or without a hyphen, a space or quotes between them.
_CLASS = re.compile(r"(\d{1,2})\s*[-–—]?\s*«?\s*([А-ЯЁа-яёA-Za-z])\s*»?")


def class_label(raw: object) -> str | None:
    """Return a class name as «10 «А»»; text of any other shape is kept as it is."""
    text = " ".join(str(raw).split()) if raw is not None else ""
    found = _CLASS.fullmatch(text)
    if found is None:
        return text or None
    return f"{found[1]} «{found[2].upper()}»"
