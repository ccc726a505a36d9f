"""The parent's side of access applications, and the application service's rules."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from flask import Flask
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import AccessApplication
from gateway.models import ApplicationStatus
from gateway.models import User
from gateway.runtime import services
from gateway.services import applications
from gateway.services import documents
from tests.gateway.conftest import make_operator
from tests.gateway.conftest import make_person
from tests.gateway.conftest import signed_in

PAVEL = "Новиков Павел Олегович"
FORM = {
    "instance": "samara-fake",
    "child_full_name": "Новикова София Павловна",
    "child_birth_date": "2012-10-05",
    "certificate": "iv-ер 703512",
    "school": "МБОУ Лицей № 3 г. Самары",
    "class_name": "8 «А»",
    "applicant_full_name": "новиков  павел олегович",
    "applicant_birth_date": "1984-02-17",
    "passport": "36 04 918273",
    "relation": "father",
    "consent": "y",
}


@pytest.fixture
def pavel(operator_app: Flask) -> t.Any:
    """Павел, standard level, born 1984-02-17."""
    return signed_in(
        operator_app, make_person(operator_app, "pavel", PAVEL, birthdate="1984-02-17")
    )


def _only(app: Flask) -> AccessApplication:
    with app.app_context():
        found = db.session.scalars(select(AccessApplication)).all()
        assert len(found) == 1
        db.session.expunge(found[0])
        return found[0]


@pytest.mark.parametrize(
    ("raw", "canonical", "masked"),
    [
        ("IV-ЕР 123456", "IV-ЕР 123456", "IV-ЕР ****56"),
        ("iv-ер№123456", "IV-ЕР 123456", "IV-ЕР ****56"),
        ("ХII-МЮ 654321", "XII-МЮ 654321", "XII-МЮ ****21"),
    ],
)
def test_birth_certificates_are_validated_canonical_and_masked(
    raw: str, canonical: str, masked: str
) -> None:
    assert documents.certificate(raw) == canonical
    assert documents.mask_certificate(canonical) == masked


@pytest.mark.parametrize("raw", ["IV 123456", "IV-ER 123456", "IV-ЕР 12345", "123456", "IVЕР"])
def test_malformed_birth_certificates_are_refused(raw: str) -> None:
    with pytest.raises(documents.InvalidDocument):
        documents.certificate(raw)


def test_passports_are_validated_and_masked() -> None:
    assert documents.passport("36 04 123456") == "3604 123456"
    assert documents.mask_passport("3604 123456") == "36** ****56"
    with pytest.raises(documents.InvalidDocument):
        documents.passport("36 04 12345")


@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        (dt.date(2026, 11, 23), dt.date(2026, 11, 26)),  # Monday -> Thursday
        (dt.date(2026, 11, 26), dt.date(2026, 12, 1)),  # Thursday -> Tuesday
        (dt.date(2026, 11, 27), dt.date(2026, 12, 2)),  # Friday -> Wednesday
        (dt.date(2026, 11, 28), dt.date(2026, 12, 2)),  # Saturday -> Wednesday
    ],
)
def test_the_due_date_is_three_working_days_later(submitted: dt.date, due: dt.date) -> None:
    assert applications.working_days_after(submitted) == due


def test_a_parent_applies_and_sees_the_status_and_due_date(
    operator_app: Flask, pavel: t.Any
) -> None:
    reply = pavel.post("/children/applications/new", data=FORM)

    assert reply.status_code == 303
    stored = _only(operator_app)
    assert stored.status is ApplicationStatus.SUBMITTED
    assert stored.certificate_masked == "IV-ЕР ****12"
    assert stored.passport_masked == "36** ****73"
    assert b"703512" not in stored.documents  # sealed by the vault
    assert stored.due_on == applications.working_days_after(stored.submitted_at.date())
    page = pavel.get("/children/applications/").text
    assert "ждёт рассмотрения" in page and "срок рассмотрения" in page
    assert "703512" not in page


def test_an_application_by_someone_else_is_refused_at_once(
    operator_app: Flask, pavel: t.Any
) -> None:
    for changed in (
        {"applicant_full_name": "Новиков Пётр Олегович"},
        {"applicant_birth_date": "1984-02-18"},
    ):
        reply = pavel.post("/children/applications/new", data={**FORM, **changed})
        assert reply.status_code == 200
        assert "подана другим лицом" in reply.text
    with operator_app.app_context():
        assert db.session.scalar(select(AccessApplication)) is None


def test_a_person_without_a_verified_birth_date_cannot_apply(operator_app: Flask) -> None:
    client = signed_in(operator_app, make_person(operator_app, "nobirth", PAVEL))
    assert "подана другим лицом" in client.post("/children/applications/new", data=FORM).text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("certificate", "IV 123456", "IV-ЕР 123456"),
        ("passport", "3604", "36 04 123456"),
        ("certificate", "", "Укажите серию и номер"),
        ("consent", "", "Без согласия"),
    ],
)
def test_the_form_explains_what_is_wrong(
    operator_app: Flask, pavel: t.Any, field: str, value: str, message: str
) -> None:
    reply = pavel.post("/children/applications/new", data={**FORM, field: value})
    assert reply.status_code == 200 and message in reply.text


def test_a_simplified_account_is_sent_to_raise_its_level(operator_app: Flask) -> None:
    simple = make_person(operator_app, "simple", PAVEL, level="simplified")
    reply = signed_in(operator_app, simple).get("/children/applications/new")
    assert reply.status_code == 403
    assert "/auth/refresh-profile" in reply.text


def test_a_refused_application_is_corrected_without_retyping_the_documents(
    operator_app: Flask, pavel: t.Any
) -> None:
    pavel.post("/children/applications/new", data={**FORM, "child_birth_date": "2012-10-06"})
    app_id = _only(operator_app).id
    operator = signed_in(operator_app, make_operator(operator_app, "63"))
    operator.post(f"/operator/applications/{app_id}/refuse", data={"reason": "birth_date_mismatch"})
    page = pavel.get("/children/applications/").text
    assert "отклонена" in page and "Дата рождения не совпадает" in page
    form = pavel.get(f"/children/applications/{app_id}/edit").text
    assert "Новикова София Павловна" in form and "IV-ЕР ****12" in form
    assert 'selected value="samara-fake"' in form
    assert "703512" not in form

    kept = {**FORM, "certificate": "", "passport": "", "child_birth_date": "2012-10-05"}
    assert pavel.post(f"/children/applications/{app_id}/edit", data=kept).status_code == 303

    again = _only(operator_app)
    assert again.status is ApplicationStatus.SUBMITTED and again.attempts == 2
    assert again.child_birth_date == dt.date(2012, 10, 5)
    assert again.certificate_masked == "IV-ЕР ****12"
    assert pavel.get(f"/children/applications/{app_id}/edit").status_code == 404


def test_another_parent_cannot_see_or_edit_an_application(
    operator_app: Flask, pavel: t.Any
) -> None:
    pavel.post("/children/applications/new", data=FORM)
    app_id = _only(operator_app).id
    other = signed_in(operator_app, make_person(operator_app, "other", "Иванова Мария"))
    assert other.get(f"/children/applications/{app_id}/edit").status_code == 404
    assert "Новикова" not in other.get("/children/applications/").text


def test_document_numbers_are_erased_after_the_retention_period(
    operator_app: Flask, pavel: t.Any
) -> None:
    pavel.post("/children/applications/new", data=FORM)
    operator_id = make_operator(operator_app, "63")
    decided = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
    with operator_app.app_context():
        found = db.session.scalars(select(AccessApplication)).one()
        operator = db.session.get(User, operator_id)
        applications.refuse(db.session, found, operator, reason="other", text="x", now=decided)
        retention = dt.timedelta(days=30)
        early = decided + dt.timedelta(days=29)
        assert applications.purge(db.session, now=early, retention=retention) == 0
        late = decided + dt.timedelta(days=31)
        assert applications.purge(db.session, now=late, retention=retention) == 1
        assert found.documents is None and found.certificate_masked is None
        assert found.documents_erased_at == late
        db.session.commit()
    # After erasure, a correction must bring the documents again.
    app_id = _only(operator_app).id
    kept = {**FORM, "certificate": "", "passport": ""}
    reply = pavel.post(f"/children/applications/{app_id}/edit", data=kept)
    assert reply.status_code == 200 and "Укажите серию и номер" in reply.text


def test_the_purge_command_uses_the_configured_retention(
    operator_app: Flask, pavel: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pavel.post("/children/applications/new", data=FORM)
    operator_id = make_operator(operator_app, "63")
    now = dt.datetime.now(dt.UTC)
    with operator_app.app_context():
        found = db.session.scalars(select(AccessApplication)).one()
        operator = db.session.get(User, operator_id)
        applications.refuse(db.session, found, operator, reason="other", text="x", now=now)
        db.session.commit()
        later = now + dt.timedelta(days=operator_app.config["APPLICATION_RETENTION_DAYS"] + 1)
        monkeypatch.setattr(type(services()), "now", staticmethod(lambda: later))
    runner = operator_app.test_cli_runner()
    assert "of 1 application" in runner.invoke(args=["applications", "purge"]).output
    assert _only(operator_app).documents is None


def test_every_problem_of_the_application_is_reported_in_one_round(
    operator_app: Flask, pavel: t.Any
) -> None:
    wrong = {
        **FORM,
        "child_full_name": "",
        "certificate": "",
        "passport": "",
        "applicant_full_name": "Новиков Пётр Олегович",
        "consent": "",
    }
    page = pavel.post("/children/applications/new", data=wrong).text
    assert "Укажите ФИО ребёнка." in page
    assert page.count("Укажите серию и номер.") == 2
    assert "подана другим лицом" in page
    assert "Без согласия заявку не передать." in page
    assert "МБОУ Лицей № 3 г. Самары" in page and "8 «А»" in page  # the rest is kept
    with operator_app.app_context():
        assert db.session.scalar(select(AccessApplication)) is None
