"""A new or re-pointed instance: refused on an internal address, offered to parents only
after a passing connection test and another administrator's approval, every step audited."""

from __future__ import annotations

import socket
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.netschool import NetSchoolConnector
from gateway.extensions import db
from gateway.models import ConnectorInstance
from gateway.models import InstanceEvent
from tests.gateway.conftest import FAKE_CLASSES
from tests.gateway.conftest import approval_form
from tests.gateway.conftest import build_fake_app
from tests.gateway.conftest import make_operator
from tests.gateway.conftest import make_person
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.support.live import serving
from tests.support.sockets import connections_before_a_probe
from tests.support.sockets import listening
from tests.support.stack import free_port

PUBLIC = "http://93.184.216.34"
FORM = {
    "region_code": "63",
    "region_name": "Самарская область (резерв)",
    "connector": "fake",
    "key": "samara-spare",
    "settings": "{}",
}
REFUSED_MESSAGE = "Этот адрес нельзя зарегистрировать"


@pytest.fixture
def app(make_app: t.Callable[..., Flask], school: FakeSchool) -> Flask:
    """A production-like gateway: private backend addresses are not allowed."""
    return build_fake_app(
        make_app,
        instances=(("samara-fake", "63", "Самарская область", "fake_operator"),),
        ALLOW_PRIVATE_BACKENDS=False,
    )


@pytest.fixture
def maria(app: Flask) -> FlaskClient:
    """The operator of region 63."""
    return signed_in(app, make_operator(app, "63"))


def _admin(app: Flask, subject: str) -> FlaskClient:
    client = signed_in(app, make_person(app, subject, "Админова Анна Петровна"))
    assert app.test_cli_runner().invoke(args=["roles", "grant-admin", subject]).exit_code == 0
    return client


def _instance(app: Flask, key: str = "samara-spare") -> ConnectorInstance | None:
    with app.app_context():
        found = db.session.scalar(select(ConnectorInstance).where(ConnectorInstance.key == key))
        if found is not None:
            db.session.expunge(found)
        return found


def _flash(client: FlaskClient, reply: t.Any) -> str:
    assert reply.status_code == 303, reply.text
    return client.get(reply.headers["Location"]).text


def _events(app: Flask) -> list[tuple[str, str | None]]:
    with app.app_context():
        rows = db.session.scalars(select(InstanceEvent).order_by(InstanceEvent.id)).all()
        return [(row.kind, row.actor.subject if row.actor else row.via) for row in rows]


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:9103",
        "http://localhost:9103",
        "http://10.0.0.7",
        "http://192.168.1.10:8080",
        "http://172.20.0.3",
        "http://169.254.169.254",
        "http://[::1]:9103",
        "http://[::ffff:127.0.0.1]",
        "http://[fe80::1]",
        "http://[fd12::1]",
        "http://224.0.0.251",
        "http://0.0.0.0:8000",
        "http://2130706433",
        "http://nonexistent.invalid",
    ],
)
def test_an_internal_or_unknown_address_is_refused_at_registration(
    app: Flask, maria: FlaskClient, base_url: str
) -> None:
    page = maria.post("/operator/instances/new", data={**FORM, "base_url": base_url})
    assert page.status_code == 200 and REFUSED_MESSAGE in page.text
    assert base_url in page.text  # what was typed is still in the form
    assert _instance(app) is None


def test_an_address_in_a_setting_is_checked_as_well(app: Flask, maria: FlaskClient) -> None:
    settings = '{"identity_url": "http://10.0.0.7/identity"}'
    page = maria.post(
        "/operator/instances/new", data={**FORM, "base_url": PUBLIC, "settings": settings}
    )
    assert REFUSED_MESSAGE in page.text and _instance(app) is None


def test_a_deployment_that_allows_private_backends_registers_them(
    make_app: t.Callable[..., Flask], school: FakeSchool
) -> None:
    demo = build_fake_app(make_app, instances=(), ALLOW_PRIVATE_BACKENDS=True)
    maria = signed_in(demo, make_operator(demo, "63"))
    reply = maria.post("/operator/instances/new", data={**FORM, "base_url": "http://127.0.0.1:9"})
    assert reply.status_code == 303
    assert _instance(demo) is not None


def test_a_new_instance_waits_for_a_test_and_another_admins_approval(
    app: Flask, maria: FlaskClient
) -> None:
    parent = signed_in(app, make_person(app, "parent", "Иванова Мария"))
    assert (
        maria.post("/operator/instances/new", data={**FORM, "base_url": PUBLIC}).status_code == 303
    )
    assert _instance(app).enabled is False
    assert "Самарская область (резерв)" not in parent.get("/children/link").text
    refused = parent.get("/children/link/samara-spare")
    assert refused.status_code == 503 and 'name="password"' not in refused.text
    assert "ещё не одобрено" in _flash(maria, maria.post("/operator/instances/samara-spare/enable"))

    anna = _admin(app, "admin-anna")
    approve = "/operator/instances/samara-spare/approve"
    assert "Связь ещё не проверена" in anna.get("/operator/approvals").text  # no button yet
    crafted = anna.post(approve, data={"base_url": PUBLIC})
    assert "Сначала оператор должен успешно проверить связь" in _flash(anna, crafted)
    test = {"login": "parent", "password": "secret"}
    assert "учеников — 2" in _flash(
        maria, maria.post("/operator/instances/samara-spare/test", data=test)
    )
    form = approval_form(anna, "samara-spare")
    assert form == {"base_url": PUBLIC}
    assert "одобрено и показано родителям" in _flash(anna, anna.post(approve, data=form))

    assert _instance(app).enabled is True
    assert "Самарская область (резерв)" in parent.get("/children/link").text
    assert "samara-spare" not in anna.get("/operator/approvals").text
    assert _events(app) == [
        ("registered", "operator-63"),
        ("check_passed", "operator-63"),
        ("approved", "admin-anna"),
    ]


def test_the_operator_who_made_the_change_cannot_approve_it_even_as_an_admin(
    app: Flask, maria: FlaskClient
) -> None:
    app.test_cli_runner().invoke(args=["roles", "grant-admin", "operator-63"])
    maria.post("/operator/instances/new", data={**FORM, "base_url": PUBLIC})
    maria.post(
        "/operator/instances/samara-spare/test", data={"login": "parent", "password": "secret"}
    )
    approve = "/operator/instances/samara-spare/approve"
    page = _flash(maria, maria.post(approve, data=approval_form(maria, "samara-spare")))
    assert "Одобрить может только другой администратор" in page
    assert _instance(app).enabled is False and _instance(app).approved_at is None
    assert ("approved", "operator-63") not in _events(app)


def test_an_operator_who_is_not_an_admin_cannot_approve_at_all(
    app: Flask, maria: FlaskClient
) -> None:
    maria.post("/operator/instances/new", data={**FORM, "base_url": PUBLIC})
    approve = "/operator/instances/samara-spare/approve"
    assert maria.post(approve, data={"base_url": PUBLIC}).status_code == 404
    assert maria.get("/operator/approvals").status_code == 404


def test_re_pointing_an_instance_takes_it_from_parents_until_approved_again(
    app: Flask, maria: FlaskClient
) -> None:
    parent = signed_in(app, make_person(app, "parent", "Иванова Мария"))
    assert "Самарская область" in parent.get("/children/link").text
    refused = maria.post(
        "/operator/instances/samara-fake/address", data={"base_url": "http://10.9.8.7"}
    )
    assert REFUSED_MESSAGE in _flash(maria, refused)
    assert _instance(app, "samara-fake").enabled is True  # nothing changed

    moved = maria.post("/operator/instances/samara-fake/address", data={"base_url": PUBLIC})
    assert "Адрес изменён" in _flash(maria, moved)
    instance = _instance(app, "samara-fake")
    assert instance.base_url == PUBLIC and instance.enabled is False
    assert "Самарская область" not in parent.get("/children/link").text
    anna = _admin(app, "admin-anna")
    assert "samara-fake" in anna.get("/operator/approvals").text
    assert _events(app) == [("repointed", "operator-63")]


CHECK_FAILED = "Связаться с системой не удалось. Проверьте адрес и попробуйте позже."


def _not_a_backend(environ: dict[str, t.Any], start: t.Callable[..., t.Any]) -> list[bytes]:
    start("404 NOT FOUND", [("Content-Type", "text/html")])
    return [b"<html><body>nginx</body></html>"]


def test_a_failed_test_says_the_same_whatever_is_behind_the_address(
    make_app: t.Callable[..., Flask], school: FakeSchool
) -> None:
    """A closed port, an open one that is not the system, one that never answers and a
    name that does not resolve all read alike: the console cannot map a network."""
    app = make_app(
        CONNECTOR_CLASSES={**FAKE_CLASSES, "netschool": NetSchoolConnector},
        WTF_CSRF_ENABLED=False,
        ALLOW_PRIVATE_BACKENDS=True,
    )
    maria = signed_in(app, make_operator(app, "63"))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections into the backlog, never answers
    with serving(_not_a_backend) as open_port, silent:
        targets = {
            "closed": f"http://127.0.0.1:{free_port()}",
            "open": open_port,
            "silent": f"http://127.0.0.1:{silent.getsockname()[1]}",
            "dns": "http://nonexistent.invalid",
        }
        messages = {name: _failed_test(app, maria, name, url) for name, url in targets.items()}
    assert set(messages.values()) == {CHECK_FAILED}, messages


def _failed_test(app: Flask, maria: FlaskClient, name: str, base_url: str) -> str:
    with app.app_context():
        db.session.add(
            ConnectorInstance(
                key=f"samara-{name}",
                region_code="63",
                region_name="Самарская область",
                connector="netschool",
                base_url=base_url,
                settings={"connect_timeout": 0.5, "read_timeout": 0.5},
            )
        )
        db.session.commit()
    reply = maria.post(
        f"/operator/instances/samara-{name}/test",
        data={"login": "СмирноваИС", "password": "Пароль-2026", "school": "Лицей № 3"},
    )
    page = _flash(maria, reply)
    for internal in ("Unavailable", "Unexpected", "Error", "Errno", "refused", "timed out"):
        assert internal not in page
    return CHECK_FAILED if CHECK_FAILED in page else page


def test_an_address_that_became_internal_is_refused_when_called(
    make_app: t.Callable[..., Flask], school: FakeSchool
) -> None:
    """An instance whose address is internal now (a name rebound to 127.0.0.1, or a row
    changed behind the console's back) is stopped before it is connected to: the test fails
    like any other, and the port behind it never sees a TCP handshake."""
    app = make_app(
        CONNECTOR_CLASSES={**FAKE_CLASSES, "netschool": NetSchoolConnector},
        WTF_CSRF_ENABLED=False,
        ALLOW_PRIVATE_BACKENDS=False,
    )
    maria = signed_in(app, make_operator(app, "63"))
    with listening() as inside:
        url = f"http://127.0.0.1:{inside.getsockname()[1]}"
        assert _failed_test(app, maria, "rebound", url) == CHECK_FAILED
        assert connections_before_a_probe(inside) == 0


def test_the_command_line_follows_the_same_rules(app: Flask) -> None:
    make_operator(app, "63")
    make_person(app, "admin-anna", "Админова Анна Петровна")
    runner = app.test_cli_runner()
    runner.invoke(args=["roles", "grant-admin", "admin-anna"])
    runner.invoke(args=["roles", "grant-admin", "operator-63"])
    add = ["connectors", "add", "--key", "samara-cli", "--region-code", "63"]
    add += ["--region-name", "Самара", "--connector", "fake", "--by", "operator-63"]
    private = runner.invoke(args=[*add, "--base-url", "http://10.0.0.7"])
    assert private.exit_code != 0 and "private" in private.output
    assert runner.invoke(args=[*add, "--base-url", PUBLIC]).exit_code == 0
    enable = ["connectors", "enable", "samara-cli", "--url", PUBLIC]
    untested = runner.invoke(args=[*enable, "--by", "admin-anna"])
    assert untested.exit_code != 0 and "no connection test has passed" in untested.output
    check = ["connectors", "check", "samara-cli", "--login", "parent", "--password", "secret"]
    assert runner.invoke(args=[*check, "--by", "operator-63"]).exit_code == 0
    own = runner.invoke(args=[*enable, "--by", "operator-63"])
    assert own.exit_code != 0 and "another administrator" in own.output
    assert runner.invoke(args=enable).exit_code != 0  # who?
    done = runner.invoke(args=[*enable, "--by", "admin-anna"])
    assert done.exit_code == 0, done.output
    assert _instance(app, "samara-cli").enabled is True
    assert _events(app) == [
        ("registered", "operator-63"),
        ("check_passed", "operator-63"),
        ("approved", "admin-anna"),
    ]


def test_the_instance_page_shows_its_audit_log(app: Flask, maria: FlaskClient) -> None:
    maria.post("/operator/instances/new", data={**FORM, "base_url": PUBLIC})
    maria.post("/operator/instances/samara-spare/test", data={"login": "parent", "password": "x"})
    page = maria.get("/operator/instances/samara-spare").text
    assert "Журнал подключения" in page
    assert "зарегистрировано" in page and "проверка связи не прошла" in page
    assert "Орлова Мария Андреевна" in page
    assert "Родителям это подключение не показывается" in page
