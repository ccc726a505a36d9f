"""Pages that name a regional system use its display name (МЭШ, Дневник.ру, Сетевой город),
never the connector's internal name («mesh», «dnevnik_ru», «netschool»)."""

from __future__ import annotations

import html
import re
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.extensions import db
from gateway.runtime import services
from gateway.services.instances import load_registry_file
from gateway.settings import CONFIG_DIR
from tests.gateway.conftest import make_operator
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import make_person
from tests.gateway.conftest import signed_in

# A connector's name standing alone; instance keys such as «samara-netschool» are the
# operator's own identifiers and stay.
RAW = re.compile(r"(?<![\w-])(?:mesh|dnevnik_ru|netschool)(?![\w-])")
SHOWN = {"ru": ("МЭШ", "Дневник.ру", "Сетевой город"), "en": ("MESH", "Dnevnik.ru", "NetSchool")}
# The page that links a child names the system the parent signs in to.
LINKING = {"link MESH": 0, "authorize Dnevnik.ru": 1, "link NetSchool": 2}


@pytest.fixture
def demo(make_app: t.Callable[..., Flask]) -> Flask:
    """A gateway with the demo's three systems registered (no emulator needs to run)."""
    app = make_app(WTF_CSRF_ENABLED=False)
    with app.app_context():
        ports = {"NETSCHOOL_PORT": "9", "DNEVNIK_PORT": "9", "MESH_PORT": "9"}
        load_registry_file(
            db.session,
            CONFIG_DIR / "connectors.toml",
            environ=ports,
            allow_private=True,
            now=services().now(),
        )
        db.session.commit()
    return app


def _visible(page: str) -> str:
    """Return what a reader sees: the text without tags (attributes hold URLs and keys)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page.partition("<body")[2]))


def _pages(demo: Flask) -> dict[str, tuple[FlaskClient, str]]:
    parent = signed_in(demo, make_parent(demo))
    operator = signed_in(demo, make_operator(demo, "63"))
    admin = signed_in(demo, make_person(demo, "admin-anna", "Админова Анна Петровна"))
    assert demo.test_cli_runner().invoke(args=["roles", "grant-admin", "admin-anna"]).exit_code == 0
    new = {"region_code": "63", "region_name": "Самара", "connector": "netschool"}
    new.update(key="samara-spare", base_url="http://127.0.0.1:9", settings="{}")
    assert operator.post("/operator/instances/new", data=new).status_code == 303
    return {
        "link MESH": (parent, "/children/link/moscow-mesh"),
        "link NetSchool": (parent, "/children/link/samara-netschool"),
        "authorize Dnevnik.ru": (parent, "/children/link/tver-dnevnik"),
        "operator": (operator, "/operator/"),
        "operator instance": (operator, "/operator/instances/samara-netschool"),
        "approvals": (admin, "/operator/approvals"),
    }


@pytest.mark.parametrize("language", ["ru", "en"])
def test_pages_that_name_a_system_use_its_display_name(demo: Flask, language: str) -> None:
    pages = _pages(demo)
    seen = ""
    for name, (client, url) in pages.items():
        if language == "en":
            client.get("/lang/en")
        reply = client.get(url)
        assert reply.status_code == 200, name
        text = _visible(reply.text)
        assert not RAW.findall(text), f"{name}: {RAW.findall(text)}"
        if name in LINKING:
            assert SHOWN[language][LINKING[name]] in text, name
        seen += text
    for display in SHOWN[language]:
        assert display in seen, display
