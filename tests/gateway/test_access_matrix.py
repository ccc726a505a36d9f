"""The access matrix: every route that touches a child x every kind of visitor.

Routes come from the application's URL map, so a new route that takes a child cannot be
forgotten: it is tested as the parent's alone until its expectation is written down here.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from flask import Flask
from flask import url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.schema import Section
from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import Grant
from gateway.models import RoleKind
from gateway.models import User
from gateway.runtime import services
from gateway.services import roles
from gateway.services import trust
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade

SECRET = "секретный комментарий Анны"
GRANNY = "Смирнова Галина Ивановна"
# The parent goes last: some of their requests (unlink) change what the others would see.
ROLES = [
    "anonymous",
    "another_parent",
    "invitee_before_acceptance",
    "accepted_not_active",
    "active_in_scope",
    "active_out_of_scope",
    "revoked",
    "expired",
    "operator",
    "owner",
]
# Who each child route lets in; a route not listed here is the parent's alone.
ALLOWED: dict[str, set[str]] = {
    "diary.child:GET[granted section]": {"owner", "active_in_scope", "active_out_of_scope"},
    "diary.child:GET[other section]": {"owner"},
    # «Обновить сейчас» of a trusted person refetches only their sections (test_refresh.py).
    "diary.refresh:POST": {"owner", "active_in_scope", "active_out_of_scope"},
}
OTHER_ARGUMENTS = {"direction": "down"}


@dataclass(frozen=True)
class Request:
    """One request against a child route."""

    name: str
    method: str
    url: str


def child_requests(app: Flask, child_id: int) -> list[Request]:
    """Build a request for every URL-map rule that takes a child id, once per method."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "child_id" not in rule.arguments:
                continue
            args = {k: v for k, v in OTHER_ARGUMENTS.items() if k in rule.arguments}
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                name = f"{rule.endpoint}:{method}"
                if rule.endpoint == "diary.child":
                    for label, section in (
                        ("granted section", "schedule"),
                        ("other section", "grades"),
                    ):
                        url = url_for(rule.endpoint, child_id=child_id, section=section)
                        found.append(Request(f"{name}[{label}]", method, url))
                else:
                    found.append(
                        Request(name, method, url_for(rule.endpoint, child_id=child_id, **args))
                    )
    return sorted(found, key=lambda r: r.name == "children.unlink:POST")


def _shape(grant: Grant, role: str, person_id: int, now: dt.datetime) -> None:
    """Put a grant in the state a role stands for."""
    if role == "invitee_before_acceptance":
        return
    grant.grantee_id, grant.accepted_at, grant.active_from = person_id, now, now
    if role == "accepted_not_active":
        grant.active_from = now + dt.timedelta(hours=1)
    elif role == "revoked":
        grant.revoked_at = now
    elif role == "expired":
        grant.ends_on = (now - dt.timedelta(days=1)).date()
    elif role == "active_out_of_scope":
        grant.scopes[0].sections = [Section.HOMEWORK.value, Section.SCHEDULE.value]


def _visitors(app: Flask, parent: FlaskClient, anna_id: int) -> dict[str, FlaskClient]:
    """Make a person, and where it applies a grant, for every role."""
    clients = {"anonymous": app.test_client(), "owner": parent}
    people: dict[str, tuple[int, str]] = {}
    for number, role in enumerate(ROLES[1:-1], start=1):
        phone = f"+7900100{number:04d}"
        people[role] = (make_parent(app, f"visitor-{number}", GRANNY, phone=phone), phone)
        clients[role] = signed_in(app, people[role][0])
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        anna = db.session.get(ChildLink, anna_id)
        owner = db.session.get(User, anna.user_id)
        for role, (person, phone) in people.items():
            if role == "operator":  # operates the child's own region and Samara: no diary
                for region in ("99", "63"):
                    roles.grant(
                        db.session,
                        f"visitor-{ROLES.index(role)}",
                        RoleKind.OPERATOR,
                        region_code=region,
                        now=now,
                    )
                continue
            if role == "another_parent":
                continue
            invitation = trust.Invitation(
                name=GRANNY,
                phone=phone,
                email=None,
                scopes={anna_id: [Section.SCHEDULE]},
                ends_on=None,
            )
            grant, _ = trust.invite(
                db.session,
                owner,
                invitation,
                now=now,
                accept_url="/{token}",
                vault=services().vault,
            )
            _shape(grant, role, person, now)
        db.session.commit()
    return clients


def _anna(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(ChildLink.id).order_by(ChildLink.position)))


def _allowed(reply: t.Any) -> bool:
    login = reply.status_code in (301, 302, 303) and "/login" in reply.headers.get("Location", "")
    return reply.status_code < 400 and not login


def test_every_child_route_lets_in_exactly_who_it_should(
    fake_app: Flask, parent: FlaskClient, school: FakeSchool
) -> None:
    grade(school.grades["s1"], comment=SECRET)
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    anna_id = _anna(fake_app)
    clients = _visitors(fake_app, parent, anna_id)
    requests = child_requests(fake_app, anna_id)
    assert {r.name.split(":")[0] for r in requests} >= {
        "diary.child",
        "children.rename",
        "children.unlink",
        "exports.grades_csv",
        "exports.calendar",
    }
    wrong = []
    for request in requests:
        for role in ROLES:
            reply = clients[role].open(request.url, method=request.method, data={"name": "Аня"})
            expected = role in ALLOWED.get(request.name, {"owner"})
            leaked = not expected and (SECRET in reply.text or "Иванова Анна" in reply.text)
            if _allowed(reply) != expected or leaked:
                wrong.append(
                    f"{request.name} as {role}: {reply.status_code}{' leaked' if leaked else ''}"
                )
    assert not wrong, "\n".join(wrong)
    print(
        f"access matrix: {len(requests)} routes x {len(ROLES)} roles = {len(requests) * len(ROLES)}"
    )


def test_the_family_page_shows_a_child_only_to_who_may_see_it(
    fake_app: Flask, parent: FlaskClient, school: FakeSchool
) -> None:
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    clients = _visitors(fake_app, parent, _anna(fake_app))
    for role in ROLES[1:]:
        shown = "Иванова Анна" in clients[role].get("/").text
        assert shown == (role in {"owner", "active_in_scope", "active_out_of_scope"}), role
