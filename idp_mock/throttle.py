"""Throttle one client address that fails to sign in too often, whichever accounts it tries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from idp_mock.account_models import FailureCounter


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressPolicy:
    """Block an address for `seconds` once it failed `attempts` times within `seconds`."""

    attempts: int = 20
    seconds: int = 900


def _key(address: str) -> str:
    return "address:" + address[:64]


def failure_counter(session: Session, key: str) -> FailureCounter:
    """Return the counter under ``key``, created at zero; safe when two requests race."""
    found = session.get(FailureCounter, key)
    if found is not None:
        return found
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    fresh = {"key": key, "failed_logins": 0, "locked_until": 0, "window_start": 0}
    session.execute(insert(FailureCounter).values(**fresh).on_conflict_do_nothing())
    return session.get_one(FailureCounter, key)


def blocked_until(session: Session, address: str, *, now: int) -> int | None:
    """Return until when the address may not sign in, or None when it may."""
    counter = session.get(FailureCounter, _key(address))
    if counter is None or counter.locked_until <= now:
        return None
    return counter.locked_until


def count_failure(session: Session, address: str, *, now: int, policy: AddressPolicy) -> None:
    """Count one failed password or code from the address; block it once over the policy."""
    counter = failure_counter(session, _key(address))
    if now - counter.window_start >= policy.seconds:
        counter.failed_logins = 0
        counter.window_start = now
    counter.failed_logins += 1
    if counter.failed_logins >= policy.attempts:
        counter.failed_logins = 0
        counter.locked_until = now + policy.seconds
        counter.window_start = now
    session.commit()
