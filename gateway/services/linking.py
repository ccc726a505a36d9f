"""Link children to a parent with school-issued credentials verified by the backend."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Connector
from connectors.base import Credentials
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import LinkStatus
from gateway.models import SchoolCredential
from gateway.models import User
from gateway.services.backend import seal_session
from gateway.services.vault import Vault


class NoStudents(Exception):
    """The school accepted the login but it shows no students."""


def link_children(
    session: Session,
    *,
    user: User,
    instance: ConnectorInstance,
    credentials: Credentials,
    connector: Connector,
    vault: Vault,
    now: dt.datetime,
) -> list[ChildLink]:
    """Verify the credentials with the backend, store them encrypted and link every student.

    Nothing is stored unless the backend accepts the login and lists students; connector
    errors propagate unchanged for the caller to explain.

    :raise NoStudents: when the login shows no students.
    """
    backend_session = connector.login(credentials)
    students = connector.students(backend_session)
    if not students:
        raise NoStudents
    credential = SchoolCredential(
        user_id=user.id,
        instance_id=instance.id,
        secret=vault.seal_credentials(credentials),
        backend_session=seal_session(vault, backend_session),
        verified_at=now,
    )
    session.add(credential)
    session.flush()
    existing = {
        link.external_id: link
        for link in session.scalars(
            select(ChildLink).where(
                ChildLink.user_id == user.id, ChildLink.instance_id == instance.id
            )
        )
    }
    count = session.scalar(select(func.count(ChildLink.id)).where(ChildLink.user_id == user.id))
    linked: list[ChildLink] = []
    for student in students:
        link = existing.get(student.id)
        if link is None:
            count = (count or 0) + 1
            link = ChildLink(
                user_id=user.id,
                instance_id=instance.id,
                external_id=student.id,
                display_name=f"Child{count}",
                position=count,
            )
            session.add(link)
        link.full_name = student.full_name
        link.school = student.school
        link.class_name = student.class_name
        link.credential_id = credential.id
        link.status = LinkStatus.ACTIVE
        linked.append(link)
    session.flush()
    return linked
