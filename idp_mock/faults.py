"""Arm one development fault that spoils the next token or response, for RP negative tests."""

from __future__ import annotations

import threading
import typing as t

from joserfc.jwk import DictKey
from joserfc.jwk import RSAKey

# Faults applied to the next ID token, whichever grant issues it.
ID_TOKEN_FAULTS = frozenset(
    {
        "bad_signature",
        "wrong_iss",
        "wrong_aud",
        "missing_aud",
        "expired",
        "wrong_nonce",
        "unknown_kid",
        "alg_none",
        "missing_sub",
        "missing_iat",
        "wrong_azp",
        "no_kid_multiple_keys",
    }
)
# Faults applied only to the next ID token a refresh issues (OIDC Core §12.2).
REFRESH_FAULTS = frozenset({"refresh_changes_sub", "refresh_changes_iss"})
USERINFO_FAULTS = frozenset({"userinfo_wrong_sub"})
# Faults applied to the RFC 9207 `iss` of the next authorization response.
AUTHORIZATION_FAULTS = frozenset({"missing_iss_param", "wrong_iss_param"})
MODES = ID_TOKEN_FAULTS | REFRESH_FAULTS | USERINFO_FAULTS | AUTHORIZATION_FAULTS


class FaultSwitch:
    """Hold at most one armed fault; the first place it applies to consumes it."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._armed: str | None = None
        self._lock = threading.Lock()
        # no_kid_multiple_keys publishes a decoy key so that JWKS really holds several.
        self.decoys: list[RSAKey] = []

    @property
    def armed(self) -> str | None:
        """Return the armed mode, or None."""
        return self._armed

    def arm(self, mode: str) -> None:
        """Arm a mode for the next matching token or response.

        Raises:
            ValueError: for an unknown mode.
        """
        if mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}")
        with self._lock:
            self._armed = mode

    def clear(self) -> None:
        """Disarm, and stop publishing decoy keys."""
        with self._lock:
            self._armed = None
            self.decoys.clear()

    def take(self, modes: t.AbstractSet[str]) -> str | None:
        """Return and disarm the armed mode if it is one of `modes`, else None."""
        if not self.enabled:
            return None
        with self._lock:
            mode = self._armed
            if mode is None or mode not in modes:
                return None
            self._armed = None
            return mode

    def public_decoys(self) -> list[DictKey]:
        """Return the decoy public keys to publish next to the real ones."""
        return [key.as_dict(private=False) for key in self.decoys]
