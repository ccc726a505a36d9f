"""A gateway with CSRF on and one of everything a form needs, and a browser-like submitter."""

from __future__ import annotations

import datetime as dt
import html
import re
import typing as t
from dataclasses import dataclass
from dataclasses import field

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.schema import Section
from gateway.extensions import db
from gateway.models import AccessApplication
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import RoleKind
from gateway.models import User
from gateway.runtime import services
from gateway.services import applications
from gateway.services import roles
from gateway.services import trust
from tests.gateway.conftest import FAKE_CLASSES
from tests.gateway.conftest import make_operator
from tests.gateway.conftest import make_person
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeConnector

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
PAVEL = "Новиков Павел Олегович"


class FakeSchoolConnector(FakeConnector):
    """A fake backend that signs in per school, as NetSchool does."""

    name: t.ClassVar[str] = "fake_school"
    requires_school: t.ClassVar[bool] = True


INSTANCES = (
    ("test-fake", "99", "Тестовая область", "fake"),
    ("test-school", "97", "Школьная область", "fake_school"),
    ("samara-fake", "63", "Самарская область", "fake_operator"),
)
MOVED_TO = "http://93.184.216.34/netschool"


def token_of(page: str) -> str:
    """Return the CSRF token a rendered page carries."""
    found = TOKEN.search(page)
    assert found, "the page carries no CSRF token"
    return html.unescape(found.group(1) or found.group(2))


@dataclass
class World:
    """The app, a signed-in client per person, and the ids the forms' URLs need."""

    app: Flask
    clients: dict[str, FlaskClient] = field(default_factory=dict)
    ids: dict[str, t.Any] = field(default_factory=dict)

    def submit(self, who: str, page: str, action: str, data: dict[str, str]) -> t.Any:
        """Open the page as that person, take its token, and post the form as a browser."""
        client = self.clients[who]
        shown = client.get(page.format(**self.ids))
        assert shown.status_code == 200, (page, shown.status_code)
        form = {**data, "csrf_token": token_of(shown.text)}
        return client.post(action.format(**self.ids), data=form)


def build_world(make_app: t.Callable[..., Flask]) -> World:
    """Build the app and everything its forms act on."""
    app = make_app(CONNECTOR_CLASSES={**FAKE_CLASSES, "fake_school": FakeSchoolConnector})
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        for key, code, region, connector in INSTANCES:
            db.session.add(
                ConnectorInstance(
                    key=key,
                    region_code=code,
                    region_name=region,
                    connector=connector,
                    base_url="http://fake.invalid",
                    settings={},
                )
            )
        db.session.add(  # re-pointed and tested: it waits for an administrator
            ConnectorInstance(
                key="samara-moved",
                region_code="63",
                region_name="Самарская область (новый адрес)",
                connector="fake",
                base_url=MOVED_TO,
                settings={},
                enabled=False,
                checked_at=now,
            )
        )
        db.session.commit()
    parent = make_person(app, "pavel", PAVEL, birthdate="1984-02-17", phone="+79000000005")
    granny = make_person(app, "granny", "Смирнова Галина Ивановна", phone="+79000000003")
    operator = make_operator(app, "63")
    admin = make_person(app, "admin", "Админов Админ Админович")
    world = World(app, {n: signed_in(app, i) for n, i in _people(parent, granny, operator, admin)})
    world.ids["person"] = granny
    with app.app_context():
        roles.grant(db.session, "admin", RoleKind.ADMIN, now=now)
        db.session.commit()
    _link_two_children(world)
    with app.app_context():
        _seed_records(world, db.session.get(User, parent), now)
        db.session.commit()
    return world


def _people(*ids: int) -> list[tuple[str, int]]:
    return list(zip(("parent", "granny", "operator", "admin"), ids, strict=True))


def _link_two_children(world: World) -> None:
    linked = world.submit(
        "parent",
        "/children/link/test-fake",
        "/children/link/test-fake",
        {"login": "parent", "password": "secret", "name": "Child1"},
    )
    assert linked.status_code == 303, linked.text
    with world.app.app_context():
        links = db.session.scalars(select(ChildLink).order_by(ChildLink.position)).all()
        world.ids["anna"], world.ids["petr"] = (link.id for link in links)


def _application_input(instance_id: int, **changes: t.Any) -> applications.ApplicationInput:
    fields: dict[str, t.Any] = {
        "instance_id": instance_id,
        "child_full_name": "Новикова София Павловна",
        "child_birth_date": dt.date(2012, 10, 5),
        "certificate": "IV-ЕР 703512",
        "school": "МБОУ Лицей № 3 г. Самары",
        "class_name": "8 «А»",
        "applicant_full_name": PAVEL,
        "applicant_birth_date": dt.date(1984, 2, 17),
        "passport": "36 04 918273",
        "relation": "father",
        "display_name": "Соня",
    }
    return applications.ApplicationInput(**{**fields, **changes})


def _seed_records(world: World, parent: User, now: dt.datetime) -> None:
    """An open application, a refused one, and an invitation to the grandmother."""
    session, vault = db.session, services().vault
    samara = session.scalar(select(ConnectorInstance).where(ConnectorInstance.key == "samara-fake"))
    operator = session.scalar(select(User).where(User.subject == "operator-63"))
    assert samara is not None and operator is not None
    waiting = applications.submit(
        session, parent, _application_input(samara.id), vault=vault, now=now
    )
    refused = applications.submit(
        session, parent, _application_input(samara.id, class_name="9 «Б»"), vault=vault, now=now
    )
    applications.refuse(session, refused, operator, reason="no_such_student", text=None, now=now)
    invitation = trust.Invitation(
        name="Смирнова Галина Ивановна",
        phone="+79000000003",
        email=None,
        scopes={world.ids["anna"]: {Section.SCHEDULE}},
        ends_on=None,
    )
    grant, token = trust.invite(
        session,
        parent,
        invitation,
        now=now,
        accept_url="http://localhost/{token}",
        vault=vault,
    )
    world.ids.update(waiting=waiting.id, refused=refused.id, grant=grant.id, token=token)


def stored_applications(app: Flask) -> int:
    """Count the stored applications."""
    with app.app_context():
        return len(db.session.scalars(select(AccessApplication)).all())
