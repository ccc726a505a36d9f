"""The operator route matrix: every console route x every kind of visitor, from the URL map.

An operator of the application's region may use every console route; an operator of another
region, the applicant, another parent, an administrator and an anonymous visitor are all
turned away without a word about the application or the instance.
"""

from __future__ import annotations

import typing as t

from flask import Flask
from flask import url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import AccessApplication
from tests.gateway.conftest import make_operator
from tests.gateway.conftest import make_person
from tests.gateway.conftest import signed_in
from tests.gateway.test_applications import FORM
from tests.gateway.test_applications import PAVEL

ROLES = ["anonymous", "applicant", "another_parent", "admin", "other_region", "operator"]
# The administrator's page is theirs alone. Pages that name no region open to every operator
# (each sees only their own regions there); every other console route is the region's
# operator's alone.
OWN_REGIONS = {"operator", "other_region"}
ALLOWED: dict[str, set[str]] = {
    "operator.staff": {"admin"},
    "operator.awaiting": {"admin"},
    "operator.approve_instance": {"admin"},
    "operator.index": OWN_REGIONS,
    "operator.queue": OWN_REGIONS,
    "operator.new_instance": OWN_REGIONS,
}
SECRETS = ("Новикова София", "IV-ЕР", "Лицей № 3")


def console_requests(app: Flask, application_id: int) -> list[tuple[str, str, str]]:
    """Build (endpoint, method, url) for every rule of the operator blueprint."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("operator."):
                continue
            args = {"application_id": application_id, "key": "samara-fake"}
            url = url_for(rule.endpoint, **{k: v for k, v in args.items() if k in rule.arguments})
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, url))
    # Decisions last: they change what the other requests see.
    return sorted(found, key=lambda r: r[0] in ("operator.approve", "operator.refuse"))


def _visitors(app: Flask) -> dict[str, FlaskClient]:
    applicant = signed_in(app, make_person(app, "pavel", PAVEL, birthdate="1984-02-17"))
    admin = make_person(app, "admin-1", "Админов Админ Админович")
    app.test_cli_runner().invoke(args=["roles", "grant-admin", "admin-1"])
    return {
        "anonymous": app.test_client(),
        "applicant": applicant,
        "another_parent": signed_in(app, make_person(app, "other", "Иванова Мария")),
        "admin": signed_in(app, admin),
        "other_region": signed_in(app, make_operator(app, "69", subject="op-69")),
        "operator": signed_in(app, make_operator(app, "63")),
    }


def _allowed(reply: t.Any) -> bool:
    login = reply.status_code in (301, 302, 303) and "/login" in reply.headers.get("Location", "")
    return reply.status_code < 400 and not login


def test_every_console_route_lets_in_exactly_who_it_should(operator_app: Flask) -> None:
    clients = _visitors(operator_app)
    assert clients["applicant"].post("/children/applications/new", data=FORM).status_code == 303
    with operator_app.app_context():
        application_id = int(db.session.scalar(select(AccessApplication.id)))
    requests = console_requests(operator_app, application_id)
    assert {r[0] for r in requests} >= {
        "operator.index",
        "operator.queue",
        "operator.application",
        "operator.approve",
        "operator.refuse",
        "operator.reveal",
        "operator.instance",
        "operator.disable",
    }
    wrong = []
    for endpoint, method, url in requests:
        for role in ROLES:
            data = {"reason": "other", "text": "проверка"} if endpoint == "operator.refuse" else {}
            reply = clients[role].open(url, method=method, data=data)
            expected = role in ALLOWED.get(endpoint, {"operator"})
            leaked = role != "operator" and any(s in reply.text for s in SECRETS)
            if _allowed(reply) != expected or leaked:
                wrong.append(
                    f"{endpoint}:{method} as {role}: {reply.status_code}{' leaked' * leaked}"
                )
    assert not wrong, "\n".join(wrong)
    print(f"operator matrix: {len(requests)} routes x {len(ROLES)} roles")
