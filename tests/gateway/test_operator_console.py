"""The operators' console: the queue, review, approve and refuse, instances and their health."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from flask import Flask
from sqlalchemy import delete
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import AccessApplication
from gateway.models import ApplicationStatus
from gateway.models import AuditEvent
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import OutboxMessage
from gateway.models import SectionSnapshot
from gateway.services import health
from tests.gateway.conftest import approval_form
from tests.gateway.conftest import make_operator
from tests.gateway.conftest import make_person
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade
from tests.gateway.test_applications import FORM
from tests.gateway.test_applications import PAVEL

SOFIA = ("Новикова София Павловна", dt.date(2012, 10, 5))


@pytest.fixture
def pavel(operator_app: Flask) -> t.Any:
    """Павел, standard level, with a phone for notifications."""
    user = make_person(operator_app, "pavel", PAVEL, birthdate="1984-02-17", phone="+79000000005")
    return signed_in(operator_app, user)


@pytest.fixture
def maria(operator_app: Flask) -> t.Any:
    """Мария, the operator of region 63."""
    return signed_in(operator_app, make_operator(operator_app, "63"))


def _applied(app: Flask, pavel: t.Any, **changes: str) -> int:
    assert pavel.post("/children/applications/new", data={**FORM, **changes}).status_code == 303
    with app.app_context():
        # The newest by id: an unordered scan on PostgreSQL may return rows in any order.
        newest = select(AccessApplication.id).order_by(AccessApplication.id.desc()).limit(1)
        return int(db.session.scalars(newest).one())


def _application(app: Flask, app_id: int) -> AccessApplication:
    with app.app_context():
        found = db.session.get(AccessApplication, app_id)
        db.session.expunge(found)
        return found


def _audit_kinds(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


def test_the_queue_lists_the_region_by_due_date_and_marks_overdue_ones(
    operator_app: Flask, pavel: t.Any, maria: t.Any
) -> None:
    first = _applied(operator_app, pavel)
    second = _applied(operator_app, pavel, child_full_name="Новиков Илья Павлович")
    with operator_app.app_context():
        db.session.get(AccessApplication, second).due_on = dt.date(2020, 1, 1)
        db.session.commit()
    page = maria.get("/operator/applications").text
    assert page.index("Новиков Илья") < page.index("Новикова София")
    assert page.count("просрочена") == 1
    assert first != second


def test_reviewing_shows_masked_documents_the_roster_hint_and_logs_the_view(
    operator_app: Flask, pavel: t.Any, maria: t.Any, school: FakeSchool
) -> None:
    school.roster[SOFIA] = "s7"
    app_id = _applied(operator_app, pavel)

    page = maria.get(f"/operator/applications/{app_id}").text

    assert "IV-ЕР ****12" in page and "36** ****73" in page
    assert "703512" not in page and "918273" not in page
    assert "есть ученик с такими ФИО" in page
    assert _application(operator_app, app_id).status is ApplicationStatus.IN_REVIEW
    assert _audit_kinds(operator_app) == ["application_viewed"]
    assert "в рассмотрении" in pavel.get("/children/applications/").text or "на рассмотрении" in (
        pavel.get("/children/applications/").text
    )

    revealed = maria.post(f"/operator/applications/{app_id}/reveal").text
    assert "IV-ЕР 703512" in revealed and "3604 918273" in revealed
    assert _audit_kinds(operator_app) == ["application_viewed", "application_documents_revealed"]
    audit_page = pavel.get("/trusted/audit").text
    assert "Орлова Мария Андреевна" in audit_page and "номера документов" in audit_page


def test_the_roster_hint_says_when_there_is_no_such_student(
    operator_app: Flask, pavel: t.Any, maria: t.Any
) -> None:
    app_id = _applied(operator_app, pavel)
    assert "нет ученика с такими ФИО" in maria.get(f"/operator/applications/{app_id}").text


def test_approval_issues_a_login_links_the_child_and_tells_the_parent(
    operator_app: Flask, pavel: t.Any, maria: t.Any, school: FakeSchool
) -> None:
    school.roster[SOFIA] = "s7"
    app_id = _applied(operator_app, pavel)
    grade(school.grades.setdefault("s7", []), value="5", numeric=5.0, subject="Алгебра")

    reply = maria.post(f"/operator/applications/{app_id}/approve", data={})

    assert reply.status_code == 303
    decided = _application(operator_app, app_id)
    assert decided.status is ApplicationStatus.APPROVED and decided.child_link_id
    with operator_app.app_context():
        link = db.session.get(ChildLink, decided.child_link_id)
        assert link.full_name == SOFIA[0] and link.user.full_name == PAVEL
        sent = db.session.scalars(select(OutboxMessage)).all()
        assert [m.recipient for m in sent] == ["+79000000005"]
    notice = pavel.get("/children/applications/").text
    assert "Заявка одобрена: Новикова София Павловна" in notice
    assert "Заявка одобрена: Новикова" not in pavel.get("/children/applications/").text
    family = pavel.get("/").text
    assert "Новикова София Павловна" in family and "Алгебра" in family


def test_a_backend_that_cannot_issue_logins_needs_the_operators_entry(
    operator_app: Flask, pavel: t.Any, school: FakeSchool
) -> None:
    operator = signed_in(operator_app, make_operator(operator_app, "99", subject="op-99"))
    app_id = _applied(operator_app, pavel, instance="test-fake")
    page = operator.get(f"/operator/applications/{app_id}").text
    assert "введите логин и пароль, выданные школой" in page

    refused = operator.post(f"/operator/applications/{app_id}/approve", data={})
    assert refused.status_code == 303
    assert _application(operator_app, app_id).status is ApplicationStatus.IN_REVIEW

    entered = {"login": "parent", "password": "secret"}
    assert (
        operator.post(f"/operator/applications/{app_id}/approve", data=entered).status_code == 303
    )
    assert _application(operator_app, app_id).status is ApplicationStatus.APPROVED


def test_refusal_needs_a_reason_from_the_list_and_other_needs_a_text(
    operator_app: Flask, pavel: t.Any, maria: t.Any
) -> None:
    app_id = _applied(operator_app, pavel)
    maria.post(f"/operator/applications/{app_id}/refuse", data={"reason": "other", "text": " "})
    maria.post(f"/operator/applications/{app_id}/refuse", data={"reason": "made-up"})
    assert _application(operator_app, app_id).status is ApplicationStatus.SUBMITTED

    maria.post(
        f"/operator/applications/{app_id}/refuse", data={"reason": "other", "text": "Нет подписи"}
    )
    refused = _application(operator_app, app_id)
    assert refused.status is ApplicationStatus.REFUSED and refused.refusal_text == "Нет подписи"
    assert "Нет подписи" in pavel.get("/children/applications/").text


def test_an_operator_of_another_region_sees_nothing(operator_app: Flask, pavel: t.Any) -> None:
    app_id = _applied(operator_app, pavel)
    other = signed_in(operator_app, make_operator(operator_app, "99", subject="op-99"))
    assert other.get(f"/operator/applications/{app_id}").status_code == 404
    assert "Новикова" not in other.get("/operator/applications").text
    assert other.get("/operator/instances/samara-fake").status_code == 404
    assert _audit_kinds(operator_app) == []


def test_an_operator_registers_tests_and_disables_an_instance(
    operator_app: Flask, maria: t.Any, pavel: t.Any
) -> None:
    form = {
        "region_code": "63",
        "region_name": "Самарская область (резерв)",
        "connector": "fake",
        "key": "samara-spare",
        "base_url": "http://spare.invalid",
        "settings": '{"school_id": 1}',
        "partner_client_id": "gw",
    }
    assert (
        maria.post("/operator/instances/new", data={**form, "region_code": "99"}).status_code == 200
    )
    reply = maria.post("/operator/instances/new", data=form)
    assert reply.status_code == 303
    with operator_app.app_context():
        made = db.session.scalar(
            select(ConnectorInstance).where(ConnectorInstance.key == "samara-spare")
        )
        assert made.settings == {"school_id": 1, "partner_client_id": "gw"}
    page = maria.get("/operator/instances/samara-spare").text
    assert "вводит оператор" in page

    ok = maria.post(
        "/operator/instances/samara-spare/test", data={"login": "parent", "password": "secret"}
    )
    assert "учеников — 2" in maria.get(ok.headers["Location"]).text
    bad = maria.post(
        "/operator/instances/samara-spare/test", data={"login": "parent", "password": "x"}
    )
    assert "не приняла тестовый логин" in maria.get(bad.headers["Location"]).text
    _approved_by_an_admin(operator_app, "samara-spare")

    maria.post("/operator/instances/samara-spare/disable")
    warning = pavel.get("/children/link/samara-spare")
    assert warning.status_code == 503 and "отключена" in warning.text
    assert 'name="password"' not in warning.text
    maria.post("/operator/instances/samara-spare/enable")
    assert pavel.get("/children/link/samara-spare").status_code == 200


def _approved_by_an_admin(app: Flask, key: str) -> None:
    admin = signed_in(app, make_person(app, "admin-1", "Админов Админ Админович"))
    app.test_cli_runner().invoke(args=["roles", "grant-admin", "admin-1"])
    approved = admin.post(f"/operator/instances/{key}/approve", data=approval_form(admin, key))
    assert "одобрено и показано родителям" in admin.get(approved.headers["Location"]).text


def test_the_health_page_shows_a_fault_and_parents_are_warned(
    operator_app: Flask, maria: t.Any, school: FakeSchool
) -> None:
    parent = signed_in(operator_app, make_person(operator_app, "p", "Иванова Мария"))
    parent.post("/children/link/samara-fake", data={"login": "parent", "password": "secret"})
    assert parent.get("/").status_code == 200  # a healthy fetch
    healthy = maria.get("/operator/instances/samara-fake").text
    assert "0%" in healthy and "в среднем" in healthy
    assert "работает со сбоями" not in parent.get("/children/link/samara-fake").text

    school.down = True  # the injected fault: every fetch fails
    for _ in range(3):
        with operator_app.app_context():
            db.session.execute(delete(SectionSnapshot))
            db.session.commit()
        parent.get("/")
    with operator_app.app_context():
        instance = db.session.scalar(
            select(ConnectorInstance).where(ConnectorInstance.key == "samara-fake")
        )
        summary = health.summary(db.session, instance, frozenset(), now=dt.datetime.now(dt.UTC))
        assert summary.degraded and summary.linked_children == 2
        assert summary.last_success_at is not None
    page = maria.get("/operator/instances/samara-fake").text
    assert "работает со сбоями" in page and "Последняя успешная синхронизация" in page
    assert "Оценки" in page  # the sections it provides
    assert "работает со сбоями" in parent.get("/children/link/samara-fake").text


def test_the_console_does_not_exist_for_parents(operator_app: Flask, pavel: t.Any) -> None:
    for url in ("/operator/", "/operator/applications", "/operator/instances/samara-fake"):
        assert pavel.get(url).status_code == 404
    assert "Кабинет оператора" not in pavel.get("/children/applications/").text
