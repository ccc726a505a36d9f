"""Find a NetSchool school by the name a parent types: words compared, not strings.

Pure functions over the ``schools/search`` directory's answer; :func:`find_school` in
``client.py`` asks the directory.
"""

from __future__ import annotations

import re
import typing as t
from collections.abc import Mapping

from connectors.errors import SchoolNameTooVague
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
# Words that say what kind of school, not which one: a name made only of them (with the
# town) picks no school by itself, even when one school in the directory happens to fit.
KIND_WORDS = "школа лицей гимназия прогимназия интернат колледж центр детский сад дс"


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


def _town_words(school: Mapping[str, t.Any]) -> set[str]:
    """Return the words of the town in the name's last «(г. Самара)» (note §1.3)."""
    return _words(str(school.get("name") or "").rstrip().rpartition(" (")[2])


def _names_to_offer(schools: list[Mapping[str, t.Any]]) -> list[str]:
    """Name each school once; schools sharing a short name are told apart by their town."""
    shorts = [_short(s) for s in schools]
    offered = [
        str(s.get("name") or "").strip() if shorts.count(short) > 1 else short
        for s, short in zip(schools, shorts, strict=True)
    ]
    return list(dict.fromkeys(offered))[:MAX_CANDIDATES]


def _several(schools: list[Mapping[str, t.Any]]) -> SchoolNotFound:
    return SchoolNotFound(
        "NetSchool: the school name matches no school or several schools",
        candidates=_names_to_offer(schools),
    )


def match_school(found: list[Mapping[str, t.Any]], wanted: str) -> int:
    """Pick the school id: the one exact name, else the one school the words fit.

    :raise SchoolNotFound: when no school or several schools fit the name; its candidates are
        those that fit, or else those sharing a word with it.
    :raise SchoolNameTooVague: when the name only says the kind of school («школа», «МБОУ»)
        and no short list of schools fits it.
    """
    text = wanted.strip()
    short = [s for s in found if str(s.get("shortName") or "").strip() == text]
    # ``name`` ends with «(город) » (note §1.3); only that last suffix is cut, so a branch's
    # «(филиал 2)» stays part of its name. A name offered with its town matches as it is.
    full = [s for s in found if str(s.get("name") or "").rstrip().rpartition(" (")[0] == text]
    with_town = [s for s in found if str(s.get("name") or "").strip() == text]
    for exact in (with_town, short, full):
        if len(exact) == 1:
            return int(exact[0]["id"])
        if exact:
            raise _several(exact)
    words = _words(text)
    fits = [s for s in found if words and words <= _school_words(s)]
    towns = set().union(*(_town_words(s) for s in found))
    if not words - _words(KIND_WORDS) - towns:
        if 0 < len(fits) <= MAX_CANDIDATES:
            raise _several(fits)
        raise SchoolNameTooVague("NetSchool: the school name names no school in particular")
    if len(fits) == 1:
        return int(fits[0]["id"])
    raise _several(fits or [s for s in found if words & _school_words(s)])


def search_term(wanted: str) -> str | None:
    """Return what to ask the directory when the typed name is not part of any school's name.

    The longest word's stem («лиц» for «лицея»), else the number; None when neither is there.
    """
    words = sorted(_words(wanted) - set(KINDS.values()), key=lambda w: (w.isdigit(), -len(w)))
    return words[0] if words else None
