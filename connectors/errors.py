"""The small taxonomy of connector failures that the gateway acts on.

Messages never carry personal data: they are logged.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager


class ConnectorError(Exception):
    """Root of every failure a connector reports."""


class InvalidCredentials(ConnectorError):
    """The school-issued login or password was refused: the link needs a relink."""


class SchoolNotFound(InvalidCredentials):
    """The backend knows no school by the name the parent gave (per-school sign-in).

    ``candidates`` are the directory's names of the schools that came closest (several that
    fit, or those sharing a word), for the parent to choose from; empty when none did.
    """

    def __init__(self, message: str, *, candidates: t.Sequence[str] = ()) -> None:
        """Keep the schools to offer instead."""
        super().__init__(message)
        self.candidates = tuple(candidates)


class SchoolNameTooVague(SchoolNotFound):
    """The name says only what kind of school it is («школа», «МБОУ», «№»), and too many fit.

    A lookup never guesses one school from such a name: the parent types more of it.
    """


class AccessDenied(ConnectorError):
    """The account is valid but may not see this data (no rights, licence, disabled)."""


class AccountLocked(AccessDenied):
    """The backend locked the account after failed attempts; retry later."""


class SessionExpired(ConnectorError):
    """The backend session ended; a fresh login with stored credentials may continue."""


class BackendUnavailable(ConnectorError):
    """Timeouts, 5xx, maintenance pages: show cached data as stale."""


class RateLimited(BackendUnavailable):
    """The backend asked us to slow down."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        """Keep how many seconds the backend asked us to wait, when it said."""
        super().__init__(message)
        self.retry_after = retry_after


class UnexpectedResponse(ConnectorError):
    """The backend answered in a shape we do not understand (schema drift)."""


# What reading a JSON body that drifted from the documented shape raises: a missing key or
# item, a value of another type, an unparsable number or date, ``next()`` finding nothing.
DRIFT = (LookupError, TypeError, ValueError, AttributeError, StopIteration)


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Turn schema drift met while reading a backend's answer into ``UnexpectedResponse``.

    ``what`` names the system and the answer (``"NetSchool student/diary"``), never a
    person: the message is logged.
    """
    try:
        yield
    except DRIFT as err:
        raise UnexpectedResponse(f"{what}: unexpected shape ({type(err).__name__})") from err


class SecondFactorRequired(ConnectorError):
    """The backend wants a one-time code (an SMS) before it trusts this device.

    ``challenge`` is opaque, JSON-serializable state that the connector's
    ``confirm_second_factor`` needs to continue; the gateway keeps it encrypted between the
    two steps. ``destination`` is what to show the parent (a masked phone number).
    """

    def __init__(
        self,
        message: str,
        *,
        challenge: Mapping[str, t.Any],
        destination: str | None = None,
        code_length: int | None = None,
    ) -> None:
        """Keep what the gateway needs to ask the parent for the code and continue."""
        super().__init__(message)
        self.challenge = challenge
        self.destination = destination
        self.code_length = code_length


class StudentNotFound(ConnectorError):
    """The backend's roster has no such student (operator-side calls only)."""
