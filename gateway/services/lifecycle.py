"""A connector instance's life: registered or re-pointed, tested, approved, enabled.

A new or re-pointed instance is not offered to parents until a connection test of its
current address has passed and an administrator other than the person who made the
change has approved that very address (four eyes). After that its operator may disable
and enable it. Every step goes to the instance's audit log. The console and the ``flask
connectors`` commands both come here, so the rules are the same wherever a change is made.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import ConfirmsSecondFactor
from connectors.base import Credentials
from connectors.base import sections_of
from connectors.errors import ConnectorError
from connectors.errors import InvalidCredentials
from connectors.errors import SecondFactorRequired
from connectors.schema import Section
from gateway.models import ConnectorInstance
from gateway.models import User
from gateway.services import audit
from gateway.services import egress
from gateway.services import roles
from gateway.services.instances import ConnectorPool
from gateway.services.instances import InstanceError
from gateway.services.instances import UnknownConnector

log = logging.getLogger(__name__)


class AddressRefused(InstanceError):
    """The URL's host does not resolve or leads into a private network (not allowed here)."""


class LifecycleError(Exception):
    """A step is not allowed now; ``code`` says which rule: ``not_admin``, ``changed``,
    ``untested``, ``four_eyes`` or ``unapproved``."""

    def __init__(self, code: str) -> None:
        """Keep the rule's code."""
        super().__init__(code)
        self.code = code


class ConnectionFailed(Exception):
    """A connection test did not pass. ``code`` is ``credentials`` (the system refused the
    test login), ``code_needed`` or ``unreachable``: one answer for a closed port, a
    timeout, a refused address, a failed DNS lookup and a reply that is not the system's."""

    def __init__(self, code: str) -> None:
        """Keep the outcome's code."""
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Actor:
    """Who takes a step: a signed-in person, and how (``cli``, the registry file)."""

    user: User | None = None
    via: str | None = None

    @property
    def id(self) -> int | None:
        """Return the person's id, or None when no person is known."""
        return self.user.id if self.user is not None else None


@dataclass(frozen=True, slots=True)
class Policy:
    """What the deployment allows: private backend addresses, and how names resolve."""

    allow_private: bool
    resolve: egress.Resolve = socket.getaddrinfo

    def check(self, base_url: str, settings: Mapping[str, t.Any]) -> None:
        """Refuse the instance's URLs unless private addresses are allowed.

        :raise AddressRefused: for a host that does not resolve or resolves privately.
        """
        if self.allow_private:
            return
        try:
            egress.check_all(egress.urls_in(base_url, settings), resolve=self.resolve)
        except egress.RefusedAddress as err:
            raise AddressRefused("this address cannot be registered") from err


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """A passed connection test: how many students the test login shows, and the sections."""

    students: int
    sections: frozenset[Section]


def record(
    session: Session,
    instance: ConnectorInstance,
    kind: str,
    *,
    by: Actor,
    now: dt.datetime,
    detail: str | None = None,
) -> None:
    """Add a step to the instance's audit log."""
    audit.record_instance(
        session, instance, kind, now=now, actor_id=by.id, via=by.via, detail=detail
    )


def state(instance: ConnectorInstance) -> str:
    """Return ``enabled``, ``disabled``, ``untested`` or ``awaiting_approval``."""
    if instance.enabled:
        return "enabled"
    if instance.approved_at is not None:
        return "disabled"
    return "awaiting_approval" if instance.checked_at is not None else "untested"


def awaiting(session: Session) -> list[ConnectorInstance]:
    """Return the instances not approved yet, oldest change first (the administrator's list)."""
    return list(
        session.scalars(
            select(ConnectorInstance)
            .where(ConnectorInstance.approved_at.is_(None))
            .order_by(ConnectorInstance.changed_at, ConnectorInstance.key)
        )
    )


def _validated(
    pool: ConnectorPool, connector: str, base_url: str, settings: Mapping[str, t.Any]
) -> None:
    try:
        cls = pool.connector_class(connector)
    except UnknownConnector as err:
        raise InstanceError(f"no connector named {connector!r} is installed") from err
    try:
        cls.from_settings(base_url, dict(settings))
    except ValueError as err:
        raise InstanceError(f"the {connector} connector refuses these settings: {err}") from err


def register(
    session: Session,
    *,
    pool: ConnectorPool,
    key: str,
    region_code: str,
    region_name: str,
    connector: str,
    base_url: str,
    settings: Mapping[str, t.Any],
    by: Actor,
    now: dt.datetime,
    policy: Policy,
    timezone: str = "Europe/Moscow",
    concurrency_limit: int = 8,
) -> ConnectorInstance:
    """Register an instance, not yet offered to parents: it awaits its test and approval.

    :raise InstanceError: for an unknown connector type, a taken key or bad settings.
    :raise AddressRefused: for an address the deployment does not allow.
    """
    _validated(pool, connector, base_url, settings)
    if session.scalar(select(ConnectorInstance).where(ConnectorInstance.key == key)):
        raise InstanceError(f"an instance with key {key!r} already exists")
    policy.check(base_url, settings)
    instance = ConnectorInstance(
        key=key,
        region_code=region_code,
        region_name=region_name,
        connector=connector,
        base_url=base_url.rstrip("/"),
        settings=dict(settings),
        timezone=timezone,
        concurrency_limit=concurrency_limit,
        enabled=False,
        changed_by_id=by.id,
        changed_at=now,
    )
    session.add(instance)
    session.flush()
    record(session, instance, "registered", by=by, now=now, detail=instance.base_url)
    return instance


def repoint(
    session: Session,
    instance: ConnectorInstance,
    *,
    pool: ConnectorPool,
    base_url: str,
    by: Actor,
    now: dt.datetime,
    policy: Policy,
) -> None:
    """Give the instance a new base URL; it stops being offered until tested and approved.

    :raise InstanceError: when the connector refuses the URL.
    :raise AddressRefused: for an address the deployment does not allow.
    """
    _validated(pool, instance.connector, base_url, instance.settings)
    policy.check(base_url, instance.settings)
    before = instance.base_url
    instance.base_url = base_url.rstrip("/")
    instance.enabled = False
    instance.checked_at = instance.approved_at = instance.approved_by_id = None
    instance.changed_by_id, instance.changed_at = by.id, now
    record(session, instance, "repointed", by=by, now=now, detail=f"{before} → {instance.base_url}")


def check_connection(
    session: Session,
    instance: ConnectorInstance,
    *,
    pool: ConnectorPool,
    login: str,
    password: str,
    school: str | None = None,
    code: str | None = None,
    by: Actor,
    now: dt.datetime,
) -> CheckResult:
    """Sign in with a test login and list the students; record the outcome.

    A system that asks for a one-time code gets ``code``; without one the test ends
    ``code_needed``. The console and ``flask connectors check`` both test here.

    :raise ConnectionFailed: the outcome is recorded too (the caller commits either way).
    """
    credentials = Credentials(login=login, password=password, school=school or None)
    try:
        connector = pool.for_instance(instance)
        students = connector.students(_signed_in(connector, credentials, code))
    except ConnectionFailed as failed:
        record(session, instance, "check_failed", by=by, now=now)
        raise failed
    except InvalidCredentials as err:
        record(session, instance, "check_failed", by=by, now=now)
        raise ConnectionFailed("credentials") from err
    except (ConnectorError, UnknownConnector, ValueError, requests.RequestException) as err:
        log.info("connection test of %s failed: %s", instance.key, type(err).__name__)
        record(session, instance, "check_failed", by=by, now=now)
        raise ConnectionFailed("unreachable") from err
    instance.checked_at = now
    record(session, instance, "check_passed", by=by, now=now)
    return CheckResult(students=len(students), sections=sections_of(connector))


def _signed_in(connector: t.Any, credentials: Credentials, code: str | None) -> t.Any:
    try:
        return connector.login(credentials)
    except SecondFactorRequired as asked:
        if code is None or not isinstance(connector, ConfirmsSecondFactor):
            raise ConnectionFailed("code_needed") from None
        return connector.confirm_second_factor(asked.challenge, code)


def at_address(instance: ConnectorInstance, url: str) -> bool:
    """Tell whether ``url`` is the instance's current base URL (a trailing slash aside)."""
    return url.strip().rstrip("/") == instance.base_url


def approve(
    session: Session,
    instance: ConnectorInstance,
    *,
    seen_url: str,
    by: Actor,
    now: dt.datetime,
) -> None:
    """Approve the instance at ``seen_url``, the address the approver reviewed, and offer
    it to parents.

    :raise LifecycleError: ``not_admin``, ``changed`` (the instance is at another address
        now: it was re-pointed after the approver looked), ``untested`` (no passing test
        since the last change) or ``four_eyes`` (the approver made the change, or is
        unknown).
    """
    if by.user is None or not roles.is_admin(session, by.user):
        raise LifecycleError("not_admin")
    # Read the row again, and hold it until the commit: a re-point that lands between the
    # approver's page and this write must not be approved unseen.
    session.refresh(instance, with_for_update=True)
    if not at_address(instance, seen_url):
        raise LifecycleError("changed")
    if instance.checked_at is None:
        raise LifecycleError("untested")
    if by.id == instance.changed_by_id:
        raise LifecycleError("four_eyes")
    instance.approved_by_id, instance.approved_at = by.id, now
    instance.enabled = True
    record(session, instance, "approved", by=by, now=now, detail=instance.base_url)


def set_enabled(
    session: Session, instance: ConnectorInstance, enabled: bool, *, by: Actor, now: dt.datetime
) -> None:
    """Offer an approved instance to parents again, or stop offering any instance.

    :raise LifecycleError: ``unapproved`` for enabling an instance not approved yet.
    """
    if enabled and needs_approval(instance):
        raise LifecycleError("unapproved")
    instance.enabled = enabled
    record(session, instance, "enabled" if enabled else "disabled", by=by, now=now)


def needs_approval(instance: ConnectorInstance) -> bool:
    """Tell whether the instance is new or re-pointed and not approved since."""
    return instance.approved_at is None


def enable(
    session: Session,
    instance: ConnectorInstance,
    *,
    by: Actor,
    now: dt.datetime,
    seen_url: str | None = None,
) -> None:
    """Offer the instance to parents: again, or for the first time by approving it.

    ``seen_url`` is the address the person reviewed. An instance awaiting approval is
    approved at it (four eyes, see :func:`approve`); without it, it stays ``unapproved``.
    An approved one is enabled, unless it is at another address than the one reviewed.

    :raise LifecycleError: ``unapproved``, ``changed`` or what :func:`approve` raises.
    """
    if needs_approval(instance) and seen_url is not None:
        approve(session, instance, seen_url=seen_url, by=by, now=now)
    elif seen_url is not None and not at_address(instance, seen_url):
        raise LifecycleError("changed")
    else:
        set_enabled(session, instance, True, by=by, now=now)
