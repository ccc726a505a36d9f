"""Derive Dnevnik.ru's 64-bit ids from the world's small ids, reversibly.

The world numbers records in its own small ranges. Dnevnik.ru's ids are int64: persons,
users and schools sit near 10^12 (below 2^53, as captured), while groups, subjects, lessons,
works, marks, tasks, work types, periods and files sit near 1.85 * 10^18, far above 2^53, so
a client that parses them as doubles loses digits and must key on the ``*_str`` twins.
"""

from __future__ import annotations

import typing as t

# Persons, users and schools: SMALL + code * SMALL_SPAN + world id (under 2**53).
SMALL = 1_000_000_000_000
SMALL_SPAN = 10_000_000_000
SMALL_KINDS = {
    "parent": 1,  # person id of a login's holder
    "student": 2,
    "teacher": 3,
    "parent_user": 4,
    "student_user": 5,
    "teacher_user": 6,
    "school": 7,
}
# Everything else: BIG + code * BIG_SPAN + world id (above 2**53).
BIG = 1_854_320_000_000_000_000
BIG_SPAN = 10_000_000_000_000
BIG_KINDS = {
    "group": 1,
    "subject": 2,
    "lesson": 3,
    "work": 4,  # the graded work behind a mark (world mark id)
    "homework": 5,  # a homework Work (world homework id)
    "mark": 6,
    "task": 7,
    "work_type": 8,
    "period": 9,
    "timetable": 10,
    "file": 11,
    "period_group": 12,
}
Kind = t.Literal[
    "parent",
    "student",
    "teacher",
    "parent_user",
    "student_user",
    "teacher_user",
    "school",
    "group",
    "subject",
    "lesson",
    "work",
    "homework",
    "mark",
    "task",
    "work_type",
    "period",
    "timetable",
    "file",
    "period_group",
]


def encode(kind: Kind, world_id: int) -> int:
    """Return the Dnevnik.ru id of a world record of ``kind``."""
    if kind in SMALL_KINDS:
        if not 0 <= world_id < SMALL_SPAN:
            raise ValueError(f"world id out of range: {world_id}")
        return SMALL + SMALL_KINDS[kind] * SMALL_SPAN + world_id
    if not 0 <= world_id < BIG_SPAN:
        raise ValueError(f"world id out of range: {world_id}")
    return BIG + BIG_KINDS[kind] * BIG_SPAN + world_id


def decode(kind: Kind, value: int | str) -> int | None:
    """Return the world id behind a Dnevnik.ru id of ``kind``; None when it is not one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if kind in SMALL_KINDS:
        base, span, code = SMALL, SMALL_SPAN, SMALL_KINDS[kind]
    else:
        base, span, code = BIG, BIG_SPAN, BIG_KINDS[kind]
    rest = number - base - code * span
    return rest if 0 <= rest < span else None


def pair(name: str, kind: Kind, world_id: int | None) -> dict[str, int | str | None]:
    """Return ``{name: id, name + "_str": "id"}``, both None when there is no record."""
    if world_id is None:
        return {name: None, f"{name}_str": None}
    value = encode(kind, world_id)
    return {name: value, f"{name}_str": str(value)}
