"""Proof bundles: what the gateway showed of a child, and the proofs that its log holds it.

A bundle is JSON::

    {"format": "diary-gateway-proof/1", "origin": ..., "checkpoint": <signed note>,
     "subject": <the child's pseudonym>, "query": {...},
     "entries": [{"index": 41, "leaf": <the leaf's JSON text>, "salt": <hex>,
                  "record_key": ..., "payload": {...} | null, "inclusion": [<hex>, ...]}],
     "consistency": [{"size": 30, "root": <base64>, "proof": [<hex>, ...]}],
     "timestamp": <base64 RFC 3161 TimeStampResp over the checkpoint> | null}

Checking one means: a trusted key signed the checkpoint; each entry's record key and
payload, salted, give the commitments in its leaf; the leaf is the subject's; and the
inclusion path leads from the leaf to the checkpoint's root. Each ``consistency`` item
proves that the checkpoint extends an older one, which a saved copy can then be held to.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import typing as t
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence

from cryptography import x509

from verifier import checkpoint as notes
from verifier import leaves
from verifier import merkle
from verifier import timestamp as stamps

FORMAT = "diary-gateway-proof/1"


class BundleError(ValueError):
    """The bundle does not prove what it says."""


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """One checked entry: a state of a record, as the log holds it."""

    index: int
    section: str
    record_key: str
    revision: int
    kind: str
    seen: str
    payload: Mapping[str, t.Any] | None


@dataclasses.dataclass(frozen=True, slots=True)
class Verified:
    """What a bundle proved."""

    checkpoint: notes.Checkpoint
    subject: str
    query: Mapping[str, t.Any]
    entries: tuple[Entry, ...]
    consistent_with: tuple[int, ...]  # the older sizes the checkpoint was shown to extend
    # The timestamping authority's time for the checkpoint: None when not asked to check
    # (no roots given); ``carries_timestamp`` says whether there was one to check.
    timestamped_at: dt.datetime | None
    carries_timestamp: bool


def verify(
    document: Mapping[str, t.Any],
    keys: Iterable[notes.VerifierKey],
    *,
    saved: notes.Checkpoint | None = None,
    tsa_roots: Sequence[x509.Certificate] = (),
) -> Verified:
    """Check a bundle against trusted keys and, when given, a checkpoint saved earlier and
    the root certificates of the timestamping authority (which then must have stamped it).

    :raise BundleError: anything in it fails.
    """
    if document.get("format") != FORMAT:
        raise BundleError(f"not a {FORMAT} bundle")
    try:
        head = notes.verify(str(document["checkpoint"]), keys, origin=document.get("origin"))
    except notes.CheckpointError as err:
        raise BundleError(str(err)) from err
    subject = str(document["subject"])
    entries = tuple(_entry(item, head, subject) for item in document.get("entries", ()))
    extended = _consistency(head, document.get("consistency", ()))
    if saved is not None:
        _hold_to(saved, head, extended)
    token = document.get("timestamp")
    stamped = None
    if tsa_roots:
        if not token:
            raise BundleError("the checkpoint carries no RFC 3161 timestamp")
        try:
            stamped = stamps.verify(str(document["checkpoint"]), str(token), tsa_roots)
        except stamps.TimestampError as err:
            raise BundleError(str(err)) from err
    return Verified(
        checkpoint=head,
        subject=subject,
        query=dict(document.get("query") or {}),
        entries=entries,
        consistent_with=tuple(sorted(extended)),
        timestamped_at=stamped,
        carries_timestamp=bool(token),
    )


def _entry(item: Mapping[str, t.Any], head: notes.Checkpoint, subject: str) -> Entry:
    index = int(item["index"])
    text = str(item["leaf"])
    said = json.loads(text)
    salt = bytes.fromhex(item["salt"])
    key, payload = str(item["record_key"]), item.get("payload")
    where = f"entry {index}"
    if said.get("v") != leaves.VERSION or said.get("kind") not in leaves.KINDS:
        raise BundleError(f"{where}: not a leaf of this format")
    if said.get("subject") != subject:
        raise BundleError(f"{where}: the leaf is of another child")
    if said.get("record") != leaves.record_commitment(salt, key):
        raise BundleError(f"{where}: the record key does not match the leaf")
    content = None if payload is None else leaves.content_commitment(salt, payload)
    if said.get("content") != content:
        raise BundleError(f"{where}: the record's content does not match the leaf")
    path = [bytes.fromhex(step) for step in item.get("inclusion", ())]
    try:
        merkle.verify_inclusion(index, head.size, merkle.leaf_hash(text.encode()), path, head.root)
    except merkle.ProofError as err:
        raise BundleError(f"{where}: {err}") from err
    return Entry(
        index=index,
        section=str(said["section"]),
        record_key=key,
        revision=int(said["revision"]),
        kind=str(said["kind"]),
        seen=str(said["seen"]),
        payload=payload,
    )


def _consistency(head: notes.Checkpoint, items: Iterable[Mapping[str, t.Any]]) -> dict[int, bytes]:
    """Check each proof that the head extends an older tree; return the older roots by size."""
    extended: dict[int, bytes] = {}
    for item in items:
        size, root = int(item["size"]), base64.b64decode(item["root"])
        path = [bytes.fromhex(step) for step in item.get("proof", ())]
        try:
            merkle.verify_consistency(size, head.size, root, head.root, path)
        except merkle.ProofError as err:
            raise BundleError(f"consistency with the tree of {size}: {err}") from err
        extended[size] = root
    return extended


def _hold_to(
    saved: notes.Checkpoint, head: notes.Checkpoint, extended: Mapping[int, bytes]
) -> None:
    """Check that a checkpoint kept earlier is the head, or an older tree the head extends."""
    if saved.origin != head.origin:
        raise BundleError("the saved checkpoint is of another log")
    if saved.size == head.size:
        if saved.root != head.root:
            raise BundleError("the saved checkpoint and the bundle's disagree: the log forked")
        return
    if saved.size > head.size:
        raise BundleError(
            f"the saved checkpoint ({saved.size}) is newer than the bundle's ({head.size}):"
            " download the bundle again"
        )
    if saved.size not in extended:
        raise BundleError(
            f"the bundle carries no consistency proof from the saved size {saved.size}"
        )
    if extended[saved.size] != saved.root:
        raise BundleError("the saved checkpoint's root is not the one the log extended")
