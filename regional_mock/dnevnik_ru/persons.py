"""Pure functions from world records to Dnevnik.ru's Person, User, School and EduGroup JSON."""

from __future__ import annotations

import typing as t

from regional_mock.dnevnik_ru import catalog
from regional_mock.dnevnik_ru import ids
from regional_mock.dnevnik_ru.wire import day
from regional_mock.dnevnik_ru.wire import short_name
from regional_mock.records import Account
from regional_mock.records import School
from regional_mock.records import SchoolClass
from regional_mock.records import Student
from regional_mock.records import Teacher
from regional_mock.world import World

JSON = dict[str, t.Any]
TIMEZONE = "+3:00"  # Tver keeps Moscow time
# World record kind -> (person id kind, user id kind).
KINDS: dict[type, tuple[ids.Kind, ids.Kind]] = {
    Account: ("parent", "parent_user"),
    Student: ("student", "student_user"),
    Teacher: ("teacher", "teacher_user"),
}


def _name(record: Account | Student | Teacher) -> str:
    return record.holder if isinstance(record, Account) else record.full_name


def sex(full_name: str) -> str:
    """Tell ``Male`` or ``Female`` from the patronymic (or the surname)."""
    parts = full_name.split()
    word = parts[2] if len(parts) > 2 else parts[0]
    return "Female" if word.endswith(("вна", "чна", "а", "я")) else "Male"


def person(record: Account | Student | Teacher, *, common_info: bool = True) -> JSON:
    """Render a Person; without CommonInfo only the ids and ``shortName`` are left."""
    person_kind, user_kind = KINDS[type(record)]
    full = _name(record)
    last, first, *middle = full.split()
    rv: JSON = {
        **ids.pair("id", person_kind, record.id),
        **ids.pair("userId", user_kind, record.id),
    }
    if common_info:
        rv |= {"firstName": first, "lastName": last, "middleName": " ".join(middle)}
    rv["shortName"] = short_name(full)
    if common_info:
        rv["sex"] = sex(full)
    return rv


def user(record: Account | Student, *, scope: tuple[str, ...]) -> JSON:
    """Render a User; fields of scopes the token lacks are left out (note §1.3)."""
    person_kind, user_kind = KINDS[type(record)]
    full = _name(record)
    last, first, *middle = full.split()
    rv: JSON = {
        **ids.pair("id", user_kind, record.id),
        **ids.pair("personId", person_kind, record.id),
        "name": f"{first} {last}",
    }
    if "ContactInfo" in scope:
        rv["email"] = ""
    rv["login"] = record.login if isinstance(record, Account) else None
    if "CommonInfo" in scope:
        rv |= {
            "fullName": full,
            "fullNameInverse": " ".join([first, *middle, last]),
            "firstName": first,
            "middleName": " ".join(middle),
            "lastName": last,
        }
    rv |= {"shortName": short_name(full), "locale": "ru-RU", "timezone": TIMEZONE}
    if "CommonInfo" in scope:
        birthday = day(record.birth_date) if isinstance(record, Student) else None
        rv |= {"sex": sex(full), "photoSmall": None, "photoMedium": None, "photoLarge": None}
        rv["birthday"] = birthday
    rv["roles"] = roles(record)
    if "ContactInfo" in scope:
        rv["phone"] = ""
    return rv


def roles(record: Account | Student) -> list[str]:
    """Return the user's roles."""
    return ["EduParent"] if isinstance(record, Account) else ["EduStudent"]


def school_short(school: School) -> JSON:
    """Render the short school form of ``schools`` and ``schools/person-schools``."""
    return {
        **ids.pair("id", "school", school.id),
        "name": school.short_name,
        "educationType": "Regular",
        "tsoCityId": school.city_id,
        "tsoRegionTreePath": f"/{school.region_code}/{school.city_id}",
    }


def school_full(school: School) -> JSON:
    """Render ``schools/{school}``: weighted averages on, five-point marks."""
    return {
        "fullName": school.name,
        "avatarSmall": None,
        "city": school.city,
        "municipality": f"городской округ город {school.city}",
        "regionId": int(school.region_code),
        "markType": "mark5",
        "timeZone": 3,
        "uses_avg": True,
        "uses_weighted_avg": True,
        **school_short(school),
    }


def edu_group(world: World, school_class: SchoolClass) -> JSON:
    """Render a class as an EduGroup of the world's school year (there are no subgroups)."""
    return {
        **ids.pair("id", "group", school_class.id),
        "parentIds": None,
        "parentIds_str": None,
        "type": "Group",
        "name": f"{school_class.grade}-{school_class.letter}",
        "fullName": "",
        "parallel": school_class.grade,
        **ids.pair("timetable", "timetable", school_class.school_id),
        "status": "Active",
        "studyyear": catalog.study_year(world.today),
        "educationType": "Regular",
        "subjects": [],
        "journaltype": "Regular",
    }


def context(world: World, account: Account) -> JSON:
    """Render ``users/me/context`` of a parent: the children with their school and class."""
    last, first, *middle = account.holder.split()
    children = []
    for student in world.students_of(account):
        s_last, s_first, *s_middle = student.full_name.split()
        children.append(
            {
                "personId": ids.encode("student", student.id),
                "firstName": s_first,
                "lastName": s_last,
                "middleName": " ".join(s_middle),
                "shortName": short_name(student.full_name),
                "schoolIds": [ids.encode("school", student.school_id)],
                "groupIds": [ids.encode("group", student.class_id)],
            }
        )
    return {
        "userId": ids.encode("parent_user", account.id),
        "avatarUrl": None,
        "roles": roles(account),
        "children": children,
        "schools": [],
        "eduGroups": [],
        "splitId": None,
        "personId": ids.encode("parent", account.id),
        "firstName": first,
        "lastName": last,
        "middleName": " ".join(middle),
        "shortName": short_name(account.holder),
        "schoolIds": [],
        "groupIds": [],
    }


def teachers_of(world: World, school_class: SchoolClass) -> list[Teacher]:
    """Return the class's teachers: its courses' and the substitutes', by id."""
    found = {c.teacher_id for c in world.courses if c.class_id == school_class.id}
    found |= {x.teacher_id for x in world.lessons if x.class_id == school_class.id}
    return [world.teacher(i) for i in sorted(found)]
