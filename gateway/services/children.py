"""Name, rename, reorder and unlink the children a parent follows."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import ChildLink
from gateway.models import SchoolCredential
from gateway.models import User
from gateway.services.access import children_of
from gateway.services.text import has_control_characters


class InvalidName(ValueError):
    """A display name is empty, too long or holds control characters."""


MAX_NAME = 40
DEFAULT_NAME = "Child{n}"


def clean_name(name: str) -> str:
    """Return a display name with its spacing tidied.

    :raise InvalidName: for an empty or over-long name, or one with control characters.
    """
    if has_control_characters(name):
        raise InvalidName("control characters")
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME:
        raise InvalidName(cleaned)
    return cleaned


def rename(link: ChildLink, name: str) -> None:
    """Give a child the name the parent wants to see.

    :raise InvalidName: as :func:`clean_name`.
    """
    link.display_name = clean_name(name)


def free_names(session: Session, user: User, taken: Iterable[str] = ()) -> Iterable[str]:
    """Yield Child1, Child2, … skipping the names the parent's children already have."""
    used = set(taken) | set(
        session.scalars(select(ChildLink.display_name).where(ChildLink.user_id == user.id))
    )
    for n in itertools.count(1):
        if (name := DEFAULT_NAME.format(n=n)) not in used:
            used.add(name)
            yield name


def next_free_name(session: Session, user: User) -> str:
    """Return the name a newly linked child gets unless the parent types another."""
    return next(iter(free_names(session, user)))


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
