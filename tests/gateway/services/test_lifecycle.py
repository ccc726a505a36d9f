"""An instance's connection test, enabling and disabling: one implementation, audited."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Iterator

import pytest
from flask import Flask

from connectors.schema import Section
from gateway.extensions import db
from gateway.models import ConnectorInstance
from gateway.models import RoleKind
from gateway.models import User
from gateway.runtime import services
from gateway.services import audit
from gateway.services import lifecycle
from gateway.services import roles
from gateway.services.instances import NOTHING_OFFERED
from gateway.services.instances import ConnectorPool
from gateway.services.instances import instance_by_key
from gateway.services.instances import offers
from tests.gateway.conftest import build_fake_app
from tests.gateway.conftest import make_person
from tests.gateway.fakes import FakeConnector
from tests.gateway.fakes import FakeSchool

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
URL = "http://fake.invalid"


@pytest.fixture
def app(make_app: t.Callable[..., Flask], school: FakeSchool) -> Iterator[Flask]:
    """Hold an app context over an approved instance and one awaiting its approval."""
    app = build_fake_app(make_app, instances=(("samara-fake", "63", "Самара", "fake_operator"),))
    with app.app_context():
        yield app


def _person(app: Flask, subject: str, *, admin: bool = False) -> lifecycle.Actor:
    db.session.commit()  # make_person writes from a context of its own
    user = db.session.get(User, make_person(app, subject, "Орлова Мария Андреевна"))
    if admin:
        roles.grant(db.session, subject, RoleKind.ADMIN, now=NOW)
        db.session.flush()
    return lifecycle.Actor(user=user)


def _new_instance(by: lifecycle.Actor) -> ConnectorInstance:
    return lifecycle.register(
        db.session,
        pool=services().pool,
        key="samara-spare",
        region_code="63",
        region_name="Самара (резерв)",
        connector="fake",
        base_url=URL,
        settings={},
        by=by,
        now=NOW,
        policy=lifecycle.Policy(allow_private=True),
    )


def _check(instance: ConnectorInstance, **login: t.Any) -> lifecycle.CheckResult:
    fields = {"login": "parent", "password": "secret", **login}
    return lifecycle.check_connection(
        db.session, instance, pool=services().pool, by=lifecycle.Actor(via="cli"), now=NOW, **fields
    )


def _kinds(instance: ConnectorInstance) -> list[str]:
    return sorted(event.kind for event in audit.instance_log(db.session, instance))


def test_a_passing_test_counts_the_students_and_marks_the_instance_tested(app: Flask) -> None:
    instance = _new_instance(_person(app, "operator-1"))
    result = _check(instance)
    assert result.students == 2 and Section.GRADES in result.sections
    assert instance.checked_at == NOW
    assert _kinds(instance) == ["check_passed", "registered"]


@pytest.mark.parametrize(
    ("login", "code"),
    [
        ({"password": "wrong"}, "credentials"),
        ({"login": "nobody"}, "credentials"),
    ],
)
def test_a_refused_test_login_fails_as_credentials(
    app: Flask, login: dict[str, str], code: str
) -> None:
    instance = instance_by_key(db.session, "samara-fake")
    with pytest.raises(lifecycle.ConnectionFailed) as failed:
        _check(instance, **login)
    assert failed.value.code == code
    assert _kinds(instance) == ["check_failed"]


def test_a_system_that_is_down_fails_as_unreachable(app: Flask, school: FakeSchool) -> None:
    school.down = True
    instance = instance_by_key(db.session, "samara-fake")
    with pytest.raises(lifecycle.ConnectionFailed) as failed:
        _check(instance)
    assert failed.value.code == "unreachable" and instance.checked_at is None


def test_a_second_factor_needs_the_code_and_passes_with_it(app: Flask, school: FakeSchool) -> None:
    school.sms_for.add("parent")
    instance = instance_by_key(db.session, "samara-fake")
    with pytest.raises(lifecycle.ConnectionFailed) as failed:
        _check(instance)
    assert failed.value.code == "code_needed"
    assert _check(instance, code=school.code).students == 2
    assert school.calls["confirm"] == 1
    assert _kinds(instance) == ["check_failed", "check_passed"]


def test_enabling_an_unapproved_instance_without_a_reviewed_address_is_refused(
    app: Flask,
) -> None:
    operator = _person(app, "operator-1")
    instance = _new_instance(operator)
    _check(instance)
    with pytest.raises(lifecycle.LifecycleError) as refused:
        lifecycle.enable(db.session, instance, by=operator, now=NOW)
    assert refused.value.code == "unapproved" and not instance.enabled


def test_enabling_at_the_reviewed_address_approves_with_four_eyes(app: Flask) -> None:
    operator = _person(app, "operator-1", admin=True)
    instance = _new_instance(operator)
    _check(instance)
    with pytest.raises(lifecycle.LifecycleError) as own:
        lifecycle.enable(db.session, instance, by=operator, now=NOW, seen_url=URL)
    assert own.value.code == "four_eyes"
    other = _person(app, "admin-2", admin=True)
    lifecycle.enable(db.session, instance, by=other, now=NOW, seen_url=URL + "/")
    assert instance.enabled and instance.approved_by_id == other.id
    assert not lifecycle.needs_approval(instance)
    assert "approved" in _kinds(instance)


def test_an_untested_instance_is_not_approved(app: Flask) -> None:
    instance = _new_instance(_person(app, "operator-1"))
    admin = _person(app, "admin-2", admin=True)
    with pytest.raises(lifecycle.LifecycleError) as refused:
        lifecycle.enable(db.session, instance, by=admin, now=NOW, seen_url=URL)
    assert refused.value.code == "untested"


def test_an_approved_instance_is_disabled_and_enabled_again(app: Flask) -> None:
    instance = instance_by_key(db.session, "samara-fake")
    by = lifecycle.Actor(via="cli")
    lifecycle.set_enabled(db.session, instance, False, by=by, now=NOW)
    assert lifecycle.state(instance) == "disabled"
    lifecycle.enable(db.session, instance, by=by, now=NOW)
    assert lifecycle.state(instance) == "enabled"
    assert _kinds(instance) == ["disabled", "enabled"]


def test_enabling_refuses_when_the_instance_moved_from_the_reviewed_address(app: Flask) -> None:
    instance = instance_by_key(db.session, "samara-fake")
    by = lifecycle.Actor(via="cli")
    lifecycle.set_enabled(db.session, instance, False, by=by, now=NOW)
    with pytest.raises(lifecycle.LifecycleError) as refused:
        lifecycle.enable(db.session, instance, by=by, now=NOW, seen_url="http://elsewhere.test")
    assert refused.value.code == "changed" and not instance.enabled


def test_the_console_sees_what_a_connector_offers_and_nothing_from_a_broken_one(
    app: Flask,
) -> None:
    instance = instance_by_key(db.session, "samara-fake")
    offered = offers(instance, pool=services().pool)
    assert offered.issues_credentials and offered.checks_roster
    assert offered.sections == FakeConnector.sections
    assert offers(instance, pool=ConnectorPool({})) == NOTHING_OFFERED
