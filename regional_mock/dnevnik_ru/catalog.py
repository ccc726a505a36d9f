"""School-level catalogs Dnevnik.ru has and the world lacks: subjects, work kinds, periods."""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from regional_mock.dnevnik_ru import ids
from regional_mock.records import WorkType
from regional_mock.world import World

JSON = dict[str, t.Any]
HOMEWORK_TYPE = 3  # the world's homework work type (NetSchool numbering)
# Work kinds seen by clients (note §2.1); the kindId numbers are invented.
KINDS = (
    "CommonWork",
    "DefaultNewLessonWork",
    "Homework",
    "LessonTestWork",
    "LessonExamination",
    "LessonComposition",
    "LessonByHeart",
    "LaboratoryWork",
    "CreativeWork",
    "PeriodMark",
)
# World work type id -> Dnevnik.ru work kind.
KIND_OF = {
    1: "CommonWork",
    3: "Homework",
    4: "LessonTestWork",
    5: "CommonWork",
    6: "LaboratoryWork",
    8: "LessonComposition",
    9: "CreativeWork",
    10: "DefaultNewLessonWork",
    14: "LessonTestWork",
    21: "CommonWork",
    26: "LessonByHeart",
    31: "LessonExamination",
}
MARK5 = [f"{n}{s}" for n in range(1, 6) for s in ("-", "", "+")]
# Mark systems: mark5 is sourced (note §2.5); the codes of the others are invented.
MARK_SYSTEMS: dict[str, list[str]] = {"mark5": MARK5, "pass": ["зч", "нз"], "na": ["н/а"]}
KNOWLEDGE_AREAS = {
    "Русский язык": "Русский язык и литературное чтение",
    "Литературное чтение": "Русский язык и литературное чтение",
    "Математика": "Математика и информатика",
    "Окружающий мир": "Обществознание и естествознание",
    "Физическая культура": "Физическая культура",
    "Музыка": "Искусство",
    "Изобразительное искусство": "Искусство",
    "Труд (технология)": "Технология",
    "Иностранный язык (английский)": "Иностранные языки",
}
# Quarters (четверти) as (month, day) of start and finish; summer days count to the 4th.
QUARTERS = (((9, 1), (10, 31)), ((11, 1), (12, 31)), ((1, 1), (3, 31)), ((4, 1), (5, 31)))


def subject_index(world: World) -> dict[tuple[int, str], int]:
    """Map (school id, subject name) to the subject's world id: its first course's id."""
    rv: dict[tuple[int, str], int] = {}
    for course in sorted(world.courses, key=lambda c: c.id):
        school_id = world.school_class(course.class_id).school_id
        rv.setdefault((school_id, course.subject), course.id)
    return rv


def subject(world_id: int, name: str) -> JSON:
    """Render a Subject."""
    return {
        **ids.pair("id", "subject", world_id),
        "name": name,
        "knowledgeArea": KNOWLEDGE_AREAS.get(name, ""),
        "fgosSubjectId": None,
        "espSubjectName": None,
        "halfYear": False,
    }


def mark_system(shown: str, kind: str) -> str:
    """Return the mark system code of a mark as shown."""
    if kind == "numeric":
        return "mark5"
    return next((code for code, values in MARK_SYSTEMS.items() if shown in values), "na")


def kind_id(kind: str) -> int:
    """Return the (invented) number of a work kind."""
    return KINDS.index(kind) + 1


def weight(work_type: WorkType) -> int:
    """Return Dnevnik.ru's small integer weight (the world's 10/20/40 become 1/2/4)."""
    return max(work_type.weight // 10, 1)


def work_type(item: WorkType, school_id: int) -> JSON:
    """Render an entry of ``work-types/{school}`` (the only shape with ``weight``)."""
    kind = KIND_OF.get(item.id, "CommonWork")
    return {
        **ids.pair("id", "work_type", item.id),
        "schoolId": ids.encode("school", school_id),
        "kindId": kind_id(kind),
        "kind": kind,
        "title": item.name,
        "abbr": item.abbr,
        "weight": weight(item),
    }


def embedded_work_type(item: WorkType, school_id: int) -> JSON:
    """Render a work type as the bundle responses embed it (no weight, no ``id_str``)."""
    kind = KIND_OF.get(item.id, "CommonWork")
    return {
        "id": ids.encode("work_type", item.id),
        "schoolId": ids.encode("school", school_id),
        "abbreviation": item.abbr,
        "name": item.name,
        "isFinal": False,
        "isImportant": item.weight >= 40,
        "kindId": kind_id(kind),
        "kind": kind,
    }


@dataclass(frozen=True)
class Period:
    """A reporting period (quarter) of a school year."""

    number: int
    year: int
    start: dt.date
    finish: dt.date

    @property
    def world_id(self) -> int:
        """Return the number the period's Dnevnik.ru id is derived from."""
        return self.year * 10 + self.number


def study_year(day: dt.date) -> int:
    """Return the year the school year of ``day`` starts in."""
    return day.year if day.month >= 9 else day.year - 1


def periods(day: dt.date) -> list[Period]:
    """Return the four quarters of the school year containing ``day``."""
    year = study_year(day)
    rv = []
    for number, ((m1, d1), (m2, d2)) in enumerate(QUARTERS, start=1):
        y1 = year if m1 >= 9 else year + 1
        y2 = year if m2 >= 9 else year + 1
        rv.append(Period(number, year, dt.date(y1, m1, d1), dt.date(y2, m2, d2)))
    return rv


def period_of(day: dt.date) -> Period:
    """Return the quarter a day belongs to (summer days to the fourth)."""
    quarters = periods(day)
    return next((p for p in quarters if p.start <= day <= p.finish), quarters[-1])


def period_by_id(world_id: int) -> Period | None:
    """Return the period with a derived id."""
    year, number = divmod(world_id, 10)
    if not 1 <= number <= 4 or year < 2000:
        return None
    return periods(dt.date(year, 9, 1))[number - 1]


def reporting_period(item: Period) -> JSON:
    """Render a ReportingPeriod."""
    return {
        **ids.pair("id", "period", item.world_id),
        "start": f"{item.start.isoformat()}T00:00:00",
        "finish": f"{item.finish.isoformat()}T00:00:00",
        "number": item.number,
        "type": "Quarter",
        "name": f"{item.number} четверть",
        "year": item.year,
    }
