"""Find a NetSchool school by the name a parent types: words compared, not strings.

Pure functions over the ``schools/search`` directory's answer; :func:`find_school` in
``client.py`` asks the directory.
"""

from __future__ import annotations

import re
import typing as t
from collections.abc import Mapping

from connectors.errors import SchoolNotFound

# How parents write a school: «лицей 3», «Лицей №3», «сош 12», «МБОУ "Лицей № 3"». Words are
# compared in lower case with ё as е, without quotes, punctuation, «№»/«N»/«No», the
# organisational form (МБОУ, ГБОУ…) or one-letter words (г., о.), and by their first letters so
# that «Самары» meets «Самара»; the kinds of school have their short forms.
NOISE = frozenset(
    "гбоу гоу моу мбоу маоу мкоу моау оу мбу мау мку гбу гау гку ано чоу нчоу no".split()
)
KINDS = {"сош": "школа", "оош": "школа", "нош": "школа", "средняя": "школа"}
WORD = re.compile(r"\d+|[^\W\d_]+")
MAX_CANDIDATES = 10


def _words(text: str) -> set[str]:
    """Return the comparable words of a school name."""
    found = set()
    for word in WORD.findall(text.casefold().replace("ё", "е")):
        if word in NOISE or (len(word) == 1 and not word.isdigit()):
            continue
        word = KINDS.get(word, word)
        found.add(word if word.isdigit() else word[: max(3, len(word) - 2)])
    return found


def _school_words(school: Mapping[str, t.Any]) -> set[str]:
    return _words(f"{school.get('shortName') or ''} {school.get('name') or ''}")


def _short(school: Mapping[str, t.Any]) -> str:
    return str(school.get("shortName") or school.get("name") or "").strip()


def match_school(found: list[Mapping[str, t.Any]], wanted: str) -> int:
    """Pick the school id: an exact short name or name, else the one school the words fit.

    :raise SchoolNotFound: when no school or several schools fit the name; its candidates are
        those that fit, or else those sharing a word with it.
    """
    text = wanted.strip()
    short = [s for s in found if str(s.get("shortName") or "").strip() == text]
    # ``name`` ends with «(город) » (note §1.3); only that last suffix is cut, so a branch's
    # «(филиал 2)» stays part of its name.
    full = [s for s in found if str(s.get("name") or "").rstrip().rpartition(" (")[0] == text]
    for exact in (short, full):
        if exact:
            return int(exact[0]["id"])
    words = _words(text)
    fits = [s for s in found if words and words <= _school_words(s)]
    if len(fits) == 1:
        return int(fits[0]["id"])
    near = fits or [s for s in found if words & _school_words(s)]
    raise SchoolNotFound(
        "NetSchool: the school name matches no school or several schools",
        candidates=list(dict.fromkeys(_short(s) for s in near))[:MAX_CANDIDATES],
    )


def search_term(wanted: str) -> str | None:
    """Return what to ask the directory when the typed name is not part of any school's name.

    The longest word's stem («лиц» for «лицея»), else the number; None when neither is there.
    """
    words = sorted(_words(wanted) - set(KINDS.values()), key=lambda w: (w.isdigit(), -len(w)))
    return words[0] if words else None
