"""Identity documents of an access application: formats, canonical forms and masks.

A Russian birth certificate's series is a Roman numeral, a hyphen and two Cyrillic capitals,
then a six-digit number («IV-ЕР 123456»). A passport has a four-digit series and a six-digit
number («36 04 123456»). Only the masked forms are ever shown without a reason to reveal.
"""

from __future__ import annotations

import re

CERTIFICATE = re.compile(r"^([IVXLCM]{1,7})\s*-\s*([А-ЯЁ]{2})\s*(?:№\s*)?(\d{6})$")
PASSPORT = re.compile(r"^(\d{2})\s*(\d{2})\s*(?:№\s*)?(\d{6})$")
# Roman numerals typed on a Russian keyboard: the look-alike Cyrillic letters.
LOOKALIKES = str.maketrans({"І": "I", "Х": "X", "С": "C", "М": "M", "У": "V"})


class InvalidDocument(ValueError):
    """A document number is not in its format; the message names the document."""


def certificate(raw: str) -> str:
    """Return the canonical «IV-ЕР 123456».

    :raise InvalidDocument: for anything else.
    """
    text = " ".join(raw.strip().upper().split())
    series, _, rest = text.partition("-")
    match = CERTIFICATE.match(series.translate(LOOKALIKES) + "-" + rest)
    if match is None:
        raise InvalidDocument("certificate")
    roman, letters, number = match.groups()
    return f"{roman}-{letters} {number}"


def passport(raw: str) -> str:
    """Return the canonical «3604 123456».

    :raise InvalidDocument: for anything else.
    """
    match = PASSPORT.match(" ".join(raw.split()))
    if match is None:
        raise InvalidDocument("passport")
    first, second, number = match.groups()
    return f"{first}{second} {number}"


def mask_certificate(canonical: str) -> str:
    """Show the series and the last two digits: «IV-ЕР ****56»."""
    series, number = canonical.split(" ")
    return f"{series} ****{number[-2:]}"


def mask_passport(canonical: str) -> str:
    """Show the region part of the series and the last two digits: «36** ****56»."""
    series, number = canonical.split(" ")
    return f"{series[:2]}** ****{number[-2:]}"
