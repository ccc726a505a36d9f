"""Throttle one client address that fails to sign in too often, whichever accounts it tries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idp_mock.account_models import FailureCounter


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressPolicy:
    """Block an address for `seconds` once it failed `attempts` times within `seconds`."""

    attempts: int = 20
    seconds: int = 900


def _key(address: str) -> str:
    return "address:" + address[:64]


def blocked_until(session: Session, address: str, *, now: int) -> int | None:
    """Return until when the address may not sign in, or None when it may."""
    counter = session.get(FailureCounter, _key(address))
    if counter is None or counter.locked_until <= now:
        return None
    return counter.locked_until


def count_failure(session: Session, address: str, *, now: int, policy: AddressPolicy) -> None:
    """Count one failed password or code from the address; block it once over the policy."""
    counter = session.get(FailureCounter, _key(address))
    if counter is None:
        counter = FailureCounter(key=_key(address), failed_logins=0, locked_until=0, window_start=0)
        session.add(counter)
    if now - counter.window_start >= policy.seconds:
        counter.failed_logins = 0
        counter.window_start = now
    counter.failed_logins += 1
    if counter.failed_logins >= policy.attempts:
        counter.failed_logins = 0
        counter.locked_until = now + policy.seconds
        counter.window_start = now
    session.commit()
