"""Sessions and the family profile: the parent and the children a login shows (§1.6, §3.1)."""

from __future__ import annotations

import hashlib
import typing as t

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.mesh.ids import PEOPLE
from regional_mock.mesh.ids import guid
from regional_mock.mesh.ids import sex_of
from regional_mock.mesh.ids import snils
from regional_mock.mesh.ids import split_name
from regional_mock.mesh.ids import subject_id
from regional_mock.mesh.state import Token
from regional_mock.mesh.wire import class_name
from regional_mock.mesh.wire import emulator
from regional_mock.mesh.wire import require_token
from regional_mock.records import Account
from regional_mock.records import Student

bp = Blueprint("mesh_people", __name__)

COUNTY = "ЮЗАО"
PRINCIPAL = "Гордеева Марина Викторовна"


def parent_person(account: Account) -> dict[str, t.Any]:
    """Return the person fields of a login's holder (DEMO.md data where known)."""
    ids = emulator().ids
    last, first, middle = split_name(account.holder or "Родитель Демо Демович")
    born, sex, phone, email, number = PEOPLE.get(
        account.holder, (None, sex_of(account.holder or "вич"), None, None, None)
    )
    return {
        "last_name": last,
        "first_name": first,
        "middle_name": middle,
        "birth_date": born.isoformat() if born else None,
        "sex": sex,
        "user_id": ids.parent_user_id(account),
        "id": ids.parent_profile_id(account),
        "contract_id": None,
        "phone": phone,
        "email": email,
        "snils": number or snils(account.id),
        "type": "parent",
    }


def _representative(account: Account) -> dict[str, t.Any]:
    person = parent_person(account)
    keys = ("last_name", "first_name", "middle_name", "email", "phone", "snils")
    return {
        "person_id": emulator().ids.parent_person_id(account),
        **{k: person[k] for k in keys[:3]},
        "type_id": 1,
        "type": "Родитель",
        **{k: person[k] for k in keys[3:]},
    }


def _school(student: Student) -> dict[str, t.Any]:
    school = emulator().world.school_of(student.id)
    return {
        "id": school.id,
        "name": school.name,
        "short_name": school.short_name,
        "county": COUNTY,
        "principal": PRINCIPAL,
        "phone": "4950001535",
        "global_school_id": school.id,
        "municipal_unit_name": None,
    }


def _groups(student: Student) -> list[dict[str, t.Any]]:
    em = emulator()
    cls = em.world.class_of(student.id)
    courses = [c for c in em.world.courses if c.class_id == cls.id]
    return [
        {
            "id": em.ids.group_id(c.id),
            "name": f"{c.subject} {class_name(cls.grade, cls.letter)}",
            "subject_id": subject_id(c.subject),
            "is_fake": False,
        }
        for c in courses
    ]


def child_profile(student: Student, account: Account) -> dict[str, t.Any]:
    """Return one ``children[]`` entry of the family profile."""
    em = emulator()
    ids, today = em.ids, em.world.today
    cls = em.world.class_of(student.id)
    last, first, middle = split_name(student.full_name)
    born = student.birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    person = {"last_name": last, "first_name": first, "middle_name": middle}
    person |= {"birth_date": born.isoformat(), "sex": sex_of(student.full_name)}
    person |= {"user_id": ids.student_user_id(student), "id": ids.student_profile_id(student)}
    person |= {"contract_id": ids.contract_id(student), "phone": None, "email": None}
    person |= {"snils": snils(student.id), "type": None, "school": _school(student)}
    klass = {"class_name": class_name(cls.grade, cls.letter), "class_level_id": cls.grade}
    klass |= {"class_unit_id": ids.class_unit_id(cls.id), "class_uid": guid("class", cls.id)}
    klass |= {"age": age, "groups": _groups(student), "sections": [], "ec_groups": None}
    level = 1 if cls.grade <= 4 else 2 if cls.grade <= 9 else 3
    rest = {"representatives": [_representative(account)], "sudir_account_exists": True}
    rest |= {"sudir_login": None, "is_legal_representative": True}
    rest |= {"parallel_curriculum_id": 570_000 + cls.grade}
    rest["contingent_guid"] = ids.contingent_guid(student)
    rest |= {"enrollment_date": f"{born.year + 7}-09-01", "service_type_id": 1}
    rest |= {"profession_specialty_code": None, "profession_specialty_name": None}
    rest |= {"education_level_id": level, "physical_training_health_group_id": 1}
    return {**person, **klass, **rest}


def _token_from_body() -> Token:
    body = request.get_json(silent=True) or {}
    value = str(body.get("auth_token") or "")
    token = emulator().state.mesh_token(value) if value else None
    return token if token is not None else require_token()


@bp.post("/api/ej/acl/v1/sessions")
@bp.post("/lms/api/sessions")
def sessions() -> Response:
    """Describe the session user; ``profiles[0].id`` is the parent's profile id (§3.1)."""
    token = _token_from_body()
    account, em = token.account, emulator()
    person = parent_person(account)
    school = em.world.school_of(account.student_ids[0]) if account.student_ids else None
    profile = {"id": person["id"], "type": "parent", "roles": [], "user_id": person["user_id"]}
    profile |= {"agree_pers_data": True, "school_id": school.id if school else None}
    profile |= {"school_shortname": school.short_name if school else None, "subject_ids": []}
    profile["organization_id"] = str(school.id) if school else None
    body = {"id": person["user_id"], "email": person["email"], "snils": person["snils"]}
    body |= {"guid": em.ids.parent_person_id(account), "first_name": person["first_name"]}
    body |= {"last_name": person["last_name"], "middle_name": person["middle_name"]}
    body |= {"phone_number": person["phone"], "authentication_token": token.value}
    body |= {"person_id": em.ids.parent_person_id(account), "password_change_required": False}
    body |= {"regional_auth": "msk", "sex": person["sex"], "date_of_birth": person["birth_date"]}
    return jsonify({**body, "profiles": [profile]})


@bp.get("/acl/api/users/profile_info")
def profile_info() -> Response:
    """List the caller's profiles; an empty list means an expired token to OctoDiary (§1.6 c)."""
    token = require_token()
    return jsonify([{"id": emulator().ids.parent_profile_id(token.account), "type": "parent"}])


@bp.get("/api/family/web/v1/profile")
@bp.get("/api/family/mobile/v1/profile")
def family_profile() -> Response:
    """Return the parent's profile, the children and a cache ``hash`` (§1.6 f)."""
    token = require_token()
    world = emulator().world
    children = [child_profile(s, token.account) for s in world.students_of(token.account)]
    profile = parent_person(token.account)
    digest = hashlib.sha256(repr((profile, children)).encode()).hexdigest()[:16]
    return jsonify(profile=profile, children=children, hash=digest)
