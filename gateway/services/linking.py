"""Link children to a parent once their backend has verified the parent's access.

Three ways lead here: a school-issued login and password, the same plus a one-time code
(a second factor the backend asked for), or the backend's own sign-in page (OAuth2), in
which case the gateway never sees a password.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import BackendSession
from connectors.base import Connector
from connectors.base import Credentials
from connectors.errors import ConnectorError
from connectors.schema import Student
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import LinkStatus
from gateway.models import SchoolCredential
from gateway.models import User
from gateway.services import children
from gateway.services import upserts
from gateway.services.text import without_control_characters
from gateway.services.vault import Vault
from gateway.services.vault import VaultError

# The columns of ChildLink: a backend's longer text must not fail the write.
FULL_NAME, SCHOOL, CLASS_NAME = 255, 255, 32


class NoStudents(Exception):
    """The school accepted the login but it shows no students."""


# What storing a verified access may fail with (nothing is stored then): the backend's
# refusal, or a login that shows no students. Views catch these without naming connectors.
LINK_FAILURES: tuple[type[Exception], ...] = (ConnectorError, NoStudents)


def school_login(login: str, password: str, school: str | None = None) -> Credentials:
    """Return a school-issued login as connectors take it."""
    return Credentials(login, password, school)


@dataclass(frozen=True, slots=True)
class Linked:
    """The children a verified access shows, and which of them were linked just now."""

    children: list[ChildLink]
    new: list[ChildLink]


def _kept(given: str | None, old: str | None, limit: int) -> str | None:
    """Return what a backend gave, cleaned and cut to the column, or the old value."""
    return (without_control_characters(given) or old or "")[:limit] or None


def describe(link: ChildLink, student: Student) -> None:
    """Keep what the backend says of a child; a detail it stops giving keeps its old value."""
    link.full_name = _kept(student.full_name, link.full_name, FULL_NAME) or ""
    link.school = _kept(student.school, link.school, SCHOOL)
    link.class_name = _kept(student.class_name, link.class_name, CLASS_NAME)


def describe_all(links: Iterable[ChildLink], students: Iterable[Student]) -> None:
    """Refresh each link from the student the backend lists under the same id."""
    by_id = {student.id: student for student in students}
    for link in links:
        if link.external_id in by_id:
            describe(link, by_id[link.external_id])


@dataclass(frozen=True, slots=True, kw_only=True)
class Linker:
    """Store a verified access to a backend and the children it shows, for one parent."""

    session: Session
    user: User
    instance: ConnectorInstance
    connector: Connector
    vault: Vault
    now: dt.datetime

    def with_password(self, credentials: Credentials, *, names: Sequence[str] = ()) -> Linked:
        """Sign in with a school-issued login, then link every student it shows.

        Nothing is stored unless the backend accepts the login and lists students; connector
        errors (``SecondFactorRequired`` included) propagate for the caller to handle.

        :raise NoStudents: when the login shows no students.
        """
        granted = self.connector.login(credentials, previous=self.previous_session(credentials))
        return self.verified(credentials, granted, names=names)

    def previous_session(self, credentials: Credentials) -> BackendSession | None:
        """Return the stored session of the same login here, so its device trust is reused."""
        stored = self.session.scalars(
            select(SchoolCredential)
            .where(
                SchoolCredential.user_id == self.user.id,
                SchoolCredential.instance_id == self.instance.id,
                SchoolCredential.backend_session.is_not(None),
            )
            .order_by(SchoolCredential.id.desc())
        )
        for row in stored:
            try:
                known = self.vault.open_credentials(row.secret)
                if known is not None and _same_login(known, credentials) and row.backend_session:
                    return self.vault.open_session(row.backend_session)
            except VaultError:
                continue  # a row no current key opens cannot help; the backend asks again
        return None

    def verified(
        self,
        credentials: Credentials | None,
        backend_session: BackendSession,
        *,
        names: Sequence[str] = (),
    ) -> Linked:
        """Link the students of a session the backend has already granted.

        ``credentials`` is None when the parent signed in on the backend's own page.
        ``names`` name the newly linked students in order (validated by the form); the rest get
        the next free Child1, Child2, …; children linked before keep their names.

        :raise NoStudents: when the session shows no students.
        """
        students = self.connector.students(backend_session)
        if not students:
            raise NoStudents
        credential = SchoolCredential(
            user_id=self.user.id,
            instance_id=self.instance.id,
            secret=self.vault.seal_credentials(credentials),
            backend_session=self.vault.seal_session(backend_session),
            verified_at=self.now,
        )
        self.session.add(credential)
        self.session.flush()
        existing = self._existing_links()
        fresh = [s for s in students if s.id not in existing]
        given = [children.clean_name(name) for name in names]
        chosen = iter(given)
        defaults = iter(children.free_names(self.session, self.user, taken=given))
        position = (
            self.session.scalar(
                select(func.count(ChildLink.id)).where(ChildLink.user_id == self.user.id)
            )
            or 0
        )
        linked: list[ChildLink] = []
        for student in students:
            link = existing.get(student.id)
            if link is None:
                position += 1
                name = next(chosen, None) or next(defaults)
                link = self._new_link(student.id, name, position, student.full_name)
            describe(link, student)
            link.credential_id = credential.id
            link.status = LinkStatus.ACTIVE
            linked.append(link)
        self.session.flush()
        self._forget_unused_credentials()
        new = [link for link in linked if link.external_id in {s.id for s in fresh}]
        return Linked(children=linked, new=new)

    def _new_link(
        self, external_id: str, display_name: str, position: int, full_name: str
    ) -> ChildLink:
        """Insert the child's link unless a linking running at once (a double-submitted
        form) just did; return the row either way."""
        key = {"user_id": self.user.id, "instance_id": self.instance.id, "external_id": external_id}
        statement = upserts.insert(self.session, ChildLink).values(
            **key,
            display_name=display_name,
            position=position,
            full_name=_kept(full_name, None, FULL_NAME) or "",
        )
        self.session.execute(statement.on_conflict_do_nothing(index_elements=list(key)))
        link = self.session.scalar(select(ChildLink).filter_by(**key))
        assert link is not None
        return link

    def _existing_links(self) -> dict[str, ChildLink]:
        links = self.session.scalars(
            select(ChildLink).where(
                ChildLink.user_id == self.user.id, ChildLink.instance_id == self.instance.id
            )
        )
        return {link.external_id: link for link in links}

    def _forget_unused_credentials(self) -> None:
        """Drop this parent's older logins here that no child uses any more (after a relink)."""
        unused = self.session.scalars(
            select(SchoolCredential).where(
                SchoolCredential.user_id == self.user.id,
                SchoolCredential.instance_id == self.instance.id,
                ~SchoolCredential.children.any(),
            )
        )
        for row in unused:
            self.session.delete(row)
        self.session.flush()


def _same_login(known: Credentials, typed: Credentials) -> bool:
    """Tell whether two logins are the same account (login case and spacing aside)."""
    return known.login.strip().casefold() == typed.login.strip().casefold() and (
        (known.school or "").strip().casefold() == (typed.school or "").strip().casefold()
    )
