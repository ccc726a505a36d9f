"""Link the demo's real children through their emulators, as a parent does in the browser."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from idp_mock.browser import authorize_at_idp

IRINA = ("+79000000001", "parent-demo-1")
# The system each of Irina's children is at, by connector name, with its instance key.
INSTANCES = {"mesh": "moscow-mesh", "dnevnik_ru": "tver-dnevnik", "netschool": "samara-netschool"}
SYSTEMS = tuple(INSTANCES)


def _link_maxim(client: FlaskClient) -> None:
    reply = client.post(
        "/children/link/samara-netschool",
        data={"school": "Лицей № 3", "login": "СмирноваИС", "password": "Пароль-2026"},
    )
    assert reply.status_code == 303, reply.text


def _link_artyom(client: FlaskClient) -> None:
    form = {"login": "irina.smirnova", "password": "Mesh-2026-parent"}
    asked = client.post("/children/link/moscow-mesh", data=form)
    assert asked.status_code == 303 and asked.headers["Location"].endswith("/code")
    done = client.post("/children/link/moscow-mesh/code", data={"code": "424242"})
    assert done.status_code == 303, done.text


def _link_polina(client: FlaskClient) -> None:
    away = client.get("/children/link/tver-dnevnik/authorize")
    back = urlsplit(authorize_at_idp(away.headers["Location"], "smirnova.i.s", "Dnevnik-2026"))
    assert client.get(f"{back.path}?{back.query}").status_code == 303


LINK = {"mesh": _link_artyom, "dnevnik_ru": _link_polina, "netschool": _link_maxim}


def link_child(app: Flask, client: FlaskClient, system: str) -> int:
    """Link Irina's child at ``system`` (forms posted without CSRF); return the link's id."""
    LINK[system](client)
    with app.app_context():
        found = db.session.scalar(
            select(ChildLink.id)
            .join(ConnectorInstance)
            .where(ConnectorInstance.key == INSTANCES[system])
        )
    assert found is not None
    return found
