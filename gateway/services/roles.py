"""Who is an administrator, and who operates which region: the one place that decides.

Every operator view asks :func:`require_region` (or :func:`operator_regions`) before it
touches a region's connector instances or applications. Operators are not parents of the
region's children: nothing here opens a child's diary (that is ``services.access``).

Roles may be granted before the person's first sign-in, to a verified phone or e-mail; the
callback claims them at sign-in (:func:`claim_pending`).
"""

from __future__ import annotations

import datetime as dt
import tomllib
import typing as t
from pathlib import Path

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import RoleKind
from gateway.models import StaffRole
from gateway.models import User
from gateway.services import upserts


class RegionForbidden(LookupError):
    """This person does not operate that region (looks like "not found" to them)."""


class RoleError(ValueError):
    """A role cannot be granted as asked; the message says why."""


def _held(session: Session, user: User) -> list[StaffRole]:
    return list(session.scalars(select(StaffRole).where(StaffRole.user_id == user.id)))


def is_admin(session: Session, user: User) -> bool:
    """Tell whether the person is an administrator."""
    return any(role.kind is RoleKind.ADMIN for role in _held(session, user))


def operator_regions(session: Session, user: User) -> set[str]:
    """Return the region codes the person operates (none for a parent)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return {
        role.region_code
        for role in _held(session, user)
        if role.kind is RoleKind.OPERATOR and role.region_code
    }


def is_operator(session: Session, user: User) -> bool:
    """Tell whether the person operates any region (asked on every page, so one row)."""
    if not getattr(user, "is_authenticated", False):
        return False
    found = session.scalar(
        select(StaffRole.id)
        .where(
            StaffRole.user_id == user.id,
            StaffRole.kind == RoleKind.OPERATOR,
            StaffRole.region_code.is_not(None),
        )
        .limit(1)
    )
    return found is not None


def require_region(session: Session, user: User, region_code: str) -> None:
    """Let an operator act on a region only if it is one of theirs.

    :raise RegionForbidden: otherwise.
    """
    if region_code not in operator_regions(session, user):
        raise RegionForbidden(region_code)


def _normalized_phone(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    return "+" + digits if digits else ""


def find_person(session: Session, person: str) -> User | None:
    """Find a signed-in person by subject, phone or e-mail."""
    person = person.strip()
    matches = [User.subject == person, User.email == person.lower()]
    if "@" not in person and (phone := _normalized_phone(person)):
        matches.append(User.phone == phone)
    return session.scalars(select(User).where(or_(*matches)).order_by(User.id)).first()


def appoint_operator(
    session: Session, person: str, *, region_code: str, by: str | None, now: dt.datetime
) -> StaffRole:
    """Make a person (subject, phone or e-mail) a region's operator; see :func:`grant`."""
    return grant(session, person, RoleKind.OPERATOR, region_code=region_code, by=by, now=now)


def grant(
    session: Session,
    person: str,
    kind: RoleKind,
    *,
    region_code: str | None = None,
    by: str | None = None,
    now: dt.datetime,
) -> StaffRole:
    """Grant a role to a person (subject, phone or e-mail); idempotent.

    A person who has not signed in yet gets it waiting on their phone or e-mail.

    :raise RoleError: for an operator without a region, or an unknown subject.
    """
    if kind is RoleKind.OPERATOR and not region_code:
        raise RoleError("an operator role needs a region code")
    region = region_code if kind is RoleKind.OPERATOR else None
    user = find_person(session, person)
    where = {"user_id": user.id} if user else _contact(person)
    # Granting what is already granted is a no-op, also when two grants race
    # (the unique index uq_staff_roles_holder).
    session.execute(
        upserts.insert(session, StaffRole)
        .values(kind=kind, region_code=region, granted_at=now, granted_by=by, **where)
        .on_conflict_do_nothing()
    )
    role = session.scalar(
        select(StaffRole).filter_by(kind=kind, region_code=region, **where).order_by(StaffRole.id)
    )
    assert role is not None
    return role


def _contact(person: str) -> dict[str, t.Any]:
    person = person.strip()
    if "@" in person:
        return {"email": person.lower()}
    phone = _normalized_phone(person)
    if len(phone) < 8:
        raise RoleError(f"no signed-in person {person!r}; give a phone or an e-mail")
    return {"phone": phone}


def revoke(session: Session, person: str, kind: RoleKind, *, region_code: str | None) -> int:
    """Take a role away; return how many grants ended."""
    user = find_person(session, person)
    where = {"user_id": user.id} if user else _contact(person)
    region = region_code if kind is RoleKind.OPERATOR else None
    found = select(StaffRole).filter_by(kind=kind, region_code=region, **where)
    rows = list(session.scalars(found))
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def claim_pending(session: Session, user: User) -> int:
    """Bind roles waiting on the person's verified phone or e-mail; return how many."""
    contacts = [StaffRole.phone == user.phone] if user.phone else []
    if user.email:
        contacts.append(StaffRole.email == user.email.lower())
    if not contacts:
        return 0
    waiting = list(
        session.scalars(select(StaffRole).where(StaffRole.user_id.is_(None), or_(*contacts)))
    )
    for role in waiting:
        role.user_id = user.id
    session.flush()
    return len(waiting)


def load_file(session: Session, path: Path, *, now: dt.datetime) -> list[StaffRole]:
    """Grant the roles a TOML file declares (``[[admin]] person`` and
    ``[[operator]] person, region_code``)."""
    with path.open("rb") as fh:
        declared = tomllib.load(fh)
    granted = [
        grant(session, entry["person"], RoleKind.ADMIN, by=str(path), now=now)
        for entry in declared.get("admin", [])
    ]
    granted += [
        grant(
            session,
            entry["person"],
            RoleKind.OPERATOR,
            region_code=str(entry["region_code"]),
            by=str(path),
            now=now,
        )
        for entry in declared.get("operator", [])
    ]
    return granted


def all_roles(session: Session) -> list[StaffRole]:
    """Return every role, for the administrator's list."""
    return list(session.scalars(select(StaffRole).order_by(StaffRole.kind, StaffRole.region_code)))
