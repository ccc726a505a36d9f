"""Conduct a parent's linking of children, step by step, and say how each step ended.

A step ends «linked» (:class:`Linked`), «needs a code» (:class:`NeedsCode`, the backend sent
a one-time code), «wrong code» (:class:`WrongCode`, another try is left) or refused
(:class:`Refused`, with a :class:`Refusal` the page explains). The flow owns the link that
waits for a code (:mod:`gateway.services.pending`) and everything the vault seals; the view
only turns results into pages, so no connector error or method reaches it.

The caller commits after «linked»; a refused step leaves nothing in the database session.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from connectors.base import AuthorizesInBrowser
from connectors.base import BackendSession
from connectors.base import ConfirmsSecondFactor
from connectors.base import Connector
from connectors.base import Credentials
from connectors.errors import AccessDenied
from connectors.errors import AccountLocked
from connectors.errors import ConnectorError
from connectors.errors import InvalidCredentials
from connectors.errors import SchoolNameTooVague
from connectors.errors import SchoolNotFound
from connectors.errors import SecondFactorRequired
from connectors.errors import SessionExpired
from gateway.cache import Cache
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import User
from gateway.services.instances import ConnectorPool
from gateway.services.linking import Linker
from gateway.services.linking import NoStudents
from gateway.services.pending import PendingLink
from gateway.services.pending import PendingLinks
from gateway.services.vault import Vault

log = logging.getLogger(__name__)


class Refusal(enum.StrEnum):
    """Why a linking step stopped; in every case nothing was stored."""

    NO_STUDENTS = "no_students"  # the login works but shows no students
    SCHOOL_VAGUE = "school_vague"  # the name says only the kind of school; too many fit
    SCHOOL_AMBIGUOUS = "school_ambiguous"  # several schools (or none exactly) fit the name
    SCHOOL_UNKNOWN = "school_unknown"
    CREDENTIALS = "credentials"
    LOCKED = "locked"
    DENIED = "denied"  # the account gives no access to a student's diary
    UNAVAILABLE = "unavailable"
    CODE_ATTEMPTS_USED = "code_attempts_used"  # the backend took no more codes
    CODE_EXPIRED = "code_expired"


@dataclass(frozen=True, slots=True)
class Linked:
    """«Linked»: the children the access shows; ``to_name`` the new ones to name (ids)."""

    children: list[ChildLink]
    to_name: list[int]


@dataclass(frozen=True, slots=True)
class NeedsCode:
    """«Needs a code»: the backend sent one; ``token`` finds the waiting link again."""

    token: str


@dataclass(frozen=True, slots=True)
class WrongCode:
    """The code was wrong and the backend allows another try."""


@dataclass(frozen=True, slots=True)
class Refused:
    """The step failed; ``candidates`` are school names to choose from, if the backend had any."""

    reason: Refusal
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class System:
    """What a page says of the school system: its title, and whether a school is asked for."""

    title: str
    requires_school: bool


Outcome = Linked | NeedsCode | WrongCode | Refused


def refusal_of(err: Exception) -> Refusal:
    """Name why a sign-in or the students' list failed (subclasses before their parents)."""
    if isinstance(err, NoStudents):
        return Refusal.NO_STUDENTS
    if isinstance(err, SchoolNameTooVague):
        return Refusal.SCHOOL_VAGUE
    if isinstance(err, SchoolNotFound):
        return Refusal.SCHOOL_AMBIGUOUS if err.candidates else Refusal.SCHOOL_UNKNOWN
    if isinstance(err, InvalidCredentials):
        return Refusal.CREDENTIALS
    if isinstance(err, AccountLocked):
        return Refusal.LOCKED
    if isinstance(err, AccessDenied):
        return Refusal.DENIED
    return Refusal.UNAVAILABLE


def code_refusal_of(err: ConnectorError) -> Refusal:
    """Name why the code step ended: the login and password were accepted before it."""
    if isinstance(err, InvalidCredentials):
        return Refusal.CODE_ATTEMPTS_USED
    if isinstance(err, SessionExpired):
        return Refusal.CODE_EXPIRED
    return refusal_of(err)


class LinkingFlow:
    """Link the children of one parent at one instance: by password, code or the system's page."""

    def __init__(
        self,
        session: Session,
        *,
        user: User,
        instance: ConnectorInstance,
        pool: ConnectorPool,
        vault: Vault,
        cache: Cache,
        now: dt.datetime,
    ) -> None:
        """Act for ``user`` at ``instance``; waiting links go to ``cache``, sealed by ``vault``."""
        self._session = session
        self._user = user
        self._instance = instance
        self._pool = pool
        self._vault = vault
        self._pending = PendingLinks(cache=cache, vault=vault)
        self._now = now

    @property
    def _connector(self) -> Connector:
        return self._pool.for_instance(self._instance)  # built once, then shared by the pool

    @property
    def system(self) -> System:
        """Describe the instance's school system for the pages."""
        return System(title=self._connector.title, requires_school=self._connector.requires_school)

    @property
    def in_browser(self) -> bool:
        """Tell whether the system can sign parents in on its own page."""
        return isinstance(self._connector, AuthorizesInBrowser)

    def browser_url(self, *, redirect_uri: str, state: str) -> str | None:
        """Return the system's own sign-in page; None unless the gateway is its partner."""
        if not isinstance(self._connector, AuthorizesInBrowser):
            return None
        return self._connector.authorization_url(redirect_uri=redirect_uri, state=state)

    def offers_browser_sign_in(self, *, redirect_uri: str) -> bool:
        """Tell whether the operator registered the gateway as a partner of this system."""
        return bool(self.browser_url(redirect_uri=redirect_uri, state="-"))

    def sign_in(
        self, *, login: str, password: str, school: str | None, name: str
    ) -> Linked | NeedsCode | Refused:
        """Sign in with a school-issued login and link every student it shows, as ``name``.

        A login linked here before brings its stored session, whose trusted device spares
        the parent a second SMS code.
        """
        credentials = Credentials(login=login.strip(), password=password, school=school or None)
        try:
            previous = self._linker().previous_session(credentials)
            granted = self._connector.login(credentials, previous=previous)
        except SecondFactorRequired as asked:
            waiting = PendingLink(
                user_id=self._user.id,
                instance_key=self._instance.key,
                credentials=credentials,
                challenge=asked.challenge,
                destination=asked.destination,
                display_name=name,
            )
            return NeedsCode(self._pending.put(waiting))
        except SchoolNotFound as err:
            return Refused(refusal_of(err), candidates=err.candidates)
        except ConnectorError as err:
            log.info("linking at %s failed: %s", self._instance.key, type(err).__name__)
            return Refused(refusal_of(err))
        return self._finish(credentials, granted, names=[name])

    def pending(self, token: str) -> PendingLink | None:
        """Return the link waiting for a code under ``token``, if it is this parent's, here."""
        found = self._pending.get(token, user_id=self._user.id)
        return found if found is not None and found.instance_key == self._instance.key else None

    def confirm_code(
        self, token: str, pending: PendingLink, *, code: str, name: str
    ) -> Linked | WrongCode | Refused:
        """Send the one-time code; on «linked» or a refusal the waiting link is gone."""
        if not isinstance(self._connector, ConfirmsSecondFactor):
            self._pending.drop(token)
            return Refused(Refusal.UNAVAILABLE)
        try:
            granted = self._connector.confirm_second_factor(pending.challenge, code.strip())
        except SecondFactorRequired as again:
            kept = dataclasses.replace(pending, challenge=again.challenge, display_name=name)
            self._pending.put(kept, token)
            return WrongCode()
        except ConnectorError as err:
            self._pending.drop(token)
            return Refused(code_refusal_of(err))
        self._pending.drop(token)
        return self._finish(pending.credentials, granted, names=[name])

    def complete_in_browser(self, *, code: str, redirect_uri: str) -> Linked | Refused:
        """Finish after the system's own page sent the parent back with ``code``."""
        if not isinstance(self._connector, AuthorizesInBrowser):
            return Refused(Refusal.UNAVAILABLE)
        try:
            granted = self._connector.complete_authorization(code=code, redirect_uri=redirect_uri)
        except ConnectorError as err:
            return Refused(refusal_of(err))
        return self._finish(None, granted)

    def _linker(self) -> Linker:
        return Linker(
            session=self._session,
            user=self._user,
            instance=self._instance,
            connector=self._connector,
            vault=self._vault,
            now=self._now,
        )

    def _finish(
        self,
        credentials: Credentials | None,
        granted: BackendSession,
        names: Sequence[str] = (),
    ) -> Linked | Refused:
        """Store a granted access; the new children not named yet are the parent's to name."""
        try:
            linked = self._linker().verified(credentials, granted, names=names)
        except (ConnectorError, NoStudents) as err:
            self._session.rollback()
            return Refused(refusal_of(err))
        to_name = [c.id for c in linked.new] if len(linked.new) > len(names) else []
        return Linked(children=linked.children, to_name=to_name)
