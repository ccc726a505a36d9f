"""The preferences page: every child and kind with its delivery, the quiet hours, the
digest time and the zone; saved as typed; a trusted person chooses only for what they see."""

from __future__ import annotations

import datetime as dt
import threading

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.schema import Section
from gateway.extensions import db
from gateway.models import NotificationPreference
from gateway.models import NotificationSettings
from gateway.models import User
from gateway.runtime import services
from gateway.services import trust
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.notification_pages import filled
from tests.gateway.notification_pages import selected
from tests.gateway.sync.helpers import link_children


def test_the_page_shows_the_defaults_for_each_child_and_kind(
    parent: FlaskClient, fake_app: Flask
) -> None:
    link_children(parent, fake_app)
    page = parent.get("/notifications/").text
    assert page.count("<legend>Child") == 2
    defaults = ["instant"] * 5 + ["digest", "digest", "instant"]
    assert selected(page) == defaults * 2
    assert 'value="21:00"' in page and 'value="08:00"' in page and 'value="19:00"' in page
    assert 'id="email" name="email" type="checkbox" value="y"' in page and "checked" in page


def test_settings_are_saved_as_typed_and_shown_again(parent: FlaskClient, fake_app: Flask) -> None:
    link_children(parent, fake_app)
    page = parent.get("/notifications/").text
    data = filled(
        page,
        quiet_from="22:30",
        quiet_until="07:15",
        digest_at="18:00",
        time_zone="Asia/Vladivostok",
        details="y",
        **{"deliveries-0": "off", "deliveries-9": "digest"},
    )
    data.pop("email")  # unchecked
    reply = parent.post("/notifications/", data=data)
    assert reply.status_code == 303
    again = parent.get("/notifications/").text
    assert "Настройки уведомлений сохранены." in again
    assert selected(again)[0] == "off" and selected(again)[9] == "digest"
    assert 'value="22:30"' in again and 'selected value="Asia/Vladivostok"' in again
    with fake_app.app_context():
        stored = db.session.scalars(select(NotificationSettings)).one()
        assert (stored.email, stored.details) == (False, True)
        assert stored.quiet_from == dt.time(22, 30) and stored.time_zone == "Asia/Vladivostok"
        assert db.session.query(NotificationPreference).count() == 16


def test_a_page_older_than_the_list_of_children_is_not_saved(
    parent: FlaskClient, fake_app: Flask
) -> None:
    first, _ = link_children(parent, fake_app)
    page = parent.get("/notifications/").text
    data = filled(page)
    del data["deliveries-15"]
    reply = parent.post("/notifications/", data=data, follow_redirects=True)
    assert "Список детей изменился" in reply.text
    with fake_app.app_context():
        assert db.session.scalars(select(NotificationSettings)).first() is None


def test_a_trusted_person_chooses_only_for_the_sections_they_see(
    parent: FlaskClient, fake_app: Flask, parent_id: int
) -> None:
    first, _ = link_children(parent, fake_app)
    granny_id = make_parent(fake_app, "granny", "Петрова Галина Ивановна", phone="+79000000003")
    now = dt.datetime.now(dt.UTC)
    with fake_app.app_context():
        invitation = trust.Invitation(
            name="Петрова Галина Ивановна",
            phone="+79000000003",
            email=None,
            scopes={first: {Section.ATTENDANCE, Section.SCHEDULE}},
            ends_on=None,
        )
        owner = db.session.get(User, parent_id)
        grant, _ = trust.invite(
            db.session, owner, invitation, now=now, accept_url="/{token}", vault=services().vault
        )
        trust.accept(
            db.session, grant, db.session.get(User, granny_id), now=now, delay=dt.timedelta()
        )
        db.session.commit()
    page = signed_in(fake_app, granny_id).get("/notifications/").text
    assert page.count("<legend>") == 3  # e-mail, time, and the one shared child
    assert selected(page) == ["instant", "instant"]
    assert "Пропуск" in page and "Изменение расписания" in page and "Новая оценка" not in page


def test_two_saves_at_once_both_succeed(
    parent: FlaskClient, fake_app: Flask, parent_id: int
) -> None:
    link_children(parent, fake_app)
    clients = [signed_in(fake_app, parent_id) for _ in range(2)]
    forms = [filled(client.get("/notifications/").text) for client in clients]
    replies: list[int] = []
    barrier = threading.Barrier(2)

    def save(client: FlaskClient, data: dict[str, str]) -> None:
        barrier.wait()
        replies.append(client.post("/notifications/", data=data).status_code)

    threads = [
        threading.Thread(target=save, args=pair) for pair in zip(clients, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert replies == [303, 303]
