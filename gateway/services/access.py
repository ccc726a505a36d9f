"""Who may see which child, and which sections: the one check every child view uses.

A parent sees every section of the children they linked. A trusted person sees only the
children and sections of their active grants. Everyone else sees nothing, and cannot
tell a child they may not see from one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload

from connectors.schema import Section
from gateway.models import ChildLink
from gateway.models import Grant
from gateway.models import User
from gateway.services import trust


class ChildNotFound(LookupError):
    """No such child, or not one this person may see (the two look the same on purpose)."""


class AccessClosed(Exception):
    """The person's grant to this child was revoked, has expired, or has not opened yet.

    Not a :class:`ChildNotFound`: only someone who held the grant gets it, and their pages
    say what happened to their access rather than that the child does not exist.
    """

    def __init__(self, grant: Grant, status: trust.Status) -> None:
        """Carry the grant and where it stands."""
        super().__init__(grant.id, status.value)
        self.grant = grant
        self.status = status


@dataclass(frozen=True, slots=True)
class ChildAccess:
    """A child this person may see, and how: as the parent, or through a grant."""

    link: ChildLink
    sections: frozenset[Section] | None = None  # None: every section (the parent)
    grant: Grant | None = None

    @property
    def is_owner(self) -> bool:
        """Tell whether the viewer is the parent who linked the child."""
        return self.grant is None

    def allows(self, section: Section) -> bool:
        """Tell whether the viewer may see a section."""
        return self.sections is None or section in self.sections


def require_child(session: Session, user: User, child_id: int, *, now: dt.datetime) -> ChildAccess:
    """Return how ``user`` may see the child, as its parent or through an active grant.

    :raise ChildNotFound: when the child does not exist or is not visible to them.
    :raise AccessClosed: when their grant to it was revoked, expired or is not open yet.
    """
    link = session.get(ChildLink, child_id)
    if link is None:
        raise ChildNotFound(child_id)
    if link.user_id == user.id:
        return ChildAccess(link)
    granted = trust.active_scopes(session, user, now).get(child_id)
    if granted is None:
        closed = trust.closed_grant(session, user, child_id, now=now)
        if closed is not None:
            raise AccessClosed(closed, trust.status_of(closed, now))
        raise ChildNotFound(child_id)
    return ChildAccess(link, granted[0], granted[1])


def require_own_child(session: Session, user: User, child_id: int) -> ChildLink:
    """Return the child if ``user`` linked it (rename, unlink, feeds, invitations).

    :raise ChildNotFound: otherwise, trusted persons included.
    """
    link = session.get(ChildLink, child_id)
    if link is None or link.user_id != user.id:
        raise ChildNotFound(child_id)
    return link


def children_of(session: Session, user: User) -> list[ChildLink]:
    """Return the children a person linked, in their chosen order, with their systems.

    One query: every page that lists children shows each child's region.
    """
    return list(
        session.scalars(
            select(ChildLink)
            .where(ChildLink.user_id == user.id)
            .options(joinedload(ChildLink.instance))
            .order_by(ChildLink.position, ChildLink.id)
        )
    )


def visible_children(session: Session, user: User, *, now: dt.datetime) -> list[ChildAccess]:
    """Return the person's own children, then those shared with them."""
    own = [ChildAccess(link) for link in children_of(session, user)]
    shared = [
        ChildAccess(session.get(ChildLink, link_id), sections, grant)  # type: ignore[arg-type]
        for link_id, (sections, grant) in sorted(trust.active_scopes(session, user, now).items())
    ]
    return own + shared
