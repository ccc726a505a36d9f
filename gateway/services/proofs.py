"""Proof bundles: what the gateway showed of a child, with the log's proof that it was so.

A bundle (format in ``verifier.bundle``) holds, for each state of each record asked for,
the record as the gateway's store keeps it now, the salt that opens its leaf, and the
leaf's inclusion path to the newest checkpoint. So it proves the store and the log agree:
a record edited in the database after the fact no longer opens its leaf.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import typing as t
from collections.abc import Collection
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import LedgerLeaf
from gateway.models import LedgerOpening
from gateway.models import LedgerSubject
from gateway.models import RecordChange
from gateway.models import SyncedRecord
from gateway.services import ledger
from verifier.bundle import FORMAT


class NoCheckpoint(LookupError):
    """The log has signed nothing yet that holds this child's records."""


class MissingState(LookupError):
    """The store no longer has a state the log holds (see the ledger audit)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    """Which states a bundle proves: a section, optionally cut to days, a day's view, a record.

    ``as_of`` keeps, of each record, the state the gateway showed at the end of that day;
    ``since`` adds a proof that the bundle's checkpoint extends the one of that size.
    """

    section: str
    start: dt.date | None = None
    end: dt.date | None = None
    as_of: dt.date | None = None
    record_key: str | None = None
    since: int | None = None

    def described(self) -> dict[str, t.Any]:
        """Return the query as a bundle records it."""
        return {
            "section": self.section,
            "from": None if self.start is None else self.start.isoformat(),
            "to": None if self.end is None else self.end.isoformat(),
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "record": self.record_key,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class _State:
    seq: int
    leaf: str
    opening: LedgerOpening
    said: Mapping[str, t.Any]


def bundle(session: Session, *, link_id: int, query: Query, zone: ZoneInfo) -> dict[str, t.Any]:
    """Return the proof bundle of a child's states that ``query`` picks.

    :raise NoCheckpoint: nothing is signed yet.
    :raise MissingState: the store lost a state the log holds.
    """
    signed = ledger.checkpoint(session)
    if signed is None or signed.size == 0:
        raise NoCheckpoint("the log has no signed checkpoint yet")
    chosen = _chosen(_states(session, link_id, query, signed.size), query, zone)
    payloads = Payloads.load(
        session, link_id, query.section, {s.opening.record_key for s in chosen}
    )
    paths = ledger.inclusion(session, [state.seq for state in chosen], signed.size)
    subject = session.get(LedgerSubject, link_id)
    return {
        "format": FORMAT,
        "origin": signed.note.split("\n", 1)[0],
        "checkpoint": signed.note,
        "subject": None if subject is None else subject.pseudonym,
        "query": query.described(),
        "entries": [
            {
                "index": state.seq,
                "leaf": state.leaf,
                "salt": state.opening.salt,
                "record_key": state.opening.record_key,
                "payload": payloads.of(
                    state.opening.record_key, state.opening.revision, str(state.said["kind"])
                ),
                "inclusion": [step.hex() for step in paths[state.seq]],
            }
            for state in chosen
        ],
        "consistency": _consistency(session, query.since, signed.size),
        "timestamp": signed.timestamp,
    }


def _states(session: Session, link_id: int, query: Query, size: int) -> list[_State]:
    statement = (
        select(LedgerLeaf.seq, LedgerLeaf.leaf, LedgerOpening)
        .join(LedgerOpening, LedgerOpening.leaf_id == LedgerLeaf.id)
        .where(
            LedgerOpening.link_id == link_id,
            LedgerOpening.section == query.section,
            LedgerLeaf.seq.is_not(None),
            LedgerLeaf.seq < size,
        )
        .order_by(LedgerLeaf.seq)
    )
    if query.start is not None:
        statement = statement.where(LedgerOpening.day >= query.start)
    if query.end is not None:
        statement = statement.where(LedgerOpening.day <= query.end)
    if query.record_key is not None:
        statement = statement.where(LedgerOpening.record_key == query.record_key)
    return [
        _State(t.cast(int, seq), leaf, opening, json.loads(leaf))
        for seq, leaf, opening in session.execute(statement)
    ]


def _chosen(states: list[_State], query: Query, zone: ZoneInfo) -> list[_State]:
    """Keep every state, or with ``as_of`` each record's last by that day, if not removed."""
    if query.as_of is None:
        return states
    cutoff = ledger.stamp(
        dt.datetime.combine(query.as_of + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    )
    last: dict[str, _State] = {}
    for state in states:
        if str(state.said["seen"]) < cutoff:  # ISO in UTC: text order is time order
            last[state.opening.record_key] = state
    return [state for state in last.values() if state.said["kind"] != "removed"]


def _consistency(session: Session, since: int | None, size: int) -> list[dict[str, t.Any]]:
    if since is None or since <= 0 or since >= size:
        return []
    old = ledger.checkpoint(session, since)
    if old is None:
        raise NoCheckpoint(f"no checkpoint of {since} was signed")
    proof = ledger.consistency(session, since, size)
    return [
        {
            "size": since,
            "root": base64.b64encode(bytes.fromhex(old.root)).decode(),
            "proof": [step.hex() for step in proof],
        }
    ]


@dataclasses.dataclass(frozen=True, slots=True)
class Payloads:
    """Each stored state of a child's records: the current one, and those the changes kept."""

    current: Mapping[str, tuple[int, t.Any]]
    changes: Mapping[tuple[str, int], tuple[t.Any, t.Any]]

    @classmethod
    def load(
        cls, session: Session, link_id: int, section: str, keys: Collection[str] | None = None
    ) -> Payloads:
        """Read the states of the section's records (of ``keys``, when given)."""
        records = select(SyncedRecord.record_key, SyncedRecord.revision, SyncedRecord.payload)
        records = records.where(SyncedRecord.link_id == link_id, SyncedRecord.section == section)
        changes = select(
            RecordChange.record_key, RecordChange.revision, RecordChange.before, RecordChange.after
        ).where(RecordChange.link_id == link_id, RecordChange.section == section)
        if keys is not None:
            records = records.where(SyncedRecord.record_key.in_(keys))
            changes = changes.where(RecordChange.record_key.in_(keys))
        return cls(
            current={
                key: (revision, payload) for key, revision, payload in session.execute(records)
            },
            changes={
                (key, revision): (before, after)
                for key, revision, before, after in session.execute(changes)
            },
        )

    def of(self, record_key: str, revision: int, kind: str) -> t.Any:
        """Return a record's content in a revision (None for a removal).

        :raise MissingState: the store has no such state.
        """
        if kind == "removed":
            return None
        current = self.current.get(record_key)
        if current is not None and current[0] == revision:
            return current[1]
        change = self.changes.get((record_key, revision))
        if change is not None and change[1] is not None:
            return change[1]
        following = self.changes.get((record_key, revision + 1))
        if following is not None and following[0] is not None:
            return following[0]
        raise MissingState(f"revision {revision} of a {kind} record is not in the store")
