"""Trusted persons: invite, accept (identity checked), decline, revoke, and what they see."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
import secrets
import typing as t
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.schema import Section
from gateway.models import ChildLink
from gateway.models import Grant
from gateway.models import GrantScope
from gateway.models import User
from gateway.services import audit
from gateway.services import names
from gateway.services import outbox
from gateway.services.vault import Vault

INVITATION_DAYS = 7
# Access «до 3 декабря» lasts to the end of that day where the family's pages are read.
DAY_ZONE = ZoneInfo("Europe/Moscow")
# What a parent may share, in the order the invitation offers it and every page lists it.
SHAREABLE = (
    Section.SCHEDULE,
    Section.HOMEWORK,
    Section.GRADES,
    Section.ATTENDANCE,
    Section.EVENTS,
    Section.MESSAGES,
    Section.RATING,
)


class Status(enum.StrEnum):
    """Where a grant stands, derived from its timestamps."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    DECLINED = "declined"
    REVOKED = "revoked"
    EXPIRED = "expired"


OPEN_STATES = frozenset({Status.PENDING, Status.ACCEPTED, Status.ACTIVE})


class TrustError(ValueError):
    """A trust action cannot go ahead; the message is a code the views explain."""


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parents_day(now: dt.datetime) -> dt.date:
    """Return the calendar day a parent's «до 3 декабря» is read in: Moscow's, as the pages."""
    return now.astimezone(DAY_ZONE).date()


def status_of(grant: Grant, now: dt.datetime) -> Status:
    """Derive a grant's state at ``now``."""
    if grant.revoked_at is not None:
        return Status.REVOKED
    if grant.declined_at is not None:
        return Status.DECLINED
    if grant.accepted_at is None:
        expired = now >= _aware(grant.invitation_expires_at)
        return Status.EXPIRED if expired else Status.PENDING
    if grant.ends_on is not None and parents_day(now) > grant.ends_on:
        return Status.EXPIRED
    if grant.active_from is not None and now < _aware(grant.active_from):
        return Status.ACCEPTED
    return Status.ACTIVE


def hash_token(token: str) -> str:
    """Return the stored form of an invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def normal_phone(phone: str | None) -> str | None:
    """Reduce a Russian phone number to +7 and ten digits (8... and spaces tolerated)."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    return None


def normal_name(name: str | None) -> str:
    """Compare names the way people write them: case, «ё» and spacing do not matter."""
    return " ".join((name or "").casefold().replace("ё", "е").split())


@dataclass(frozen=True, slots=True, kw_only=True)
class Invitation:
    """What a parent fills in to invite a trusted person."""

    name: str
    phone: str | None
    email: str | None
    scopes: Mapping[int, Collection[Section]]
    ends_on: dt.date | None


def invite(
    session: Session,
    owner: User,
    invitation: Invitation,
    *,
    now: dt.datetime,
    accept_url: str,
    vault: Vault,
) -> tuple[Grant, str]:
    """Create a pending grant and send the single-use link by SMS and e-mail.

    ``accept_url`` contains ``{token}``. Returns the grant and the token. The link is
    sealed with ``vault`` in the outbox until delivered; the grant keeps only its hash.

    :raise TrustError: for a missing name or contact, no sections, a child that is not the
        owner's, or an end date in the past.
    """
    phone = normal_phone(invitation.phone) if invitation.phone else None
    email = (invitation.email or "").strip().lower() or None
    if not normal_name(invitation.name):
        raise TrustError("name")
    if (invitation.phone and phone is None) or not (phone or email):
        raise TrustError("contact")
    chosen = {k: [s.value for s in SHAREABLE if s in v] for k, v in invitation.scopes.items()}
    scopes = {link_id: sections for link_id, sections in chosen.items() if sections}
    if not scopes:
        raise TrustError("scope")
    own = set(session.scalars(select(ChildLink.id).where(ChildLink.user_id == owner.id)))
    if not set(scopes) <= own:
        raise TrustError("scope")
    if invitation.ends_on is not None and invitation.ends_on < parents_day(now):
        raise TrustError("ends_on")
    token = secrets.token_urlsafe(32)
    grant = Grant(
        owner_id=owner.id,
        invitee_name=" ".join(invitation.name.split()),
        invitee_phone=phone,
        invitee_email=email,
        token_hash=hash_token(token),
        created_at=now,
        invitation_expires_at=now + dt.timedelta(days=INVITATION_DAYS),
        ends_on=invitation.ends_on,
        scopes=[GrantScope(link_id=k, sections=v) for k, v in scopes.items()],
    )
    session.add(grant)
    session.flush()
    text = f"{owner.full_name} открывает вам дневник ребёнка в сервисе «Дневники семьи»: "
    _tell_invitee(
        session,
        grant,
        subject="Приглашение в «Дневники семьи»",
        body=text + "{link}",
        now=now,
        payload={"grant": grant.id},
        secrets={"link": accept_url.format(token=token)},
        vault=vault,
    )
    _record(session, grant, "invited", owner.id, now, detail=grant.invitee_name)
    return grant, token


def _tell_invitee(
    session: Session,
    grant: Grant,
    *,
    subject: str,
    body: str,
    now: dt.datetime,
    payload: dict[str, t.Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    vault: Vault | None = None,
) -> None:
    """Send the invitee an SMS and an e-mail, to whichever contacts the invitation has."""
    for channel, recipient in (("sms", grant.invitee_phone), ("email", grant.invitee_email)):
        if recipient:
            outbox.queue(
                session,
                channel=channel,
                recipient=recipient,
                now=now,
                subject=subject,
                body=body,
                payload=payload,
                secrets=secrets,
                vault=vault,
            )


def _record(
    session: Session,
    grant: Grant,
    kind: str,
    actor_id: int,
    now: dt.datetime,
    detail: str | None = None,
) -> None:
    audit.record(
        session,
        owner_id=grant.owner_id,
        kind=kind,
        grant_id=grant.id,
        actor_id=actor_id,
        now=now,
        detail=detail,
    )


def pending_invitation(session: Session, token: str, *, now: dt.datetime) -> Grant | None:
    """Return the grant whose invitation this token is, while it can still be answered.

    An expired invitation keeps its token's hash, but shows its holder nothing any more.
    """
    grant = session.scalar(select(Grant).where(Grant.token_hash == hash_token(token)))
    return grant if grant is not None and status_of(grant, now) is Status.PENDING else None


def mismatch(grant: Grant, person: User) -> str | None:
    """Say why the signed-in person is not the invitee, or None when they are."""
    if normal_name(person.full_name) != normal_name(grant.invitee_name):
        return "name"
    return None if _reached(grant, person) else "contact"


def _reached(grant: Grant, person: User) -> bool:
    """Tell whether the invitation was sent to this person's verified phone or e-mail."""
    phone_ok = grant.invitee_phone and normal_phone(person.phone) == grant.invitee_phone
    email_ok = grant.invitee_email and (person.email or "").lower() == grant.invitee_email
    return bool(phone_ok or email_ok)


def accept(
    session: Session, grant: Grant, person: User, *, now: dt.datetime, delay: dt.timedelta
) -> None:
    """Accept an invitation as the person it names; access opens after ``delay``.

    :raise TrustError: "state" when it is no longer pending, "name" or "contact" when the
        verified identity does not match (the parent is told).
    """
    if status_of(grant, now) is not Status.PENDING or person.id == grant.owner_id:
        raise TrustError("state")
    reason = mismatch(grant, person)
    if reason is not None:
        # Every refusal is audited; the parent gets one SMS per invitation, however often
        # someone with the link tries again (the family page shows the rest).
        if grant.last_refusal is None:
            _tell_owner_of_refusal(session, grant, now=now)
        grant.last_refusal = reason
        _record(session, grant, "refused", person.id, now, detail=reason)
        raise TrustError(reason)
    grant.grantee_id, grant.accepted_at = person.id, now
    grant.active_from, grant.token_hash = now + delay, None
    _record(session, grant, "accepted", person.id, now)


def _tell_owner_of_refusal(session: Session, grant: Grant, *, now: dt.datetime) -> None:
    """Tell the parent by SMS that someone else tried to use their invitation."""
    if grant.owner.phone:
        outbox.queue(
            session,
            channel="sms",
            recipient=grant.owner.phone,
            now=now,
            subject="Приглашение не принято",
            body=f"Приглашение для {grant.invitee_name} не принято: данные не совпали.",
        )


def decline(session: Session, grant: Grant, person: User, *, now: dt.datetime) -> None:
    """Decline an invitation sent to this person (a misspelt name does not stop them)."""
    if status_of(grant, now) is not Status.PENDING or not _reached(grant, person):
        raise TrustError("state")
    grant.declined_at, grant.token_hash = now, None
    _record(session, grant, "declined", person.id, now)


def revoke(session: Session, grant: Grant, *, now: dt.datetime) -> None:
    """Close a grant at once and tell the trusted person."""
    if grant.revoked_at is not None:
        return
    grant.revoked_at, grant.token_hash = now, None
    body = f"{grant.owner.full_name} закрыл(а) вам доступ к дневнику."
    _tell_invitee(session, grant, subject="Доступ закрыт", body=body, now=now)
    _record(session, grant, "revoked", grant.owner_id, now)


def remove_person(session: Session, owner: User, grantee_id: int, *, now: dt.datetime) -> int:
    """Revoke and forget every grant the owner gave this person; return how many."""
    grants = list(
        session.scalars(
            select(Grant).where(Grant.owner_id == owner.id, Grant.grantee_id == grantee_id)
        )
    )
    for grant in grants:
        revoke(session, grant, now=now)
        session.delete(grant)
    audit.record(session, owner_id=owner.id, kind="removed", actor_id=owner.id, now=now)
    return len(grants)


def own_grant(session: Session, owner: User, grant_id: int) -> Grant | None:
    """Return a grant this parent gave; None for another's or none at all."""
    grant = session.get(Grant, grant_id)
    return grant if grant is not None and grant.owner_id == owner.id else None


def held_by(session: Session, owner: User, grantee_id: int) -> Grant | None:
    """Return one grant the owner gave this person, to name them; None when there is none."""
    return session.scalars(
        select(Grant).where(Grant.owner_id == owner.id, Grant.grantee_id == grantee_id)
    ).first()


def given_by(session: Session, owner: User) -> list[Grant]:
    """Return the grants a parent has given, newest first."""
    return list(
        session.scalars(
            select(Grant).where(Grant.owner_id == owner.id).order_by(Grant.created_at.desc())
        )
    )


def addressed_to(session: Session, person: User) -> list[Grant]:
    """Return the grants held by, or invitations addressed to, this person."""
    contact = [Grant.grantee_id == person.id]
    if normal_phone(person.phone):
        contact.append(Grant.invitee_phone == normal_phone(person.phone))
    if person.email:
        contact.append(Grant.invitee_email == person.email.lower())
    return list(
        session.scalars(
            select(Grant)
            .where(or_(*contact), Grant.owner_id != person.id)
            .order_by(Grant.created_at.desc())
        )
    )


def active_scopes(
    session: Session, person: User, now: dt.datetime
) -> dict[int, tuple[frozenset[Section], Grant]]:
    """Map each child link this person may see through a grant to its sections and grant."""
    found: dict[int, tuple[frozenset[Section], Grant]] = {}
    for grant in session.scalars(select(Grant).where(Grant.grantee_id == person.id)):
        if status_of(grant, now) is not Status.ACTIVE:
            continue
        for scope in grant.scopes:
            sections = frozenset(Section(s) for s in scope.sections)
            previous = found.get(scope.link_id)
            if previous is not None:
                sections |= previous[0]
            found[scope.link_id] = (sections, grant)
    return found


def grantees_of(
    session: Session, link_id: int, *, now: dt.datetime
) -> dict[int, frozenset[Section]]:
    """Map each person an active grant lets see this child to the sections it opens."""
    found: dict[int, frozenset[Section]] = {}
    grants = session.scalars(
        select(Grant).join(GrantScope).where(GrantScope.link_id == link_id).distinct()
    )
    for grant in grants:
        if grant.grantee_id is None or status_of(grant, now) is not Status.ACTIVE:
            continue
        for scope in grant.scopes:
            if scope.link_id == link_id:
                sections = frozenset(Section(s) for s in scope.sections)
                found[grant.grantee_id] = found.get(grant.grantee_id, frozenset()) | sections
    return found


def closed_grant(session: Session, person: User, link_id: int, *, now: dt.datetime) -> Grant | None:
    """Return the person's latest grant to this child that is revoked, expired or not open yet.

    Lets their pages say why the diary is closed to them instead of pretending it never was.
    """
    grants = session.scalars(
        select(Grant)
        .join(GrantScope)
        .where(Grant.grantee_id == person.id, GrantScope.link_id == link_id)
        .order_by(Grant.accepted_at.desc(), Grant.id.desc())
    )
    closed = (Status.REVOKED, Status.EXPIRED, Status.ACCEPTED)
    return next((g for g in grants if status_of(g, now) in closed), None)


def ended_grants(session: Session, person: User, *, now: dt.datetime) -> list[tuple[Grant, Status]]:
    """Return each parent's latest accepted grant to this person, when it opens no diary now.

    A trusted person whose access was revoked or has ended then reads why on the family
    page, not an empty family; an accepted grant that opens later is listed with its state.
    """
    held = session.scalars(
        select(Grant)
        .where(Grant.grantee_id == person.id, Grant.accepted_at.is_not(None))
        .order_by(Grant.accepted_at.desc(), Grant.id.desc())
    )
    latest: dict[int, tuple[Grant, Status]] = {}
    for grant in held:
        latest.setdefault(grant.owner_id, (grant, status_of(grant, now)))
    closed = (Status.REVOKED, Status.EXPIRED, Status.ACCEPTED)
    return [(grant, state) for grant, state in latest.values() if state in closed]


def inviters(session: Session, person: User, *, now: dt.datetime) -> list[str]:
    """Name the parents whose open invitations or grants are addressed to this person."""
    found = addressed_to(session, person)
    return sorted({g.owner.full_name for g in found if status_of(g, now) in OPEN_STATES})


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedChild:
    """A child an invitation shares, as far as the link's holder may know before sign-in."""

    account: str
    first_name: str
    sections: tuple[Section, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Preview:
    """What an invitation offers: who invites, which children and sections, until when."""

    owner_name: str
    invitee_name: str
    children: tuple[SharedChild, ...]
    ends_on: dt.date | None
    expires_at: dt.datetime


def _first_name_beside(link: ChildLink) -> str:
    """The child's first name to show beside the account name; empty when it would repeat it."""
    found = names.parts(link.full_name)
    return "" if found is None or link.names_repeat else found.given


def preview(grant: Grant) -> Preview:
    """Describe an invitation to whoever holds its link, before they sign in.

    The link is a bearer secret sent to the invitee, so this names the parent, each child's
    account and first name and the shared sections, and nothing from the diaries.
    """
    children = tuple(
        SharedChild(
            account=scope.link.display_name,
            first_name=_first_name_beside(scope.link),
            sections=tuple(sorted((Section(s) for s in scope.sections), key=SHAREABLE.index)),
        )
        for scope in sorted(grant.scopes, key=lambda scope: scope.link.position)
    )
    return Preview(
        owner_name=grant.owner.full_name,
        invitee_name=grant.invitee_name,
        children=children,
        ends_on=grant.ends_on,
        expires_at=_aware(grant.invitation_expires_at),
    )


# An invitation nobody accepted is kept this long after it expired: its link still says
# «приглашение истекло», and its owner's page lists it.
KEEP_EXPIRED = dt.timedelta(days=30)


def clear_expired(session: Session, *, now: dt.datetime) -> int:
    """Delete invitations nobody accepted that expired ``KEEP_EXPIRED`` ago; return how many.

    The owner's audit log keeps what happened (its rows lose only the link to the grant).
    """
    deleted = session.execute(
        delete(Grant)
        .where(
            Grant.accepted_at.is_(None),
            Grant.invitation_expires_at < now - KEEP_EXPIRED,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(deleted, "rowcount", 0) or 0)
