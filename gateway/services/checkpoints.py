"""The log's signing keys, and the signed checkpoints they make (C2SP signed notes).

Each key in the list signs every checkpoint, so a rotation is: put the new key first and
keep the old one until verifiers hold the new one, then drop the old. All of them are
published (:meth:`Signer.verifier_keys`), and any one verifies. A key is the base64 of an
Ed25519 private key's 32 bytes.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import PublicFormat

from verifier import checkpoint as notes


class SigningKeyError(ValueError):
    """A configured signing key does not read, or the origin cannot name a key."""


def new_key() -> str:
    """Return a fresh signing key, as configured."""
    private = Ed25519PrivateKey.generate()
    return base64.b64encode(private.private_bytes_raw()).decode()


class Signer:
    """Signs the checkpoints of one log (its ``origin``) with every configured key."""

    def __init__(self, origin: str, keys: Sequence[str]) -> None:
        if not origin or any(c.isspace() or c == "+" for c in origin):
            raise SigningKeyError("a log's origin has no spaces and no '+'")
        if not keys:
            raise SigningKeyError("the log needs at least one signing key")
        self.origin = origin
        self._keys = [_private(text) for text in keys]

    def verifier_keys(self) -> list[str]:
        """Return the public keys that verify this log's checkpoints, the current one first."""
        return [self._vkey(key) for key in self._keys]

    def trusted(self) -> list[notes.VerifierKey]:
        """Return the verifier keys, read."""
        return [notes.VerifierKey.parse(text) for text in self.verifier_keys()]

    def sign(self, size: int, root: bytes, *, signed_at: dt.datetime) -> str:
        """Return the signed checkpoint of a tree of ``size`` with ``root``."""
        moment = signed_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = f"{self.origin}\n{size}\n{base64.b64encode(root).decode()}\nsigned-at {moment}\n"
        lines = []
        for key in self._keys:
            public = _public_bytes(key)
            blob = notes.key_id_of(self.origin, public) + key.sign(body.encode())
            lines.append(f"{notes.DASH} {self.origin} {base64.b64encode(blob).decode()}\n")
        return body + "\n" + "".join(lines)

    def _vkey(self, key: Ed25519PrivateKey) -> str:
        public = _public_bytes(key)
        key_id = notes.key_id_of(self.origin, public).hex()
        return f"{self.origin}+{key_id}+{base64.b64encode(notes.ED25519 + public).decode()}"


def _private(text: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PrivateKey.from_private_bytes(raw)
    except (binascii.Error, ValueError) as err:
        raise SigningKeyError("a log signing key is not the base64 of 32 bytes") from err


def _public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
