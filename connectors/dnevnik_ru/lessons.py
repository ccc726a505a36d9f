"""The lessons behind a child's marks and lesson-log entries, for a period too long to read
from the schedules bundles, which carry their lessons.

A mark or a log entry names its lesson by id only; the subject, date and number come from
the class's lessons of the period (one read per group, sent early, beside the marks) and,
for a lesson no group's list has (a subgroup's, note §4), from a read of the lesson itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from connectors.concurrency import Early
from connectors.concurrency import gather
from connectors.dnevnik_ru import normalize
from connectors.dnevnik_ru.client import DnevnikClient
from connectors.errors import reading
from connectors.schema import Period

__all__ = ["LessonIndex", "LessonRefs"]

DNEVNIK = "Дневник.ру"
LessonRefs = dict[str, normalize.LessonRef]


class LessonIndex:
    """Index lessons by id for the normalizers, reading as few as the answers allow."""

    def __init__(self, client: DnevnikClient) -> None:
        """Read through the connector's wire client."""
        self._client = client

    def early(self, token: str, groups: Iterable[str], period: Period) -> list[Early[LessonRefs]]:
        """Return the early reads of the class's lessons of a period, one per group."""

        def read(group: str) -> LessonRefs:
            """Read and index one group's lessons."""
            lessons = self._client.group_lessons(token, group, period)
            with reading(DNEVNIK):
                return normalize.lesson_refs(lessons)

        return [Early(partial(read, group)) for group in groups]

    def complete(
        self, token: str, class_lessons: Iterable[Early[LessonRefs]], wanted: set[str]
    ) -> LessonRefs:
        """Index the wanted lessons: the class's, then each one missing, read at once."""
        refs: LessonRefs = {}
        for early in class_lessons:
            refs |= early.result()

        def read(lesson_id: str) -> LessonRefs:
            """Read one lesson the class's list lacks."""
            one = self._client.lesson(token, lesson_id)
            with reading(DNEVNIK):
                return normalize.lesson_refs([one])

        missing = sorted(wanted - refs.keys())
        for found in gather([partial(read, lesson_id) for lesson_id in missing]):
            refs |= found
        return refs
