"""Dnevnik.ru API v2: users, context, children, persons, schools, groups, periods, catalogs."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.dnevnik_ru import catalog
from regional_mock.dnevnik_ru import ids
from regional_mock.dnevnik_ru import persons
from regional_mock.dnevnik_ru.state import Token
from regional_mock.dnevnik_ru.wire import emulator
from regional_mock.dnevnik_ru.wire import fail
from regional_mock.dnevnik_ru.wire import require_id
from regional_mock.dnevnik_ru.wire import require_student
from regional_mock.dnevnik_ru.wire import require_token
from regional_mock.records import School
from regional_mock.records import SchoolClass
from regional_mock.records import Student

bp = Blueprint("dnevnik_directory", __name__)
EDU = "EducationalInfo"
CONTEXT_SCOPES = ("CommonInfo", "FriendsAndRelatives", EDU)


def _children(token: Token) -> list[Student]:
    return list(emulator().world.students_of(token.account))


def _me(token: Token, raw: str) -> None:
    """Abort unless ``raw`` is ``me`` or the token's own user id."""
    if raw != "me" and ids.decode("parent_user", raw) != token.account.id:
        fail("notOwner")


def require_school(token: Token, raw: str) -> School:
    """Return a school of the token's children, or abort."""
    school_id = require_id("school", raw)
    if school_id not in {s.school_id for s in _children(token)}:
        known = {s.id for s in emulator().world.schools}
        fail("notOwner" if school_id in known else "resourceUnavailable")
    return emulator().world.school(school_id)


def require_group(token: Token, raw: str) -> SchoolClass:
    """Return the class (edu group) of one of the token's children, or abort."""
    class_id = require_id("group", raw)
    if class_id not in {s.class_id for s in _children(token)}:
        known = {c.id for c in emulator().world.classes}
        fail("notOwner" if class_id in known else "resourceUnavailable")
    return emulator().world.school_class(class_id)


@bp.get("/users/<user>")
def user(user: str) -> Response:
    """Describe the token's user or one of the children's user accounts."""
    token = require_token()
    if user == "me" or ids.decode("parent_user", user) == token.account.id:
        return jsonify(persons.user(token.account, scope=token.scope))
    child = ids.decode("student_user", user)
    if child is None or child not in {s.id for s in emulator().world.students}:
        fail("resourceUnavailable", f"User {user} not found")
    if child not in token.account.student_ids:
        fail("notOwner")
    return jsonify(persons.user(emulator().world.student(child), scope=token.scope))


@bp.get("/users/me/roles")
def roles() -> Response:
    """List the user's roles."""
    return jsonify(persons.roles(require_token().account))


@bp.get("/users/<user>/context")
def context(user: str) -> Response:
    """Describe the parent and the children (person ids, schools, classes)."""
    token = require_token(*CONTEXT_SCOPES)
    _me(token, user)
    return jsonify(persons.context(emulator().world, token.account))


@bp.get("/users/me/children")
def children_user_ids() -> Response:
    """List the children's **user** ids."""
    token = require_token("FriendsAndRelatives")
    return jsonify([ids.encode("student_user", s.id) for s in _children(token)])


@bp.get("/user/<user>/children")
def children_of_user(user: str) -> Response:
    """List the children as Persons (each ``id`` a person id) of a user id."""
    token = require_token("FriendsAndRelatives")
    _me(token, user)
    common = "CommonInfo" in token.scope
    return jsonify([persons.person(s, common_info=common) for s in _children(token)])


@bp.get("/person/<person>/children")
def children_of_person(person: str) -> Response:
    """List the children as Persons of the parent's person id."""
    token = require_token("FriendsAndRelatives")
    if ids.decode("parent", person) != token.account.id:
        fail("notOwner")
    common = "CommonInfo" in token.scope
    return jsonify([persons.person(s, common_info=common) for s in _children(token)])


@bp.get("/persons/<person>")
def person(person: str) -> Response:
    """Describe the parent's own person or a child's."""
    token = require_token()
    common = "CommonInfo" in token.scope
    if ids.decode("parent", person) == token.account.id:
        return jsonify(persons.person(token.account, common_info=common))
    return jsonify(persons.person(require_student(token, person), common_info=common))


@bp.get("/users/me/organizations")
@bp.get("/users/<user>/schools")
def school_ids(user: str = "me") -> Response:
    """List the ids of the children's schools (the cheap token check)."""
    token = require_token()
    _me(token, user)
    return jsonify(sorted({ids.encode("school", s.school_id) for s in _children(token)}))


@bp.get("/schools/person-schools")
def person_schools() -> Response:
    """List the children's schools in the short form."""
    token = require_token(EDU)
    world = emulator().world
    found = sorted({s.school_id for s in _children(token)})
    return jsonify([persons.school_short(world.school(i)) for i in found])


@bp.get("/schools")
def schools() -> Response:
    """Describe the listed schools; with none listed, the user's own (short form)."""
    token = require_token(EDU)
    listed = request.args.getlist("schools")
    if not listed:
        return person_schools()
    return jsonify([persons.school_full(require_school(token, raw)) for raw in listed])


@bp.get("/schools/<school>")
def school(school: str) -> Response:
    """Describe a school: flags ``uses_avg``, ``uses_weighted_avg`` and ``markType``."""
    return jsonify(persons.school_full(require_school(require_token(EDU), school)))


@bp.get("/schools/<school>/subjects")
def school_subjects(school: str) -> Response:
    """List the subjects of a school."""
    found = require_school(require_token(EDU), school)
    index = emulator().subjects
    items = sorted((i, name) for (s, name), i in index.items() if s == found.id)
    return jsonify([catalog.subject(i, name) for i, name in items])


@bp.get("/persons/<person>/edu-groups")
@bp.get("/persons/<person>/edu-groups/all")
@bp.get("/persons/<person>/schools/<school>/edu-groups")
def person_groups(person: str, school: str | None = None) -> Response:
    """List a child's edu groups (the class; the world has no subgroups or past years)."""
    token = require_token(EDU)
    student = require_student(token, person)
    if school is not None and require_school(token, school).id != student.school_id:
        return jsonify([])
    world = emulator().world
    return jsonify([persons.edu_group(world, world.class_of(student.id))])


@bp.get("/edu-groups/<group>")
def group(group: str) -> Response:
    """Describe an edu group."""
    found = require_group(require_token(EDU), group)
    return jsonify(persons.edu_group(emulator().world, found))


@bp.get("/edu-groups/<group>/students")
@bp.get("/edu-groups/<group>/persons")
def group_students(group: str) -> Response:
    """List the class's students the world has."""
    token = require_token(EDU)
    found = require_group(token, group)
    world = emulator().world
    members = [s for s in world.students if s.class_id == found.id]
    return jsonify([persons.person(s, common_info="CommonInfo" in token.scope) for s in members])


@bp.get("/edu-groups/<group>/subjects")
def group_subjects(group: str) -> Response:
    """List the subjects taught in the class."""
    found = require_group(require_token(EDU), group)
    world = emulator().world
    index = emulator().subjects
    names = sorted({c.subject for c in world.courses if c.class_id == found.id})
    items = sorted((index[(found.school_id, name)], name) for name in names)
    return jsonify([catalog.subject(i, name) for i, name in items])


@bp.get("/edu-groups/<group>/teachers")
def group_teachers(group: str) -> Response:
    """List the class's teachers as Persons."""
    found = require_group(require_token(EDU), group)
    world = emulator().world
    return jsonify([persons.person(x) for x in persons.teachers_of(world, found)])


@bp.get("/edu-groups/<group>/reporting-periods")
def reporting_periods(group: str) -> Response:
    """List the quarters of the school year."""
    require_group(require_token(EDU), group)
    quarters = catalog.periods(emulator().world.today)
    return jsonify([catalog.reporting_period(p) for p in quarters])


@bp.get("/edu-groups/<group>/reporting-period-group")
@bp.get("/edu-groups/<group>/reporting-periods-group")
def reporting_period_group(group: str) -> Response:
    """Describe the year's period group (both spellings of the path are served)."""
    found = require_group(require_token(EDU), group)
    quarters = catalog.periods(emulator().world.today)
    return jsonify(
        {
            **ids.pair("id", "period_group", found.id),
            "reportingPeriods": [catalog.reporting_period(p) for p in quarters],
            "holidays": [],
        }
    )


@bp.get("/work-types/<school>")
def work_types(school: str) -> Response:
    """List the school's work types with their weights."""
    found = require_school(require_token(EDU), school)
    items = emulator().world.work_types
    return jsonify([catalog.work_type(x, found.id) for x in items])


@bp.get("/marks/values")
def mark_values() -> Response:
    """List the mark systems and their ordered values."""
    require_token()
    return jsonify(catalog.MARK_SYSTEMS)


@bp.get("/marks/values/type/<kind>")
def mark_values_of(kind: str) -> Response:
    """List the values of one mark system."""
    require_token()
    if kind not in catalog.MARK_SYSTEMS:
        fail("parameterInvalid", f"Unknown mark type '{kind}'")
    return jsonify(catalog.MARK_SYSTEMS[kind])
