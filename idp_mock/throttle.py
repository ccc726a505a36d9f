"""Throttle one client address that fails to sign in too often, whichever accounts it tries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idp_mock import counters
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
    key = _key(address)
    counters.ensure_counter(session, key)
    counters.count_failure(
        session,
        FailureCounter,
        FailureCounter.key == key,
        now=now,
        attempts=policy.attempts,
        seconds=policy.seconds,
        window=policy.seconds,
    )
    session.commit()
