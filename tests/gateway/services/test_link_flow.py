"""The linking flow says how each step ended: linked, a code needed, a wrong code, refused."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from connectors.errors import AccessDenied
from connectors.errors import AccountLocked
from connectors.errors import BackendUnavailable
from connectors.errors import ConnectorError
from connectors.errors import InvalidCredentials
from connectors.errors import SchoolNameTooVague
from connectors.errors import SchoolNotFound
from connectors.errors import SessionExpired
from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import SchoolCredential
from gateway.models import User
from gateway.runtime import services
from gateway.services.instances import instance_by_key
from gateway.services.link_flow import Linked
from gateway.services.link_flow import LinkingFlow
from gateway.services.link_flow import NeedsCode
from gateway.services.link_flow import Refusal
from gateway.services.link_flow import Refused
from gateway.services.link_flow import WrongCode
from gateway.services.link_flow import code_refusal_of
from gateway.services.link_flow import refusal_of
from gateway.services.linking import NoStudents
from tests.gateway.conftest import make_parent
from tests.gateway.fakes import FakeConnector
from tests.gateway.fakes import FakeSchool

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
REDIRECT = "http://gateway.test/children/oauth/callback"


@pytest.fixture
def parent_user(fake_app: Flask) -> Iterator[User]:
    """Hold an app context and yield a consenting parent in it."""
    user_id = make_parent(fake_app)
    with fake_app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        yield user


def _flow(user: User, key: str = "test-fake") -> LinkingFlow:
    svc = services()
    return LinkingFlow(
        db.session,
        user=user,
        instance=instance_by_key(db.session, key),
        pool=svc.pool,
        vault=svc.vault,
        cache=svc.cache,
        now=NOW,
    )


def _sign_in(flow: LinkingFlow, *, password: str = "secret", name: str = "Маша") -> t.Any:
    return flow.sign_in(login=" parent ", password=password, school=None, name=name)


def _stored() -> tuple[int, int]:
    links = len(db.session.scalars(select(ChildLink)).all())
    return links, len(db.session.scalars(select(SchoolCredential)).all())


def test_a_good_password_links_every_student_and_asks_to_name_the_unnamed(
    parent_user: User,
) -> None:
    outcome = _sign_in(_flow(parent_user))
    assert isinstance(outcome, Linked)
    assert [c.display_name for c in outcome.children] == ["Маша", "Child1"]
    assert outcome.to_name == [c.id for c in outcome.children]
    db.session.commit()
    assert _stored() == (2, 1)


def test_linking_again_names_nobody_new(parent_user: User) -> None:
    _sign_in(_flow(parent_user))
    db.session.commit()
    again = _sign_in(_flow(parent_user))
    assert isinstance(again, Linked) and again.to_name == []


def test_a_wrong_password_is_refused_and_stores_nothing(parent_user: User) -> None:
    assert _sign_in(_flow(parent_user), password="wrong") == Refused(Refusal.CREDENTIALS)
    assert _stored() == (0, 0)


def test_a_login_without_students_is_refused_and_stores_nothing(
    parent_user: User, school: FakeSchool
) -> None:
    school.accounts["parent"] = ("secret", [])
    assert _sign_in(_flow(parent_user)) == Refused(Refusal.NO_STUDENTS)
    assert _stored() == (0, 0)


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (SchoolNotFound("no such school"), Refused(Refusal.SCHOOL_UNKNOWN)),
        (
            SchoolNotFound("several", candidates=["Лицей № 3", "Лицей № 33"]),
            Refused(Refusal.SCHOOL_AMBIGUOUS, candidates=("Лицей № 3", "Лицей № 33")),
        ),
        (AccountLocked("locked"), Refused(Refusal.LOCKED)),
        (AccessDenied("not a parent"), Refused(Refusal.DENIED)),
        (BackendUnavailable("down"), Refused(Refusal.UNAVAILABLE)),
    ],
)
def test_a_refused_sign_in_says_why(
    parent_user: User, monkeypatch: pytest.MonkeyPatch, error: ConnectorError, refused: Refused
) -> None:
    def refuse(self: FakeConnector, credentials: t.Any, *, previous: t.Any = None) -> t.NoReturn:
        raise error

    monkeypatch.setattr(FakeConnector, "login", refuse)
    assert _sign_in(_flow(parent_user)) == refused
    assert _stored() == (0, 0)


def test_a_second_factor_waits_for_the_code_then_links(
    parent_user: User, school: FakeSchool
) -> None:
    school.sms_for.add("parent")
    flow = _flow(parent_user)
    asked = _sign_in(flow, name="Маша")
    assert isinstance(asked, NeedsCode)
    assert _stored() == (0, 0)
    pending = flow.pending(asked.token)
    assert pending is not None and pending.destination == "+7 900 ***-**-01"
    assert pending.credentials.login == "parent" and pending.display_name == "Маша"
    done = flow.confirm_code(asked.token, pending, code=" 424242 ", name="Маша")
    assert isinstance(done, Linked) and done.children[0].display_name == "Маша"
    assert flow.pending(asked.token) is None  # used once


def test_a_wrong_code_keeps_the_link_waiting_until_the_tries_run_out(
    parent_user: User, school: FakeSchool
) -> None:
    school.sms_for.add("parent")
    flow = _flow(parent_user)
    asked = _sign_in(flow)
    assert isinstance(asked, NeedsCode)
    first = flow.pending(asked.token)
    assert first is not None
    assert flow.confirm_code(asked.token, first, code="111111", name="Петя") == WrongCode()
    kept = flow.pending(asked.token)
    assert kept is not None and kept.display_name == "Петя" and kept.challenge["left"] == 1
    last = flow.confirm_code(asked.token, kept, code="222222", name="Петя")
    assert last == Refused(Refusal.CODE_ATTEMPTS_USED)
    assert flow.pending(asked.token) is None and _stored() == (0, 0)


def test_a_waiting_link_is_only_its_parents_and_only_at_its_instance(
    fake_app: Flask, parent_user: User, school: FakeSchool
) -> None:
    school.sms_for.add("parent")
    asked = _sign_in(_flow(parent_user))
    assert isinstance(asked, NeedsCode)
    other = db.session.get(User, make_parent(fake_app, subject="parent-2", name="Петров Иван"))
    assert other is not None
    assert _flow(other).pending(asked.token) is None
    assert _flow(parent_user, "test-oauth").pending(asked.token) is None
    assert _flow(parent_user).pending("made-up-token") is None


def test_the_systems_own_page_links_with_a_good_code_only(parent_user: User) -> None:
    flow = _flow(parent_user, "test-oauth")
    assert flow.in_browser and flow.offers_browser_sign_in(redirect_uri=REDIRECT)
    url = flow.browser_url(redirect_uri=REDIRECT, state="s1")
    assert url is not None and "state=s1" in url
    assert flow.complete_in_browser(code="bad", redirect_uri=REDIRECT) == Refused(
        Refusal.CREDENTIALS
    )
    done = flow.complete_in_browser(code="good", redirect_uri=REDIRECT)
    assert isinstance(done, Linked) and len(done.children) == 2


def test_a_password_system_has_no_page_of_its_own(parent_user: User) -> None:
    flow = _flow(parent_user)
    assert not flow.in_browser and not flow.offers_browser_sign_in(redirect_uri=REDIRECT)
    assert flow.browser_url(redirect_uri=REDIRECT, state="s") is None
    assert flow.complete_in_browser(code="good", redirect_uri=REDIRECT) == Refused(
        Refusal.UNAVAILABLE
    )
    assert flow.system.title == FakeConnector.title and not flow.system.requires_school


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (NoStudents(), Refusal.NO_STUDENTS),
        (SchoolNameTooVague("x"), Refusal.SCHOOL_VAGUE),
        (SchoolNotFound("x", candidates=["a"]), Refusal.SCHOOL_AMBIGUOUS),
        (SchoolNotFound("x"), Refusal.SCHOOL_UNKNOWN),
        (InvalidCredentials("x"), Refusal.CREDENTIALS),
        (AccountLocked("x"), Refusal.LOCKED),
        (AccessDenied("x"), Refusal.DENIED),
        (SessionExpired("x"), Refusal.UNAVAILABLE),
    ],
)
def test_each_error_is_named_in_the_order_of_its_classes(error: Exception, reason: Refusal) -> None:
    assert refusal_of(error) is reason


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (InvalidCredentials("no attempts left"), Refusal.CODE_ATTEMPTS_USED),
        (SessionExpired("too late"), Refusal.CODE_EXPIRED),
        (AccountLocked("x"), Refusal.LOCKED),
        (BackendUnavailable("x"), Refusal.UNAVAILABLE),
    ],
)
def test_the_code_step_names_its_own_endings(error: ConnectorError, reason: Refusal) -> None:
    assert code_refusal_of(error) is reason
