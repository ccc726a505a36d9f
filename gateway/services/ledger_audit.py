"""The ledger's self-audit: does the stored log still prove what the store shows?

It rebuilds the tree from the leaves alone and holds it to every signed checkpoint and to
every stored subtree, then opens each leaf with its salt against the record store. Any
edit made straight in the database shows up: a leaf changed (its checkpoint's root no
longer matches), a subtree changed (proofs would lie), a record changed or added without
the sync (it no longer opens its leaf, or has none).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import LedgerCheckpoint
from gateway.models import LedgerLeaf
from gateway.models import LedgerNode
from gateway.models import LedgerOpening
from gateway.models import LedgerSubject
from gateway.models import SyncedRecord
from gateway.services import ledger
from gateway.services import merkle
from gateway.services.proofs import MissingState
from gateway.services.proofs import Payloads
from verifier import checkpoint as notes
from verifier import leaves
from verifier import merkle as rfc9162

ROWS = 5_000


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """One thing the audit found wrong, and where (no personal data)."""

    what: str
    where: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclasses.dataclass(frozen=True, slots=True)
class Report:
    """What the audit read, and what it found."""

    leaves: int
    checkpoints: int
    openings: int
    findings: tuple[Finding, ...]

    @property
    def clean(self) -> bool:
        """Tell whether nothing was found."""
        return not self.findings


def audit(session: Session, *, keys: Sequence[notes.VerifierKey]) -> Report:
    """Check the whole log against itself, its signatures and the record store."""
    findings: list[Finding] = []
    levels = _levels(session, findings)
    size = len(levels[0])
    checkpoints = _checkpoints(session, levels, keys, findings)
    _nodes(session, levels, findings)
    head = ledger.head(session)
    if head.size != size or (size and head.root != _root(levels, size)):
        findings.append(Finding("the head does not match the leaves", "ledger head"))
    openings = _openings(session, findings)
    return Report(size, checkpoints, openings, tuple(findings))


def _levels(session: Session, findings: list[Finding]) -> list[list[bytes]]:
    """Return the hashes of every complete subtree, level by level, from the leaves alone."""
    hashes: list[bytes] = []
    for seq, text, stored in session.execute(
        select(LedgerLeaf.seq, LedgerLeaf.leaf, LedgerLeaf.leaf_hash)
        .where(LedgerLeaf.seq.is_not(None))
        .order_by(LedgerLeaf.seq)
        .execution_options(yield_per=ROWS)
    ):
        if seq != len(hashes):
            findings.append(Finding(f"leaf {len(hashes)} is missing", f"leaf {seq}"))
        digest = rfc9162.leaf_hash(text.encode())
        if digest.hex() != stored:
            findings.append(Finding("the leaf does not hash to its stored hash", f"leaf {seq}"))
        hashes.append(digest)
    levels = [hashes]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(
            [rfc9162.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        )
    return levels


def _root(levels: list[list[bytes]], size: int) -> bytes:
    nodes = {node: levels[node[0]][node[1]] for node in merkle.parts(0, size)}
    return merkle.range_hash(0, size, nodes)


def _checkpoints(
    session: Session,
    levels: list[list[bytes]],
    keys: Sequence[notes.VerifierKey],
    findings: list[Finding],
) -> int:
    count = 0
    for signed in session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id)):
        count += 1
        where = f"checkpoint of {signed.size}"
        try:
            said = notes.verify(signed.note, keys)
        except notes.CheckpointError as err:
            findings.append(Finding(f"the signature does not verify ({err})", where))
            continue
        if said.size != signed.size or said.root.hex() != signed.root:
            findings.append(Finding("the stored size or root is not the signed one", where))
        if said.size > len(levels[0]):
            findings.append(Finding("it signs leaves the log does not have", where))
        elif said.size and _root(levels, said.size) != said.root:
            findings.append(Finding("the leaves no longer make the signed root", where))
    return count


def _nodes(session: Session, levels: list[list[bytes]], findings: list[Finding]) -> None:
    for level, index, stored in session.execute(
        select(LedgerNode.level, LedgerNode.index, LedgerNode.hash).execution_options(
            yield_per=ROWS
        )
    ):
        where = f"node {level}/{index}"
        if level >= len(levels) or index >= len(levels[level]):
            findings.append(Finding("the node covers leaves the log does not have", where))
        elif levels[level][index].hex() != stored:
            findings.append(Finding("the node is not the hash of its leaves", where))


def _openings(session: Session, findings: list[Finding]) -> int:
    """Open every leaf that still has its salt against the record store."""
    count = 0
    subjects = dict(session.execute(select(LedgerSubject.link_id, LedgerSubject.pseudonym)).all())
    groups = session.execute(
        select(LedgerOpening.link_id, LedgerOpening.section).union(
            select(SyncedRecord.link_id, SyncedRecord.section)
        )
    ).all()
    for link_id, section in groups:
        payloads = Payloads.load(session, link_id, section)
        seen: set[tuple[str, int]] = set()
        statement = (
            select(LedgerOpening, LedgerLeaf.seq, LedgerLeaf.leaf)
            .join(LedgerLeaf, LedgerLeaf.id == LedgerOpening.leaf_id)
            .where(LedgerOpening.link_id == link_id, LedgerOpening.section == section)
        )
        for opening, seq, text in session.execute(statement):
            count += 1
            seen.add((opening.record_key, opening.revision))
            where = f"leaf {'queued' if seq is None else seq} (link {link_id}, {section})"
            problem = _opens(opening, json.loads(text), subjects.get(link_id), payloads)
            if problem is not None:
                findings.append(Finding(problem, where))
        for key, (revision, _) in payloads.current.items():
            if (key, revision) not in seen:
                findings.append(
                    Finding("a stored record the log never saw", f"link {link_id}, {section}")
                )
    return count


def _opens(
    opening: LedgerOpening, said: dict[str, object], subject: str | None, payloads: Payloads
) -> str | None:
    """Return what is wrong with a leaf's opening, or None when it opens."""
    salt = bytes.fromhex(opening.salt)
    if said.get("subject") != subject or said.get("section") != opening.section:
        return "the leaf is of another child or section"
    if said.get("record") != leaves.record_commitment(salt, opening.record_key):
        return "the record key does not open the leaf"
    if said.get("revision") != opening.revision:
        return "the revision is not the leaf's"
    try:
        payload = payloads.of(opening.record_key, opening.revision, str(said.get("kind")))
    except MissingState:
        return "the store lost this state of the record"
    content = None if payload is None else leaves.content_commitment(salt, payload)
    if said.get("content") != content:
        return "the stored record is not what the log says was seen"
    return None
