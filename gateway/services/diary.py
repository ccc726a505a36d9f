"""Read a child's diary through their connector and shape it for the pages."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from connectors.schema import Grade
from connectors.schema import Period
from gateway.models import ChildLink
from gateway.models import LinkStatus
from gateway.services.backend import BackendCaller
from gateway.services.backend import RelinkRequired
from gateway.services.instances import ConnectorPool
from gateway.services.vault import Vault

SCHOOL_MONTH_DAYS = 30


def last_school_month(today: dt.date) -> Period:
    """Return the default period of the pages: the thirty days up to and including today."""
    return Period(start=today - dt.timedelta(days=SCHOOL_MONTH_DAYS - 1), end=today)


def weighted_average(grades: Iterable[Grade]) -> float | None:
    """Average the numeric marks by weight; a mark of unknown weight counts once."""
    total = weights = 0.0
    for grade in grades:
        if grade.numeric is None:
            continue
        weight = grade.weight if grade.weight else 1.0
        total += grade.numeric * weight
        weights += weight
    return round(total / weights, 2) if weights else None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubjectGrades:
    """The marks of one subject in a period, newest first, with their average."""

    subject: str
    grades: list[Grade]
    average: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GradesReport:
    """A child's marks for a period, by subject."""

    period: Period
    subjects: list[SubjectGrades]
    average: float | None

    @property
    def count(self) -> int:
        """Return how many marks the report holds."""
        return sum(len(s.grades) for s in self.subjects)


def grades_report(grades: list[Grade], period: Period) -> GradesReport:
    """Group marks by subject (alphabetically), newest mark first within each."""
    by_subject: dict[str, list[Grade]] = defaultdict(list)
    for grade in grades:
        by_subject[grade.subject].append(grade)
    subjects = [
        SubjectGrades(
            subject=name,
            grades=sorted(items, key=lambda g: (g.date, g.id), reverse=True),
            average=weighted_average(items),
        )
        for name, items in sorted(by_subject.items())
    ]
    return GradesReport(period=period, subjects=subjects, average=weighted_average(grades))


class DiaryReader:
    """Fetch sections of a linked child's diary from its backend."""

    def __init__(
        self,
        session: Session,
        *,
        pool: ConnectorPool,
        vault: Vault,
        now: Callable[[], dt.datetime],
    ) -> None:
        """Read through these connectors with credentials opened by this vault."""
        self._session = session
        self._pool = pool
        self._vault = vault
        self._now = now

    def grades(self, link: ChildLink, period: Period) -> GradesReport:
        """Return the child's marks for a period.

        :raise RelinkRequired: when the stored credentials no longer work.
        :raise connectors.errors.ConnectorError: when the backend fails.
        """
        if link.status is LinkStatus.RELINK_REQUIRED or link.credential is None:
            raise RelinkRequired
        connector = self._pool.for_instance(link.instance)
        caller = BackendCaller(
            self._session, link.credential, connector=connector, vault=self._vault, now=self._now
        )
        grades = caller.call(lambda s: connector.fetch_grades(s, link.external_id, period))
        return grades_report(grades, period)
