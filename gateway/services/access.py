"""Who may see which child: the one check every child-facing view goes through."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import ChildLink
from gateway.models import User


class ChildNotFound(LookupError):
    """No such child, or not one this person may see (the two look the same on purpose)."""


def require_child(session: Session, user: User, child_id: int) -> ChildLink:
    """Return the child link if ``user`` may see it.

    :raise ChildNotFound: when the child does not exist or belongs to someone else.
    """
    link = session.get(ChildLink, child_id)
    if link is None or link.user_id != user.id:
        raise ChildNotFound(child_id)
    return link


def children_of(session: Session, user: User) -> list[ChildLink]:
    """Return the children a person follows, in their chosen order."""
    return list(
        session.scalars(
            select(ChildLink)
            .where(ChildLink.user_id == user.id)
            .order_by(ChildLink.position, ChildLink.id)
        )
    )
