"""The request log of a real server holds no bearer secret: codes, states, feed and
invitation tokens are written as ``[redacted]``.

Everything runs over HTTP against the live gateway and provider, as a browser would; the
log is the werkzeug request log both servers write in this process.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import typing as t
from urllib.parse import parse_qs
from urllib.parse import quote
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from connectors.schema import Section
from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import OutboxMessage
from gateway.models import User
from gateway.redaction import RedactSecrets
from gateway.runtime import services
from gateway.services import exports
from gateway.services import outbox
from gateway.services import trust
from idp_mock.browser import authorize_at_idp
from tests.gateway.conftest import build_fake_app
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in

IRINA = ("+79000000001", "parent-demo-1")
GALINA = ("+79000000003", "granny-demo-3")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _csrf(browser: requests.Session, url: str) -> str:
    found = CSRF.search(browser.get(url, timeout=10).text)
    assert found is not None, url
    return found[1]


def _sign_in(
    gateway: str, login: str, password: str, *, next_path: str = ""
) -> tuple[requests.Session, list[str]]:
    """Sign in over HTTP; return the browser and the secrets the callback carried."""
    browser = requests.Session()
    start = browser.get(
        f"{gateway}/login" + (f"?next={quote(next_path, safe='')}" if next_path else ""),
        allow_redirects=False,
        timeout=10,
    )
    back = authorize_at_idp(start.headers["Location"], login, password)
    query = parse_qs(urlsplit(back).query)
    done = browser.get(back, allow_redirects=False, timeout=10)
    assert done.status_code == 302, done.text
    if done.headers["Location"].endswith("/consent"):
        token = _csrf(browser, f"{gateway}/consent")
        accepted = browser.post(
            f"{gateway}/consent", data={"accept": "y", "csrf_token": token}, timeout=10
        )
        assert accepted.ok
    return browser, [query["code"][0], query["state"][0]]


def _irinas_child(app: Flask) -> tuple[User, ChildLink]:
    irina = db.session.scalar(select(User).where(User.phone == "+79000000001"))
    instance = db.session.scalar(
        select(ConnectorInstance).where(ConnectorInstance.key == "samara-netschool")
    )
    link = ChildLink(
        user_id=irina.id,
        instance_id=instance.id,
        external_id="maxim",
        display_name="Child1",
        full_name="Смирнов Максим Дмитриевич",
        position=1,
    )
    db.session.add(link)
    db.session.flush()
    return irina, link


@pytest.fixture
def request_log(caplog: pytest.LogCaptureFixture) -> t.Iterator[pytest.LogCaptureFixture]:
    """Capture what the servers' request logger writes."""
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        yield caplog


def test_sign_in_feed_and_invitation_leave_no_secret_in_the_request_log(
    stack_app: Flask, live_gateway: str, request_log: pytest.LogCaptureFixture
) -> None:
    _irina, secrets = _sign_in(live_gateway, *IRINA)
    with stack_app.app_context():
        owner, link = _irinas_child(stack_app)
        feed_token = exports.issue_feed(db.session, link, now=dt.datetime.now(dt.UTC))
        invitation = trust.Invitation(
            name="Смирнова Галина Ивановна",
            phone="+79000000003",
            email=None,
            scopes={link.id: [Section.SCHEDULE]},
            ends_on=None,
        )
        grant, invite_token = trust.invite(
            db.session,
            owner,
            invitation,
            now=dt.datetime.now(dt.UTC),
            accept_url=f"{live_gateway}/trusted/accept/{{token}}",
            vault=services().vault,
        )
        db.session.commit()
        grant_id = grant.id
    secrets += [feed_token, invite_token]

    calendar = requests.get(f"{live_gateway}/calendar/{feed_token}.ics", timeout=30)
    assert calendar.status_code in (200, 503)
    accept_path = f"/trusted/accept/{invite_token}"
    assert "Войти через Госуслуги" in requests.get(live_gateway + accept_path, timeout=10).text
    galina, more = _sign_in(live_gateway, *GALINA, next_path=accept_path)
    secrets += more
    token = _csrf(galina, live_gateway + accept_path)
    accepted = galina.post(
        live_gateway + accept_path, data={"decision": "accept", "csrf_token": token}, timeout=10
    )
    assert accepted.ok
    with stack_app.app_context():
        assert db.session.get(trust.Grant, grant_id).accepted_at is not None

    log = request_log.text
    leaked = [secret for secret in secrets if secret in log]
    assert leaked == []
    assert "GET /calendar/[redacted].ics" in log
    assert "POST /trusted/accept/[redacted]" in log
    assert "/auth/callback?code=[redacted]&state=[redacted]" in log


def test_a_delivered_invitation_leaves_no_usable_link_in_the_outbox(
    stack_app: Flask, live_gateway: str
) -> None:
    _sign_in(live_gateway, *IRINA)
    with stack_app.app_context():
        owner, link = _irinas_child(stack_app)
        invitation = trust.Invitation(
            name="Смирнова Галина Ивановна",
            phone="+79000000003",
            email="galina.smirnova@example.test",
            scopes={link.id: [Section.SCHEDULE]},
            ends_on=None,
        )
        _, token = trust.invite(
            db.session,
            owner,
            invitation,
            now=dt.datetime.now(dt.UTC),
            accept_url=f"{live_gateway}/trusted/accept/{{token}}",
            vault=services().vault,
        )
        db.session.commit()

    def stored() -> list[str]:
        with stack_app.app_context():
            rows = db.session.scalars(select(OutboxMessage)).all()
            return [f"{r.body} {r.payload} {r.sealed!r}" for r in rows]

    assert len(stored()) == 2 and not any(token in row for row in stored())  # sealed
    # The development outbox is the transport: it shows each message once, in full.
    sent = requests.get(f"{live_gateway}/__dev/outbox?format=json", timeout=10).json()
    links = [m["link"] for m in sent["messages"]]
    assert links == [f"{live_gateway}/trusted/accept/{token}"] * 2
    assert all(token in m["body"] for m in sent["messages"])
    with stack_app.app_context():
        rows = db.session.scalars(select(OutboxMessage)).all()
        assert all(r.sent_at is not None and r.sealed is None for r in rows)
    assert not any(token in row for row in stored())
    again = requests.get(f"{live_gateway}/__dev/outbox?format=json", timeout=10).json()
    assert [m["link"] for m in again["messages"]] == [None, None]
    assert all(outbox.GONE in m["body"] and token not in m["body"] for m in again["messages"])


def test_gunicorns_access_log_is_redacted_too_referrer_included(app: Flask) -> None:
    [redact] = [
        f for f in logging.getLogger("gunicorn.access").filters if isinstance(f, RedactSecrets)
    ]
    atoms = {
        "h": "10.0.0.1",
        "r": "GET /auth/callback?code=c0de&state=st4te HTTP/1.1",
        "s": "302",
        "f": "https://gw.example/trusted/accept/T0ken",
    }
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(r)s" %(s)s "%(f)s"', (atoms,), None
    )
    assert redact.filter(record)
    message = record.getMessage()
    assert message == (
        '10.0.0.1 "GET /auth/callback?code=[redacted]&state=[redacted] HTTP/1.1" 302 '
        '"https://gw.example/trusted/accept/[redacted]"'
    )


def test_a_failing_feed_request_leaves_no_token_in_the_apps_error_log(
    make_app: t.Callable[..., Flask],
    school: t.Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = build_fake_app(make_app, PROPAGATE_EXCEPTIONS=False)
    parent = signed_in(app, make_parent(app))
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with app.app_context():
        child = db.session.scalar(select(ChildLink.id))
    page = parent.post(f"/child/{child}/calendar").text
    path = urlsplit(re.search(r'value="(https?://[^"]+\.ics)"', page)[1]).path  # type: ignore[index]
    token = path.rsplit("/", 1)[1].removesuffix(".ics")

    def broken(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise RuntimeError("the calendar could not be drawn")

    monkeypatch.setattr(exports, "build_calendar", broken)
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        assert app.test_client().get(path).status_code == 500
    logged = [record.getMessage() for record in caplog.records]
    assert any("Exception on /calendar/[redacted].ics" in line for line in logged), logged
    assert not any(token in line for line in logged)
