"""What one leaf of the log says, and how its salted commitments are computed.

A leaf is the canonical JSON (sorted keys, no spaces, UTF-8) of::

    {"v": 1, "subject": <the child's pseudonym in this log>, "section": "grades",
     "record": <commitment to the record's key>, "revision": 3,
     "kind": "observed" | "added" | "modified" | "removed",
     "seen": "2026-11-12T15:04:05Z", "content": <commitment to the record> | null}

A commitment is SHA-256 of a tag, the leaf's own random salt and the data. Without the salt
a leaf tells nothing of the record (not even a «5» on a known day can be guessed and
checked); with the salt, which only a proof bundle carries, anyone can check it.
"""

from __future__ import annotations

import hashlib
import json
import typing as t

VERSION = 1
KINDS = frozenset({"observed", "added", "modified", "removed"})
RECORD_TAG = b"diary-gateway record\x00"
CONTENT_TAG = b"diary-gateway content\x00"


def canonical(value: t.Any) -> bytes:
    """Return the canonical JSON of a value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_commitment(salt: bytes, record_key: str) -> str:
    """Return the hex commitment to a record's key under a salt."""
    return hashlib.sha256(RECORD_TAG + salt + record_key.encode()).hexdigest()


def content_commitment(salt: bytes, payload: t.Any) -> str:
    """Return the hex commitment to a record's content under a salt."""
    return hashlib.sha256(CONTENT_TAG + salt + canonical(payload)).hexdigest()


def leaf(
    *,
    subject: str,
    section: str,
    record_key: str,
    revision: int,
    kind: str,
    seen: str,
    salt: bytes,
    payload: t.Any | None,
) -> bytes:
    """Return the leaf that records one state of a record (``payload`` None: removed)."""
    return canonical(
        {
            "v": VERSION,
            "subject": subject,
            "section": section,
            "record": record_commitment(salt, record_key),
            "revision": revision,
            "kind": kind,
            "seen": seen,
            "content": None if payload is None else content_commitment(salt, payload),
        }
    )
