"""People's names as the interface writes them: short on a phone, declined in a sentence.

Names come from the identity provider as «Фамилия Имя Отчество» (the patronymic may be
missing); anything else is shown as it came.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from pytrovich.detector import PetrovichGenderDetector
from pytrovich.enums import Case
from pytrovich.enums import Gender
from pytrovich.enums import NamePart
from pytrovich.maker import PetrovichDeclinationMaker


@dataclass(frozen=True, slots=True)
class NameParts:
    """A Russian full name split into its parts."""

    family: str
    given: str
    middle: str | None


def parts(full_name: str) -> NameParts | None:
    """Split «Фамилия Имя [Отчество]»; None when the name has fewer than two words."""
    words = full_name.split()
    if len(words) < 2:
        return None
    return NameParts(words[0], words[1], " ".join(words[2:]) or None)


def short_name(full_name: str) -> str:
    """Return «Смирнова И. С.» for «Смирнова Ирина Сергеевна» (for narrow screens)."""
    found = parts(full_name)
    if found is None:
        return full_name.strip()
    initials = [found.given] + (found.middle.split() if found.middle else [])
    return found.family + " " + " ".join(word[0] + "." for word in initials)


def family_and_given(full_name: str) -> str:
    """Return «Смирнова Ирина» for «Смирнова Ирина Сергеевна»."""
    found = parts(full_name)
    return f"{found.family} {found.given}" if found else full_name.strip()


@functools.cache
def _tools() -> tuple[PetrovichDeclinationMaker, PetrovichGenderDetector]:
    return PetrovichDeclinationMaker(), PetrovichGenderDetector()


def genitive(full_name: str) -> str:
    """Decline «Смирнова Ирина Сергеевна» to «Смирновой Ирины» (as in «по приглашению …»).

    The patronymic tells the gender best; without it the first name does. A name the
    rules do not know keeps its nominative form rather than a wrong ending.
    """
    found = parts(full_name)
    if found is None:
        return full_name.strip()
    maker, detector = _tools()
    # The petrovich library leaves its detector unannotated.
    gender = detector.detect(  # type: ignore[no-untyped-call]
        firstname=found.given, lastname=found.family, middlename=found.middle
    )
    if gender is Gender.ANDROGYNOUS:
        return family_and_given(full_name)
    family = maker.make(NamePart.LASTNAME, gender, Case.GENITIVE, found.family)
    given = maker.make(NamePart.FIRSTNAME, gender, Case.GENITIVE, found.given)
    return f"{family} {given}"


def _words(text: str) -> set[str]:
    """The words of a name, compared as people read them: any case, «ё» as «е»."""
    return set(re.findall(r"\w+(?:-\w+)*", text.casefold().replace("ё", "е")))


def repeats(account: str, full_name: str) -> bool:
    """Tell whether an account name only repeats the child's name («Полина», «Смирнова Полина»).

    Then a label shows the child's name once instead of «Полина — Смирнова Полина».
    """
    words = _words(account)
    return bool(words) and words <= _words(full_name)
