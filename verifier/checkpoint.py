"""Checkpoints: a log's size and root in the C2SP signed-note format, signed with Ed25519.

A checkpoint reads (https://c2sp.org/tlog-checkpoint)::

    <origin>
    <tree size>
    <base64 root hash>
    [extension lines]

    — <key name> <base64 of the 4-byte key id and the 64-byte signature>

The signature covers every line above the blank one, newlines included. A verifier key
reads ``<name>+<key id in hex>+<base64 of 0x01 and the 32-byte public key>``
(https://c2sp.org/signed-note); the key id is the first four bytes of SHA-256 of the name,
a newline, 0x01 and the public key, so one name can carry several keys across a rotation.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ED25519 = b"\x01"
DASH = "\u2014"


class CheckpointError(ValueError):
    """A checkpoint is malformed, or no trusted key signed it."""


@dataclasses.dataclass(frozen=True, slots=True)
class VerifierKey:
    """A public key that may sign the log's checkpoints."""

    name: str
    key_id: bytes
    public: Ed25519PublicKey

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Read a verifier key from its ``name+id+key`` text.

        :raise CheckpointError: it is not one.
        """
        try:
            name, key_id, encoded = text.strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
            identity = bytes.fromhex(key_id)
        except (ValueError, binascii.Error) as err:
            raise CheckpointError("not a verifier key (name+id+key)") from err
        if len(raw) != 33 or raw[:1] != ED25519 or len(identity) != 4:
            raise CheckpointError("not an Ed25519 verifier key")
        public = Ed25519PublicKey.from_public_bytes(raw[1:])
        if key_id_of(name, raw[1:]) != identity:
            raise CheckpointError("the verifier key's id does not match its name and key")
        return cls(name, identity, public)


def key_id_of(name: str, public_bytes: bytes) -> bytes:
    """Return the 4-byte id of an Ed25519 key under a name."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_bytes).digest()[:4]


@dataclasses.dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a signed checkpoint says: whose log, how many leaves, and their root."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...]
    signed_text: str
    signatures: tuple[tuple[str, bytes], ...]  # (key name, key id + signature)

    def extension(self, word: str) -> str | None:
        """Return the rest of the first extension line that starts with ``word``."""
        for line in self.extensions:
            head, _, rest = line.partition(" ")
            if head == word:
                return rest
        return None


def parse(note: str) -> Checkpoint:
    """Read a signed checkpoint without checking its signatures.

    :raise CheckpointError: it is malformed.
    """
    text, separator, signature_block = note.partition("\n\n")
    if not separator or not signature_block.endswith("\n"):
        raise CheckpointError("a checkpoint ends in a blank line and its signatures")
    lines = text.split("\n")
    if len(lines) < 3:
        raise CheckpointError("a checkpoint has an origin, a size and a root")
    origin, size, root, *extensions = lines
    try:
        count = int(size)
        digest = base64.b64decode(root, validate=True)
    except (ValueError, binascii.Error) as err:
        raise CheckpointError("a checkpoint's size or root does not read") from err
    if count < 0 or str(count) != size or len(digest) != 32:
        raise CheckpointError("a checkpoint's size or root does not read")
    return Checkpoint(
        origin=origin,
        size=count,
        root=digest,
        extensions=tuple(extensions),
        signed_text=text + "\n",
        signatures=tuple(_signatures(signature_block)),
    )


def _signatures(block: str) -> Iterable[tuple[str, bytes]]:
    for line in block.rstrip("\n").split("\n"):
        dash, _, rest = line.partition(" ")
        name, _, encoded = rest.rpartition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error as err:
            raise CheckpointError("a signature line does not read") from err
        if dash != DASH or not name or len(blob) < 5:
            raise CheckpointError("a signature line does not read")
        yield name, blob


def verify(note: str, keys: Iterable[VerifierKey], *, origin: str | None = None) -> Checkpoint:
    """Read a checkpoint and check that one of ``keys`` signed it.

    :raise CheckpointError: it is malformed, of another log, or no key signed it.
    """
    checkpoint = parse(note)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"the checkpoint is of {checkpoint.origin!r}, not {origin!r}")
    for key in keys:
        for name, blob in checkpoint.signatures:
            if name != key.name or blob[:4] != key.key_id:
                continue
            try:
                key.public.verify(blob[4:], checkpoint.signed_text.encode())
            except InvalidSignature as err:
                raise CheckpointError(f"the signature of {name} does not verify") from err
            return checkpoint
    raise CheckpointError("no trusted key signed the checkpoint")
