"""An administrator approves the address they were shown, never one changed behind them.

Between opening the approvals page and pressing its button, the operator may re-point the
instance and pass a new test: the button carries the address on the page, and an approval
of any other address is refused.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ConnectorInstance
from gateway.models import InstanceEvent
from gateway.models import User
from gateway.runtime import services
from gateway.services import lifecycle
from tests.gateway.conftest import approval_form
from tests.gateway.conftest import build_fake_app
from tests.gateway.conftest import make_operator
from tests.gateway.conftest import make_person
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool

PUBLIC = "http://93.184.216.34"
ELSEWHERE = "http://93.184.216.35/moved"
KEY = "samara-spare"
APPROVE = f"/operator/instances/{KEY}/approve"
CHANGED = "Адрес подключения изменился, пока была открыта страница"
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def app(make_app: t.Callable[..., Flask], school: FakeSchool) -> Flask:
    """A production-like gateway with no instance of its own."""
    return build_fake_app(make_app, instances=(), ALLOW_PRIVATE_BACKENDS=False)


@pytest.fixture
def maria(app: Flask) -> FlaskClient:
    """The operator of region 63, who registered and tested an instance at PUBLIC."""
    client = signed_in(app, make_operator(app, "63"))
    form = {"region_code": "63", "region_name": "Самара", "connector": "fake", "key": KEY}
    form.update(base_url=PUBLIC, settings="{}")
    assert client.post("/operator/instances/new", data=form).status_code == 303
    _tested(client)
    return client


@pytest.fixture
def anna(app: Flask) -> FlaskClient:
    """An administrator."""
    client = signed_in(app, make_person(app, "admin-anna", "Админова Анна Петровна"))
    assert app.test_cli_runner().invoke(args=["roles", "grant-admin", "admin-anna"]).exit_code == 0
    return client


def _tested(maria: FlaskClient) -> None:
    data = {"login": "parent", "password": "secret"}
    assert maria.post(f"/operator/instances/{KEY}/test", data=data).status_code == 303


def _flash(client: FlaskClient, reply: t.Any) -> str:
    assert reply.status_code == 303, reply.text
    return client.get(reply.headers["Location"]).text


def _instance(app: Flask) -> ConnectorInstance:
    with app.app_context():
        found = db.session.scalar(select(ConnectorInstance).where(ConnectorInstance.key == KEY))
        assert found is not None
        db.session.expunge(found)
        return found


def _approvals(app: Flask) -> list[str | None]:
    with app.app_context():
        kinds = select(InstanceEvent.detail).where(InstanceEvent.kind == "approved")
        return list(db.session.scalars(kinds))


def test_an_address_changed_after_the_admin_looked_is_not_approved(
    app: Flask, maria: FlaskClient, anna: FlaskClient
) -> None:
    seen = approval_form(anna, KEY)
    assert seen == {"base_url": PUBLIC}
    moved = maria.post(f"/operator/instances/{KEY}/address", data={"base_url": ELSEWHERE})
    assert "Адрес изменён" in _flash(maria, moved)
    _tested(maria)  # the new address passes a test of its own before Anna presses the button

    page = _flash(anna, anna.post(APPROVE, data=seen))
    assert CHANGED in page and f"теперь это {ELSEWHERE}" in page
    instance = _instance(app)
    assert instance.enabled is False and instance.approved_at is None
    assert _approvals(app) == []

    again = approval_form(anna, KEY)  # the page shows the new address now
    assert again == {"base_url": ELSEWHERE}
    assert "одобрено и показано родителям" in _flash(anna, anna.post(APPROVE, data=again))
    assert _instance(app).enabled is True
    assert _approvals(app) == [ELSEWHERE]


@pytest.mark.parametrize(
    ("sent", "approved"),
    [
        ({"base_url": PUBLIC}, True),
        ({"base_url": PUBLIC + "/"}, True),
        ({"base_url": f"  {PUBLIC}  "}, True),
        ({"base_url": ""}, False),
        ({}, False),
        ({"base_url": ELSEWHERE}, False),
        ({"base_url": "http://93.184.216.34:8080"}, False),
        ({"base_url": "не адрес"}, False),
    ],
    ids=["as shown", "trailing slash", "spaces", "empty", "missing", "other", "port", "junk"],
)
def test_an_approval_names_the_current_address_or_is_refused(
    app: Flask, maria: FlaskClient, anna: FlaskClient, sent: dict[str, str], approved: bool
) -> None:
    page = _flash(anna, anna.post(APPROVE, data=sent))
    assert ("одобрено и показано родителям" in page) is approved
    assert (CHANGED in page) is not approved
    assert _instance(app).enabled is approved
    assert _approvals(app) == ([PUBLIC] if approved else [])


def test_an_approval_reads_the_address_again_before_it_writes(
    app: Flask, maria: FlaskClient, anna: FlaskClient
) -> None:
    """A re-point committed while an approval request is under way: the approval sees it,
    and the row stays locked until the approval is written."""
    with app.app_context():
        stale = db.session.scalar(select(ConnectorInstance).where(ConnectorInstance.key == KEY))
        admin = db.session.scalar(select(User).where(User.subject == "admin-anna"))
        with app.app_context():  # the operator's request, in a session of its own
            moving = db.session.scalar(
                select(ConnectorInstance).where(ConnectorInstance.key == KEY)
            )
            operator = db.session.scalar(select(User).where(User.subject == "operator-63"))
            lifecycle.repoint(
                db.session,
                moving,
                pool=services().pool,
                base_url=ELSEWHERE,
                by=lifecycle.Actor(user=operator),
                now=NOW,
                policy=lifecycle.Policy(allow_private=False),
            )
            moving.checked_at = NOW  # and passed a test there
            db.session.commit()
        with pytest.raises(lifecycle.LifecycleError) as refused:
            lifecycle.approve(
                db.session, stale, seen_url=PUBLIC, by=lifecycle.Actor(user=admin), now=NOW
            )
        db.session.rollback()
    assert refused.value.code == "changed"
    assert _instance(app).enabled is False and _approvals(app) == []


def test_the_command_line_approves_the_address_named_or_shown_and_confirmed(
    app: Flask, maria: FlaskClient, anna: FlaskClient
) -> None:
    runner = app.test_cli_runner()
    enable = ["connectors", "enable", KEY, "--by", "admin-anna"]
    moved = runner.invoke(args=["connectors", "set-url", KEY, ELSEWHERE, "--by", "operator-63"])
    assert moved.exit_code == 0, moved.output
    _tested(maria)

    stale = runner.invoke(args=[*enable, "--url", PUBLIC])
    assert stale.exit_code != 0 and f"the instance is at {ELSEWHERE} now" in stale.output
    declined = runner.invoke(args=enable, input="n\n")
    assert declined.exit_code != 0 and f"{KEY} is at {ELSEWHERE}" in declined.output
    unanswered = runner.invoke(args=enable, input="")
    assert unanswered.exit_code != 0
    assert _instance(app).enabled is False and _approvals(app) == []

    confirmed = runner.invoke(args=enable, input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert f"{KEY} enabled at {ELSEWHERE}" in confirmed.output
    assert _approvals(app) == [ELSEWHERE]

    assert runner.invoke(args=["connectors", "disable", KEY, "--by", "operator-63"]).exit_code == 0
    wrong = runner.invoke(args=["connectors", "enable", KEY, "--url", PUBLIC])
    assert wrong.exit_code != 0 and f"the instance is at {ELSEWHERE} now" in wrong.output
    assert _instance(app).enabled is False
    right = runner.invoke(args=["connectors", "enable", KEY, "--url", ELSEWHERE + "/"])
    assert right.exit_code == 0, right.output
    assert _instance(app).enabled is True


@pytest.mark.parametrize("command", ["add", "set-url", "check", "disable", "enable"])
def test_the_command_line_says_it_takes_by_on_trust(app: Flask, command: str) -> None:
    """Anyone with a shell on the server can name anyone: the help says so, and where the
    four-eyes rule is enforced by sign-in instead."""
    runner = app.test_cli_runner()
    group = " ".join(runner.invoke(args=["connectors", "--help"]).output.split())
    assert "trusted administrator on the server" in group
    assert "nothing checks it" in group and "enforced by sign-in in the console" in group
    shown = " ".join(runner.invoke(args=["connectors", command, "--help"]).output.split())
    assert "Taken on trust from whoever runs the command on the server" in shown
