"""Link children to a parent once their backend has verified the parent's access.

Three ways lead here: a school-issued login and password, the same plus a one-time code
(a second factor the backend asked for), or the backend's own sign-in page (OAuth2), in
which case the gateway never sees a password.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import BackendSession
from connectors.base import Connector
from connectors.base import Credentials
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import LinkStatus
from gateway.models import SchoolCredential
from gateway.models import User
from gateway.services import upserts
from gateway.services.backend import seal_session
from gateway.services.vault import Vault


class NoStudents(Exception):
    """The school accepted the login but it shows no students."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Linker:
    """Store a verified access to a backend and the children it shows, for one parent."""

    session: Session
    user: User
    instance: ConnectorInstance
    connector: Connector
    vault: Vault
    now: dt.datetime

    def with_password(self, credentials: Credentials) -> list[ChildLink]:
        """Sign in with a school-issued login, then link every student it shows.

        Nothing is stored unless the backend accepts the login and lists students; connector
        errors (``SecondFactorRequired`` included) propagate for the caller to handle.

        :raise NoStudents: when the login shows no students.
        """
        return self.verified(credentials, self.connector.login(credentials))

    def verified(
        self, credentials: Credentials | None, backend_session: BackendSession
    ) -> list[ChildLink]:
        """Link the students of a session the backend has already granted.

        ``credentials`` is None when the parent signed in on the backend's own page.

        :raise NoStudents: when the session shows no students.
        """
        students = self.connector.students(backend_session)
        if not students:
            raise NoStudents
        credential = SchoolCredential(
            user_id=self.user.id,
            instance_id=self.instance.id,
            secret=self.vault.seal_credentials(credentials),
            backend_session=seal_session(self.vault, backend_session),
            verified_at=self.now,
        )
        self.session.add(credential)
        self.session.flush()
        existing = self._existing_links()
        count = self.session.scalar(
            select(func.count(ChildLink.id)).where(ChildLink.user_id == self.user.id)
        )
        linked: list[ChildLink] = []
        for student in students:
            link = existing.get(student.id)
            if link is None:
                count = (count or 0) + 1
                link = self._new_link(student.id, f"Child{count}", count, student.full_name)
            link.full_name = student.full_name
            link.school = student.school
            link.class_name = student.class_name
            link.credential_id = credential.id
            link.status = LinkStatus.ACTIVE
            linked.append(link)
        self.session.flush()
        return linked

    def _new_link(
        self, external_id: str, display_name: str, position: int, full_name: str
    ) -> ChildLink:
        """Insert the child's link unless a linking running at once (a double-submitted
        form) just did; return the row either way."""
        key = {"user_id": self.user.id, "instance_id": self.instance.id, "external_id": external_id}
        statement = upserts.insert(self.session, ChildLink).values(
            **key, display_name=display_name, position=position, full_name=full_name
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
