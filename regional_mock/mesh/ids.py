"""Derive MESH-style identifiers and people data deterministically from the shared world.

The world numbers records in its own ranges; MESH shows other ones (note §0.4): an 8-digit
student profile id, a 7-digit parent profile id, contingent GUIDs, ИСПП contract ids,
10-digit mark ids, 9-digit schedule item ids. Every id here is a pure function of a world
id (plus fixed offsets), so the same world always shows the same MESH ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zlib
from dataclasses import dataclass

from regional_mock.records import Account
from regional_mock.records import Student
from regional_mock.world import World

NAMESPACE = uuid.UUID("6f1c2a4e-5b7d-4e0a-9c3f-2d8b1e6a7c50")

# MESH subject ids (§3.2 shows «Математика» 20, «Русский язык» 1, «Английский язык» 8).
SUBJECT_IDS: dict[str, int] = {
    "Русский язык": 1,
    "Литература": 2,
    "Иностранный язык (английский)": 8,
    "История": 25,
    "География": 14,
    "Биология": 15,
    "Математика": 20,
    "Алгебра": 21,
    "Геометрия": 22,
    "Вероятность и статистика": 23,
    "Обществознание": 26,
    "Физика": 17,
    "Химия": 18,
    "Информатика": 19,
    "Физическая культура": 30,
    "Музыка": 31,
    "Изобразительное искусство": 32,
    "Труд (технология)": 33,
    "Основы безопасности и защиты Родины": 34,
    "Литературное чтение": 3,
    "Окружающий мир": 12,
}

# What DEMO.md tells about the holders of school-issued logins (birth date, sex, phone
# without the country digit as MESH shows it, e-mail, SNILS).
PEOPLE: dict[str, tuple[dt.date, str, str, str, str]] = {
    "Смирнова Ирина Сергеевна": (
        dt.date(1985, 3, 14),
        "female",
        "9000000001",
        "irina.smirnova@example.test",
        "112-233-445 95",
    ),
}


def guid(*parts: object) -> str:
    """Return a stable UUID string for a key."""
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def subject_id(subject: str) -> int:
    """Return the MESH subject id of a subject name."""
    return SUBJECT_IDS.get(subject) or 100 + zlib.crc32(subject.encode()) % 900


def snils(seed: int) -> str:
    """Return a SNILS with a valid check number, derived from an integer."""
    digits = f"{100_000_000 + seed % 800_000_000:09d}"
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits))
    check = total % 101 % 100
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]} {check:02d}"


def split_name(full_name: str) -> tuple[str, str, str]:
    """Return the last, first and middle name of a full name."""
    last, first, *rest = full_name.split()
    return last, first, " ".join(rest)


def sex_of(full_name: str) -> str:
    """Guess ``male`` or ``female`` from the patronymic, as Russian names allow."""
    return "female" if full_name.endswith(("вна", "чна", "кызы")) else "male"


@dataclass(frozen=True)
class MeshIds:
    """MESH identifiers of the world's records, with reverse lookups."""

    world: World

    def student_profile_id(self, student: Student) -> int:
        """Return ``children[].id``: the child's student profile id (``student_id``)."""
        return 17_000_000 + student.id % 1_000_000

    def student_user_id(self, student: Student) -> int:
        """Return the child's account user id."""
        return 5_500_000 + student.id % 100_000

    def contingent_guid(self, student: Student) -> str:
        """Return the child's person id in the contingent registry."""
        return guid("person", student.id)

    def contract_id(self, student: Student) -> int:
        """Return the child's ИСПП account (school card)."""
        return 3_300_000 + student.id % 100_000

    def parent_profile_id(self, account: Account) -> int:
        """Return the parent's profile id (``Profile-Id``)."""
        return 9_100_000 + account.id % 100_000

    def parent_user_id(self, account: Account) -> int:
        """Return the parent's account user id."""
        return 4_400_000 + account.id % 100_000

    def parent_person_id(self, account: Account) -> str:
        """Return the parent's person id."""
        return guid("parent", account.login.casefold())

    def class_unit_id(self, class_id: int) -> int:
        """Return the class unit id of a world class."""
        return 440_000 + class_id % 10_000

    def group_id(self, course_id: int) -> int:
        """Return the group id of a world course."""
        return 8_800_000 + course_id % 100_000

    def teacher_id(self, teacher_id: int) -> int:
        """Return a teacher's MESH profile id."""
        return 2_500_000 + teacher_id % 100_000

    def mark_id(self, mark_id: int) -> int:
        """Return a 10-digit mark id."""
        return 2_711_000_000 + mark_id % 1_000_000

    def schedule_item_id(self, lesson_id: int) -> int:
        """Return the event/schedule item id of a lesson."""
        return 384_000_000 + lesson_id % 1_000_000

    def homework_id(self, homework_id: int) -> int:
        """Return ``homework_id`` of a world homework."""
        return 611_000_000 + homework_id % 1_000_000

    def homework_entry_id(self, homework_id: int) -> int:
        """Return ``homework_entry_id`` of a world homework."""
        return 733_000_000 + homework_id % 1_000_000

    def homework_entry_student_id(self, homework_id: int, student: Student) -> int:
        """Return the per-student copy id of a homework."""
        return 1_990_000_000 + (homework_id % 1_000_000) * 10 + student.id % 10

    def event_id(self, event_id: int) -> int:
        """Return the calendar id of a world event (meeting or school event)."""
        return 512_000_000 + event_id

    def student_by_profile(self, profile_id: int) -> Student | None:
        """Return the student with a MESH student profile id."""
        return next(
            (s for s in self.world.students if self.student_profile_id(s) == profile_id), None
        )

    def student_by_guid(self, person_id: str) -> Student | None:
        """Return the student with a contingent GUID."""
        return next(
            (s for s in self.world.students if self.contingent_guid(s) == person_id.lower()),
            None,
        )

    def homework_by_id(self, mesh_id: int) -> int | None:
        """Return the world homework id of a MESH ``homework_id``."""
        homework_id = mesh_id - 611_000_000 + 371_000_000
        try:
            self.world.homework_item(homework_id)
        except KeyError:
            return None
        return homework_id
