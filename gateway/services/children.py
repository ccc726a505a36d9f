"""Rename, reorder and unlink the children a parent follows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import ChildLink
from gateway.models import SchoolCredential
from gateway.services.access import children_of


class InvalidName(ValueError):
    """A display name is empty or too long."""


MAX_NAME = 40


def rename(link: ChildLink, name: str) -> None:
    """Give a child the name the parent wants to see.

    :raise InvalidName: for an empty or over-long name.
    """
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME:
        raise InvalidName(cleaned)
    link.display_name = cleaned


def move(session: Session, link: ChildLink, offset: int) -> None:
    """Move a child up (-1) or down (+1) in the parent's order."""
    ordered = children_of(session, link.user)
    index = ordered.index(link)
    target = min(max(index + offset, 0), len(ordered) - 1)
    ordered.insert(target, ordered.pop(index))
    for position, child in enumerate(ordered, start=1):
        child.position = position
    session.flush()


def unlink(session: Session, link: ChildLink) -> None:
    """Stop following a child; forget credentials that no other child uses."""
    credential_id = link.credential_id
    session.delete(link)
    session.flush()
    if credential_id is None:
        return
    still_used = session.scalar(
        select(ChildLink.id).where(ChildLink.credential_id == credential_id).limit(1)
    )
    if still_used is None:
        credential = session.get(SchoolCredential, credential_id)
        if credential is not None:
            session.delete(credential)
            session.flush()
