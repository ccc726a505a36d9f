"""Trusted persons: invited, accepted only by the named person, scoped, revocable, audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import AuditEvent
from gateway.models import ChildLink
from gateway.models import Grant
from gateway.models import OutboxMessage
from gateway.models import PersonalDataConsent
from gateway.services import trust
from regional_mock.world import demo_today
from tests.gateway.conftest import invitation_token_sent
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade

GRANNY = "Смирнова Галина Ивановна"
GRANNY_PHONE = "+79000000003"


@pytest.fixture
def linked(parent: FlaskClient, fake_app: Flask, school: FakeSchool) -> tuple[int, int]:
    """Link the parent's two children; return their ids (Анна, Пётр)."""
    grade(school.grades["s1"], comment="оценка Анны")
    grade(school.grades["s2"], comment="оценка Петра")
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with fake_app.app_context():
        anna, petr = db.session.scalars(select(ChildLink.id).order_by(ChildLink.position))
    return anna, petr


def _invite(parent: FlaskClient, child: int, *sections: str, **fields: str) -> str:
    data = {"name": GRANNY, "phone": "8 (900) 000-00-03", **fields}
    reply = parent.post("/trusted/invite", data={**data, f"scope-{child}": list(sections)})
    assert reply.status_code == 303, reply.text
    return invitation_token_sent()


@pytest.fixture
def granny(fake_app: Flask) -> FlaskClient:
    """The grandmother, signed in with the name and phone of the invitation."""
    return signed_in(fake_app, make_parent(fake_app, "granny", GRANNY, phone=GRANNY_PHONE))


def _kinds(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


def test_an_accepted_invitation_shows_only_the_granted_child_and_sections(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, petr = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule", "homework")
    page = granny.get(f"/trusted/accept/{token}")
    assert "Иванова Мария открывает вам дневник" in page.text
    assert granny.post(f"/trusted/accept/{token}", data={"decision": "accept"}).status_code == 303
    family = granny.get("/").text
    assert "Доступ от Иванова Мария" in family and "Child1" in family and "Child2" not in family
    assert "оценка Анны" not in family
    assert granny.get(f"/child/{anna}").status_code == 200  # opens on the first granted section
    assert granny.get(f"/child/{anna}?section=homework").status_code == 200
    assert granny.get(f"/child/{anna}?section=grades").status_code == 404
    assert granny.get(f"/child/{petr}").status_code == 404
    assert granny.get(f"/trusted/accept/{token}").status_code == 404  # single use
    assert _kinds(fake_app)[:2] == ["invited", "accepted"] and "viewed" in _kinds(fake_app)
    log = parent.get("/trusted/audit").text
    assert "просмотр" in log and GRANNY in log


def test_someone_else_cannot_accept_and_the_parent_is_told(
    parent: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    impostor = signed_in(fake_app, make_parent(fake_app, "x", "Петрова Галина", phone=GRANNY_PHONE))
    refused = impostor.post(
        f"/trusted/accept/{token}", data={"decision": "accept"}, follow_redirects=True
    )
    assert "ФИО в вашей учётной записи не совпадает" in refused.text
    assert impostor.get(f"/child/{anna}").status_code == 404
    assert "refused" in _kinds(fake_app)
    assert "пытались принять с другими данными" in parent.get("/trusted/").text
    wrong_phone = signed_in(fake_app, make_parent(fake_app, "y", GRANNY, phone="+79000000999"))
    again = wrong_phone.post(
        f"/trusted/accept/{token}", data={"decision": "accept"}, follow_redirects=True
    )
    assert "Телефон и почта" in again.text


def test_the_parent_gets_one_sms_however_often_someone_tries_the_link(
    fake_app: Flask, school: FakeSchool
) -> None:
    parent = signed_in(fake_app, make_parent(fake_app, "p", "Иванова Мария", phone="+79000000001"))
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with fake_app.app_context():
        anna = db.session.scalars(select(ChildLink.id).order_by(ChildLink.position)).first()
        token = _invite(parent, anna, "schedule")  # type: ignore[arg-type]
    impostor = signed_in(fake_app, make_parent(fake_app, "x", "Петрова Галина", phone=GRANNY_PHONE))
    for _attempt in range(4):
        impostor.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    with fake_app.app_context():
        told = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "+79000000001")
        ).all()
    assert _kinds(fake_app).count("refused") == 4  # every attempt is in the access log
    assert len(told) == 1 and "не принято" in told[0].body


def test_revoking_closes_access_at_once_and_tells_the_trusted_person(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "grades")
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    assert granny.get(f"/child/{anna}?section=grades").status_code == 200
    with fake_app.app_context():
        grant_id = db.session.scalar(select(Grant.id))
    parent.post(f"/trusted/{grant_id}/revoke")
    closed = granny.get(f"/child/{anna}?section=grades")
    assert closed.status_code == 410 and "Доступ отозван" in closed.text
    assert "оценка Анны" not in closed.text
    assert "Child1" not in granny.get("/").text
    assert "Доступ отозван" in granny.get("/trusted/").text
    with fake_app.app_context():
        told = db.session.scalars(select(OutboxMessage.subject)).all()
    assert "Доступ закрыт" in told
    assert "отозвано" in parent.get("/trusted/").text
    stranger = signed_in(fake_app, make_parent(fake_app, "z", "Петрова Галина"))
    assert stranger.get(f"/child/{anna}").status_code == 404  # only the grantee is told


def test_access_opens_after_the_configured_delay_and_both_see_when(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    fake_app.config["TRUST_ACCESS_DELAY_SECONDS"] = 3600
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    accepted = granny.post(
        f"/trusted/accept/{token}", data={"decision": "accept"}, follow_redirects=True
    )
    assert "Приглашение принято. Доступ откроется" in accepted.text
    not_yet = granny.get(f"/child/{anna}")
    assert not_yet.status_code == 403 and "Доступ откроется" in not_yet.text
    assert "Доступ откроется" in granny.get("/trusted/").text
    assert "Доступ откроется" in parent.get("/trusted/").text
    with fake_app.app_context():
        grant = db.session.scalar(select(Grant))
        grant.active_from = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.session.commit()
    assert granny.get(f"/child/{anna}").status_code == 200


@pytest.mark.parametrize("what", ["invitation", "end_date"])
def test_an_expired_invitation_or_grant_gives_nothing(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int], what: str
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    if what == "end_date":
        granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    with fake_app.app_context():
        grant = db.session.scalar(select(Grant))
        grant.invitation_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        grant.ends_on = demo_today() - dt.timedelta(days=1) if what == "end_date" else None
        db.session.commit()
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    closed = granny.get(f"/child/{anna}")
    if what == "end_date":
        assert closed.status_code == 410 and "Срок доступа истёк" in closed.text
    else:
        assert closed.status_code == 404  # never accepted: nothing was ever shared
    assert "истекло" in parent.get("/trusted/").text


@pytest.mark.parametrize(
    ("ending", "said"),
    [
        ("revoked", "Доступ отозван"),
        ("expired", "Доступ, который открыл(а) Иванова Мария, действовал до"),
    ],
)
def test_the_family_page_of_a_trusted_person_says_whose_access_ended_and_why(
    parent: FlaskClient,
    granny: FlaskClient,
    fake_app: Flask,
    linked: tuple[int, int],
    ending: str,
    said: str,
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    assert "Child1" in granny.get("/").text
    with fake_app.app_context():
        grant = db.session.scalar(select(Grant))
        assert grant is not None
        if ending == "revoked":
            grant_id = grant.id
        else:
            grant.ends_on = demo_today() - dt.timedelta(days=1)
            db.session.commit()
    if ending == "revoked":
        parent.post(f"/trusted/{grant_id}/revoke")
    page = granny.get("/")
    assert page.status_code == 200
    assert "<title>Доступ к дневнику закрыт" in page.text
    assert said in page.text and "Иванова Мария" in page.text
    assert "попросите прислать новое приглашение" in page.text
    assert "Child1" not in page.text and "Пока не привязан ни один ребёнок" not in page.text


def test_a_person_whose_access_never_ended_gets_the_usual_empty_family(
    parent: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    owner = signed_in(fake_app, make_parent(fake_app, "granny", GRANNY, phone=GRANNY_PHONE))
    assert "<title>Мои дети" in owner.get("/").text  # nothing ended: the usual empty family


def test_an_expired_invitation_link_shows_its_holder_nothing(
    parent: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
        grant = db.session.scalars(select(Grant)).one()
        grant.invitation_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        db.session.commit()
    stranger = signed_in(fake_app, make_parent(fake_app, "x", "Посторонний Пётр", phone="+79001"))
    for holder in (fake_app.test_client(), stranger):
        page = holder.get(f"/trusted/accept/{token}")
        assert page.status_code == 404 and "Приглашение недействительно" in page.text
        for shown in (GRANNY, "Иванова", "Расписание", "Анна"):
            assert shown not in page.text


def test_the_invitee_can_decline(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    granny.post(f"/trusted/accept/{token}", data={"decision": "decline"})
    assert "отклонено" in parent.get("/trusted/").text
    assert granny.get(f"/child/{anna}").status_code == 404


@pytest.mark.parametrize(
    ("name", "phone"),
    [
        ("Посторонний Пётр Петрович", "+79000000099"),  # neither the name nor the phone
        (GRANNY, "+79000000099"),  # the invitee's name, another phone
    ],
)
def test_only_the_person_the_invitation_reached_can_decline_it(
    parent: FlaskClient, fake_app: Flask, linked: tuple[int, int], name: str, phone: str
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    holder = signed_in(fake_app, make_parent(fake_app, "stranger", name, phone=phone))
    holder.post(f"/trusted/accept/{token}", data={"decision": "decline"})
    page = parent.get("/trusted/").text
    assert "отклонено" not in page and "ждёт ответа" in page
    with fake_app.app_context():
        grant = db.session.scalars(select(Grant)).one()
        assert grant.declined_at is None and grant.token_hash is not None


def test_an_invitee_whose_name_was_misspelt_can_still_decline(
    parent: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule", name="Смирнова Галина")
    granny = signed_in(fake_app, make_parent(fake_app, "granny", GRANNY, phone=GRANNY_PHONE))
    granny.post(f"/trusted/accept/{token}", data={"decision": "decline"})
    assert "отклонено" in parent.get("/trusted/").text


@pytest.mark.parametrize(
    ("fields", "problem"),
    [({"phone": "", "email": ""}, "Укажите телефон"), ({"name": " "}, "Укажите ФИО")],
)
def test_a_bad_invitation_is_explained_and_stores_nothing(
    parent: FlaskClient,
    fake_app: Flask,
    linked: tuple[int, int],
    fields: dict[str, str],
    problem: str,
) -> None:
    anna, _ = linked
    data = {"name": GRANNY, "phone": GRANNY_PHONE, f"scope-{anna}": "schedule", **fields}
    reply = parent.post("/trusted/invite", data=data)
    assert problem in reply.text
    no_scope = parent.post("/trusted/invite", data={"name": GRANNY, "phone": GRANNY_PHONE})
    assert "Отметьте хотя бы один раздел" in no_scope.text
    with fake_app.app_context():
        assert db.session.scalars(select(Grant)).all() == []


def test_a_trusted_person_cannot_manage_the_child(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule", "grades")
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    assert granny.post(f"/children/{anna}/rename", data={"name": "x"}).status_code == 404
    assert granny.post(f"/children/{anna}/unlink").status_code == 404
    assert granny.get(f"/child/{anna}/grades.csv").status_code == 404
    assert granny.get(f"/child/{anna}/calendar").status_code == 404
    invite_page = granny.get("/trusted/invite").text
    assert f"scope-{anna}" not in invite_page  # nobody else's children to share


def test_an_invitee_who_is_not_signed_in_is_asked_to_sign_in_or_register(
    parent: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    page = fake_app.test_client().get(f"/trusted/accept/{token}")
    assert page.status_code == 200
    assert "/register/" in page.text and f"next=/trusted/accept/{token}" in page.text


def test_removing_a_trusted_person_closes_and_forgets_their_access(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    with fake_app.app_context():
        grantee = db.session.scalar(select(Grant.grantee_id))
    assert parent.post(f"/trusted/person/{grantee}/remove").status_code == 303
    assert granny.get(f"/child/{anna}").status_code == 404
    with fake_app.app_context():
        assert db.session.scalars(select(Grant)).all() == []
    assert "удалено" in parent.get("/trusted/audit").text


@pytest.mark.parametrize(
    ("fields", "said", "unsaid", "channels"),
    [
        ({}, "по СМС на +79000000003.", "почт", {"sms"}),
        (
            {"phone": "", "email": "Gran@Example.org"},
            "на почту gran@example.org.",
            "СМС",
            {"email"},
        ),
        (
            {"email": "gran@example.org"},
            "по СМС на +79000000003 и на почту gran@example.org.",
            None,
            {"sms", "email"},
        ),
    ],
)
def test_the_invitation_flash_names_exactly_the_channels_used(
    parent: FlaskClient,
    fake_app: Flask,
    linked: tuple[int, int],
    fields: dict[str, str],
    said: str,
    unsaid: str | None,
    channels: set[str],
) -> None:
    anna, _ = linked
    data = {"name": GRANNY, "phone": "8 (900) 000-00-03", f"scope-{anna}": "schedule", **fields}
    reply = parent.post("/trusted/invite", data=data, follow_redirects=True)
    [flash] = re.findall(r'class="flash flash-success"[^>]*>(Приглашение[^<]*)<', reply.text)
    assert said in flash and "Ссылка действует 7 дней" in flash
    assert unsaid is None or unsaid not in flash
    with fake_app.app_context():
        assert set(db.session.scalars(select(OutboxMessage.channel))) == channels


def test_the_link_shows_who_invites_to_which_child_and_sections_before_sign_in(
    parent: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    ends = (demo_today() + dt.timedelta(days=30)).isoformat()
    with fake_app.app_context():
        token = _invite(parent, anna, "homework", "schedule", ends_on=ends)
    page = fake_app.test_client().get(f"/trusted/accept/{token}").text
    assert "Иванова Мария открывает вам дневник" in page
    assert "Анна (Child1): Расписание, Домашние задания" in page
    assert "Доступ до " in page and "Принять приглашение можно до " in page
    # The link is a bearer secret: a child's first name and the sections, no diary data.
    assert "Иванова Анна" not in page and "оценка Анны" not in page and "Child2" not in page


def test_accepting_lands_on_the_shared_diary(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    _, petr = linked
    with fake_app.app_context():
        token = _invite(parent, petr, "homework")
    reply = granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    assert reply.status_code == 303 and reply.headers["Location"] == f"/child/{petr}"
    landed = granny.get(reply.headers["Location"])
    assert landed.status_code == 200 and "Приглашение принято. Доступ открыт." in landed.text


def _unconsented(app: Flask, subject: str, name: str, phone: str) -> FlaskClient:
    person = make_parent(app, subject, name, phone=phone)
    with app.app_context():
        db.session.execute(delete(PersonalDataConsent).where(PersonalDataConsent.user_id == person))
        db.session.commit()
    return signed_in(app, person)


def test_the_consent_of_an_invited_person_speaks_of_the_parents_access(
    parent: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        _invite(parent, anna, "schedule")
    invited = _unconsented(fake_app, "granny", GRANNY, GRANNY_PHONE).get("/consent").text
    assert "Иванова Мария открывает вам доступ к разделам дневника своего ребёнка" in invited
    assert "логины и пароли от школьных систем" not in invited
    newcomer = _unconsented(fake_app, "new", "Петров Пётр", "+79000000777").get("/consent").text
    assert "Чтобы показывать дневники ваших детей" in newcomer
    assert "открывает вам доступ" not in newcomer


def test_revoking_asks_for_confirmation_first(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    with fake_app.app_context():
        grant_id = db.session.scalar(select(Grant.id))
    listing = parent.get("/trusted/").text
    assert f'href="/trusted/{grant_id}/revoke"' in listing
    assert f'action="/trusted/{grant_id}/revoke"' not in listing  # no one-click revoke
    question = parent.get(f"/trusted/{grant_id}/revoke")
    assert question.status_code == 200 and "Закрыть доступ?" in question.text
    assert f"{GRANNY} сразу перестанет видеть" in question.text
    assert f'action="/trusted/{grant_id}/revoke"' in question.text and "Отмена" in question.text
    assert granny.get(f"/child/{anna}").status_code == 200  # asking changed nothing
    assert parent.post(f"/trusted/{grant_id}/revoke").status_code == 303
    assert granny.get(f"/child/{anna}").status_code == 410


def test_removing_asks_for_confirmation_first(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    with fake_app.app_context():
        grantee = db.session.scalar(select(Grant.grantee_id))
    assert f'href="/trusted/person/{grantee}/remove"' in parent.get("/trusted/").text
    question = parent.get(f"/trusted/person/{grantee}/remove")
    assert question.status_code == 200 and "Удалить доверенное лицо?" in question.text
    assert f'action="/trusted/person/{grantee}/remove"' in question.text
    with fake_app.app_context():
        assert db.session.scalars(select(Grant)).all() != []
    assert parent.get("/trusted/person/999/remove").status_code == 404
    stranger = signed_in(fake_app, make_parent(fake_app, "z", "Петрова Галина"))
    assert stranger.get(f"/trusted/person/{grantee}/remove").status_code == 404


@pytest.mark.parametrize(
    ("moment", "state"),
    [
        (dt.datetime(2026, 12, 3, 20, 59, tzinfo=dt.UTC), trust.Status.ACTIVE),  # 23:59 Moscow
        (dt.datetime(2026, 12, 3, 21, 0, tzinfo=dt.UTC), trust.Status.EXPIRED),  # 00:00 next day
    ],
)
def test_access_until_a_day_ends_at_midnight_in_moscow_not_in_utc(
    moment: dt.datetime, state: trust.Status
) -> None:
    grant = Grant(
        accepted_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        invitation_expires_at=dt.datetime(2026, 12, 8, tzinfo=dt.UTC),
        ends_on=dt.date(2026, 12, 3),
    )
    assert trust.status_of(grant, moment) is state
