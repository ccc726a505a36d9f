"""The transparency log: what the sync observed, appended to an RFC 9162 Merkle tree.

Writing is two steps, as in Certificate Transparency's logs. A sync queues one leaf for
every state of a record it stored (:func:`observe`), in its own transaction, so workers
never wait on each other for the log. The sequencer (:func:`integrate`, a periodic job)
then gives the queued leaves their places, stores the subtrees they complete and signs a
checkpoint. Sequencers may run in several processes: each swaps the head's size and root
in one compare-and-swap, and the one that loses rolls back.

A leaf holds no personal data (see ``verifier.leaves``): the child is a random pseudonym
kept beside the link, and the record's key and content are salted commitments, the salt
kept beside the link too. Unlinking a child deletes both; the leaves stay.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import typing as t
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence

from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway.models import LedgerCheckpoint
from gateway.models import LedgerHead
from gateway.models import LedgerLeaf
from gateway.models import LedgerNode
from gateway.models import LedgerOpening
from gateway.models import LedgerSubject
from gateway.models import RecordChange
from gateway.services import merkle
from gateway.services import upserts
from gateway.services.checkpoints import Signer
from gateway.services.snapshots import aware
from verifier import checkpoint as notes
from verifier import leaves
from verifier import merkle as rfc9162

HEAD_ID = 1
SALT_BYTES = 16
# Leaves appended at a time: a backfill of a region queues many thousands at once, and
# each batch's hashes are held in memory.
BATCH = 20_000
# Values to one IN (...): far below SQLite's parameter limit.
CHUNK = 500

Pending = tuple[int, str]  # a queued leaf's id and hash


class LedgerBusy(RuntimeError):
    """Another sequencer appended meanwhile; this run's work is void (roll back, retry)."""


class SizeOutOfRange(ValueError):
    """A proof was asked for a tree the log has not reached."""


@dataclasses.dataclass(frozen=True, slots=True)
class Head:
    """The tree as the last sequencer left it."""

    size: int
    root: bytes


def stamp(moment: dt.datetime) -> str:
    """Return a time as a leaf records it: UTC, to the second."""
    return aware(moment).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Queueing what a sync observed ---------------------------------------------------


def observe(
    session: Session,
    *,
    link_id: int,
    section: str,
    changes: Sequence[RecordChange],
    baseline: bool,
) -> int:
    """Queue a leaf for each state a sync stored (a baseline's are ``observed``); return how many.

    Each state is stored once (the record store's revisions see to it), so each gets one
    leaf; the caller commits with the records.
    """
    if not changes:
        return 0
    subject = pseudonym(session, link_id)
    queued: list[tuple[LedgerLeaf, RecordChange, bytes]] = []
    for change in changes:
        salt = secrets.token_bytes(SALT_BYTES)
        text = leaves.leaf(
            subject=subject,
            section=section,
            record_key=change.record_key,
            revision=change.revision,
            kind="observed" if baseline else change.kind.value,
            seen=stamp(change.seen_at),
            salt=salt,
            payload=change.after,
        ).decode()
        row = LedgerLeaf(
            leaf=text,
            leaf_hash=rfc9162.leaf_hash(text.encode()).hex(),
            queued_at=change.seen_at,
        )
        queued.append((row, change, salt))
    session.add_all([row for row, _, _ in queued])
    session.flush()
    session.add_all(
        LedgerOpening(
            leaf_id=row.id,
            link_id=link_id,
            section=section,
            record_key=change.record_key,
            revision=change.revision,
            day=change.day,
            salt=salt.hex(),
        )
        for row, change, salt in queued
    )
    session.flush()
    return len(queued)


def pseudonym(session: Session, link_id: int) -> str:
    """Return the child's pseudonym in the log, made on first use (race-safe)."""
    session.execute(
        upserts.insert(session, LedgerSubject)
        .values(link_id=link_id, pseudonym=secrets.token_hex(16))
        .on_conflict_do_nothing(index_elements=["link_id"])
    )
    return session.scalars(
        select(LedgerSubject.pseudonym).where(LedgerSubject.link_id == link_id)
    ).one()


# --- Sequencing and signing -----------------------------------------------------------


def head(session: Session) -> Head:
    """Return the tree's size and root (the empty tree before the first sequencing)."""
    row = session.get(LedgerHead, HEAD_ID, populate_existing=True)
    if row is None:
        return Head(0, rfc9162.EMPTY_ROOT)
    return Head(row.size, bytes.fromhex(row.root))


def integrate(
    session: Session, *, signer: Signer, now: dt.datetime, batch: int = BATCH
) -> LedgerCheckpoint | None:
    """Append the queued leaves and sign a checkpoint; None when there was nothing to sign.

    A checkpoint is signed also when nothing was queued but the last one lacks a current
    key's signature (after a rotation), or when there is none yet (the empty tree).

    :raise LedgerBusy: another sequencer appended first; roll back.
    """
    session.execute(
        upserts.insert(session, LedgerHead)
        .values(id=HEAD_ID, size=0, root=rfc9162.EMPTY_ROOT.hex())
        .on_conflict_do_nothing(index_elements=["id"])
    )
    before = after = head(session)
    while pending := _queued(session, batch):
        after = _append(session, after, pending)
    latest = checkpoint(session)
    if after == before and latest is not None and latest.size == before.size:
        if _signed_by_all(latest.note, signer):
            return None
    note = signer.sign(after.size, after.root, signed_at=now)
    signed = LedgerCheckpoint(size=after.size, root=after.root.hex(), note=note, signed_at=now)
    session.add(signed)
    session.flush()
    return signed


def _queued(session: Session, batch: int) -> Sequence[Pending]:
    """Return the next leaves waiting for a place, in the order they were queued."""
    rows = session.execute(
        select(LedgerLeaf.id, LedgerLeaf.leaf_hash)
        .where(LedgerLeaf.seq.is_(None))
        .order_by(LedgerLeaf.id)
        .limit(batch)
    )
    return [(leaf_id, leaf_hash) for leaf_id, leaf_hash in rows]


def _append(session: Session, before: Head, pending: Sequence[Pending]) -> Head:
    """Place ``pending`` after the tree's leaves, store what they complete; return the head."""
    hashes = [bytes.fromhex(leaf_hash) for _, leaf_hash in pending]
    made = merkle.grown(before.size, hashes, stored=lambda node: _fetch(session, {node})[node])
    size = before.size + len(pending)
    wanted = merkle.needed([(0, size)])
    known = {**_fetch(session, wanted - made.keys()), **made}
    root = merkle.range_hash(0, size, known)
    swapped = session.execute(
        update(LedgerHead)
        .where(LedgerHead.id == HEAD_ID, LedgerHead.size == before.size)
        .values(size=size, root=root.hex())
        .returning(LedgerHead.id)
        .execution_options(synchronize_session=False)
    ).first()
    if swapped is None:
        raise LedgerBusy("another sequencer appended to the log meanwhile")
    session.execute(
        update(LedgerLeaf),
        [
            {"id": leaf_id, "seq": before.size + offset}
            for offset, (leaf_id, _) in enumerate(pending)
        ],
    )
    interior = [
        {"level": level, "index": index, "hash": digest.hex()}
        for (level, index), digest in made.items()
        if level > 0
    ]
    if interior:
        session.execute(insert(LedgerNode), interior)  # executemany: any number of rows
    session.flush()
    return Head(size, root)


def _signed_by_all(note: str, signer: Signer) -> bool:
    signatures = {blob[:4] for _, blob in notes.parse(note).signatures}
    return all(key.key_id in signatures for key in signer.trusted())


# --- Reading the tree -----------------------------------------------------------------


def checkpoint(session: Session, size: int | None = None) -> LedgerCheckpoint | None:
    """Return the newest checkpoint (of ``size``, when given)."""
    query = select(LedgerCheckpoint).order_by(LedgerCheckpoint.id.desc()).limit(1)
    if size is not None:
        query = query.where(LedgerCheckpoint.size == size)
    return session.scalars(query).first()


def consistency(session: Session, old: int, new: int) -> list[bytes]:
    """Return the proof that the tree of ``new`` leaves extends the tree of ``old``.

    :raise SizeOutOfRange: unless 0 <= old <= new <= the tree's size.
    """
    if not 0 <= old <= new <= head(session).size:
        raise SizeOutOfRange(f"no consistency proof from {old} to {new}")
    ranges = merkle.consistency_ranges(old, new)
    return merkle.hashes(ranges, _fetch(session, merkle.needed(ranges)))


def inclusion(session: Session, indexes: Collection[int], size: int) -> dict[int, list[bytes]]:
    """Return the inclusion path of each leaf index in the tree of ``size``.

    :raise SizeOutOfRange: an index is not below ``size``, or the log is smaller.
    """
    if size > head(session).size or any(not 0 <= index < size for index in indexes):
        raise SizeOutOfRange(f"no inclusion proof in a tree of {size}")
    paths = {index: merkle.inclusion_ranges(index, size) for index in indexes}
    nodes = _fetch(session, merkle.needed(r for ranges in paths.values() for r in ranges))
    return {index: merkle.hashes(ranges, nodes) for index, ranges in paths.items()}


def _fetch(session: Session, nodes: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    """Read stored subtree hashes (level 0 are the leaves'), a level and a chunk at a time."""
    by_level: dict[int, list[int]] = {}
    for level, index in nodes:
        by_level.setdefault(level, []).append(index)
    found: dict[merkle.Node, bytes] = {}
    for level, indexes in by_level.items():
        for start in range(0, len(indexes), CHUNK):
            chunk = indexes[start : start + CHUNK]
            found.update(_read_level(session, level, chunk))
    return found


def _read_level(
    session: Session, level: int, indexes: Sequence[int]
) -> Mapping[merkle.Node, bytes]:
    if level == 0:
        rows = session.execute(
            select(LedgerLeaf.seq, LedgerLeaf.leaf_hash).where(LedgerLeaf.seq.in_(indexes))
        )
    else:
        rows = session.execute(
            select(LedgerNode.index, LedgerNode.hash).where(
                LedgerNode.level == level, LedgerNode.index.in_(indexes)
            )
        )
    return {(level, t.cast(int, index)): bytes.fromhex(digest) for index, digest in rows}


def waiting(session: Session) -> int:
    """Return how many leaves wait for the sequencer."""
    return session.scalar(select(func.count()).where(LedgerLeaf.seq.is_(None))) or 0
