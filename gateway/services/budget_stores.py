"""Where each backend's budget lives: the types its steps speak, a Redis and a SQLite store.

Both stores take the same four atomic steps (:class:`Store`) with the same rules, so the
tests run one battery against each. Times are epoch seconds from the caller's clock.
"""

from __future__ import annotations

import contextlib
import enum
import math
import os
import sqlite3
import threading
import typing as t
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis


class Outcome(enum.StrEnum):
    """What one request says of the backend's health."""

    OK = "ok"
    FAILED = "failed"
    NEUTRAL = "neutral"  # it says nothing: a 429, a request refused before it left


@dataclass(frozen=True, slots=True, kw_only=True)
class Allowance:
    """What one instance's backend may be sent: requests at once and per minute."""

    instance_id: int
    concurrency: int
    per_minute: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """How long a request waits, how long a lease lives, and when the circuit opens."""

    # Below the page deadline (8 s), so a page labels its data stale rather than timing out;
    # a background sync may pass a longer one.
    max_wait: float = 5.0
    # Longer than any request: connectors time out after (3.05, 10) seconds by default, and
    # a body is read within the lease.
    lease_for: float = 60.0
    failures_to_open: int = 5
    cool_down: float = 30.0
    # A 429 without Retry-After still means "slow down"; a Retry-After of days is capped.
    default_pause: float = 30.0
    max_pause: float = 3600.0
    # How often a request waiting for a slot looks again (slots free up unannounced).
    poll: float = 0.02


@dataclass(frozen=True, slots=True)
class Decision:
    """A store's answer to one admission.

    ``verdict`` is ``admitted``, ``wait`` (``until`` the next permit, None: a slot),
    ``paused`` (``until`` the pause ends) or ``open`` (``until`` the next probe).
    """

    verdict: str
    until: float | None = None
    probe: bool = False


@dataclass(frozen=True, slots=True)
class Status:
    """An instance's circuit and pause as stored (epoch seconds; None: not set)."""

    failures: int = 0
    open_until: float | None = None
    probing_until: float | None = None
    paused_until: float | None = None


class Store(t.Protocol):
    """Where the budget lives; each method is one atomic step, shared by every process."""

    def admit(self, allowance: Allowance, lease: str, *, now: float, policy: Policy) -> Decision:
        """Take a slot and a permit under ``lease``, or say why not."""

    def finish(
        self,
        instance_id: int,
        lease: str,
        outcome: Outcome,
        *,
        probe: bool,
        now: float,
        policy: Policy,
    ) -> None:
        """Give the slot back and count the outcome towards the circuit."""

    def pause(self, instance_id: int, until: float) -> None:
        """Pause the instance until ``until`` (a later pause already set stays)."""

    def reset(self, instance_id: int) -> None:
        """Close the instance's circuit and end its pause (leases and permits stay)."""

    def status(self, instance_id: int) -> Status:
        """Return the instance's circuit and pause."""


def _number(raw: t.Any) -> float | None:
    return None if raw is None or raw == b"" or raw == "" else float(raw)


# KEYS: circuit hash, leases (member: lease, score: expiry), permits (score: taken at).
# ARGV: now, concurrency, per minute, lease_for, lease, window, keep_ms.
# Numbers go back as strings: Redis would truncate a Lua number to an integer.
_ADMIT = """
local now = tonumber(ARGV[1])
local c = redis.call('HMGET', KEYS[1], 'open_until', 'probing_until', 'paused_until')
local open_until, probing, paused = tonumber(c[1]), tonumber(c[2]), tonumber(c[3])
if paused and now < paused then return {'paused', c[3]} end
local probe = '0'
if open_until then
  if now < open_until then return {'open', c[1]} end
  if probing and now < probing then return {'open', c[2]} end
  probe = '1'
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return {'wait', ''} end
local window = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  return {'wait', tostring(tonumber(oldest[2]) + window)}
end
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[5])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
redis.call('PEXPIRE', KEYS[3], ARGV[7])
if probe == '1' then
  redis.call('HSET', KEYS[1], 'probing_until', tostring(now + tonumber(ARGV[4])))
end
return {'admitted', probe}
"""

# KEYS: circuit hash, leases. ARGV: lease, outcome, probe, now, failures_to_open, cool_down.
_FINISH = """
redis.call('ZREM', KEYS[2], ARGV[1])
local outcome, probe, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
if outcome == 'neutral' then
  if probe == '1' then redis.call('HDEL', KEYS[1], 'probing_until') end
  return 0
end
if outcome == 'ok' then
  redis.call('HSET', KEYS[1], 'failures', 0)
  redis.call('HDEL', KEYS[1], 'open_until', 'probing_until')
  return 0
end
local cool_down = tostring(now + tonumber(ARGV[6]))
if probe == '1' then
  redis.call('HSET', KEYS[1], 'open_until', cool_down, 'failures', ARGV[5])
  redis.call('HDEL', KEYS[1], 'probing_until')
  return 0
end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if failures >= tonumber(ARGV[5]) and redis.call('HEXISTS', KEYS[1], 'open_until') == 0 then
  redis.call('HSET', KEYS[1], 'open_until', cool_down)
end
return 0
"""

# KEYS: circuit hash. ARGV: until.
_PAUSE = """
local ends = tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'paused_until'))
if current == nil or current < ends then redis.call('HSET', KEYS[1], 'paused_until', ARGV[1]) end
return 0
"""


class RedisStore:
    """The budget on Redis: each step one Lua script, atomic for every process and machine."""

    def __init__(self, client: redis.Redis, *, prefix: str, window: float) -> None:
        """Keep keys under ``prefix`` on ``client``; permits count over ``window`` seconds."""
        self._client = client
        self._prefix = prefix
        self._window = window
        self._admit = client.register_script(_ADMIT)
        self._finish = client.register_script(_FINISH)
        self._pause = client.register_script(_PAUSE)

    def _keys(self, instance_id: int) -> list[str]:
        # One hash tag per instance: a Redis Cluster keeps its keys in one slot.
        base = f"{self._prefix}{{{instance_id}}}"
        return [f"{base}:circuit", f"{base}:leases", f"{base}:permits"]

    def admit(self, allowance: Allowance, lease: str, *, now: float, policy: Policy) -> Decision:
        """Take a slot and a permit under ``lease``, or say why not."""
        keep_ms = math.ceil(max(self._window, policy.lease_for) * 1000) + 1000
        verdict, value = self._admit(
            keys=self._keys(allowance.instance_id),
            args=[
                repr(now),
                max(1, allowance.concurrency),
                max(1, allowance.per_minute),
                repr(policy.lease_for),
                lease,
                repr(self._window),
                keep_ms,
            ],
        )
        verdict = verdict.decode()
        if verdict == "admitted":
            return Decision("admitted", probe=value == b"1")
        return Decision(verdict, _number(value))

    def finish(
        self,
        instance_id: int,
        lease: str,
        outcome: Outcome,
        *,
        probe: bool,
        now: float,
        policy: Policy,
    ) -> None:
        """Give the slot back and count the outcome towards the circuit."""
        self._finish(
            keys=self._keys(instance_id)[:2],
            args=[
                lease,
                str(outcome),
                "1" if probe else "0",
                repr(now),
                policy.failures_to_open,
                repr(policy.cool_down),
            ],
        )

    def pause(self, instance_id: int, until: float) -> None:
        """Pause the instance until ``until`` (a later pause already set stays)."""
        self._pause(keys=self._keys(instance_id)[:1], args=[repr(until)])

    def reset(self, instance_id: int) -> None:
        """Close the instance's circuit and end its pause (leases and permits stay)."""
        self._client.delete(self._keys(instance_id)[0])

    def status(self, instance_id: int) -> Status:
        """Return the instance's circuit and pause."""
        raw = self._client.hmget(
            self._keys(instance_id)[0], "failures", "open_until", "probing_until", "paused_until"
        )
        failures, open_until, probing, paused = t.cast(list[bytes | None], raw)
        return Status(int(failures or 0), _number(open_until), _number(probing), _number(paused))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS circuits (
    instance_id INTEGER PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    open_until REAL,
    probing_until REAL,
    paused_until REAL
);
CREATE TABLE IF NOT EXISTS leases (
    lease TEXT PRIMARY KEY, instance_id INTEGER NOT NULL, expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS leases_by_instance ON leases (instance_id, expires);
CREATE TABLE IF NOT EXISTS permits (instance_id INTEGER NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS permits_by_instance ON permits (instance_id, at);
"""


class SqliteStore:
    """The budget in a SQLite file: each step one ``BEGIN IMMEDIATE`` transaction.

    Every process of one machine opens the same file; the write lock taken at ``BEGIN``
    makes each read-then-write step atomic among them. A connection per step keeps it
    safe across forks (gunicorn's and Celery's workers) and threads.
    """

    def __init__(self, path: Path, *, window: float) -> None:
        """Use the file at ``path``, created at the first step; permits count over ``window``.

        Nothing is written before a backend is called, so a command that calls none (a
        migration, a registry load) leaves no file behind.
        """
        self._path = path
        self._window = window
        self._ready = False
        self._lock = threading.Lock()

    def _prepare(self) -> None:
        with self._lock:
            if self._ready:
                return
            # Private like the gateway's other files; the first of processes starting
            # together creates it, and the schema's IF NOT EXISTS lets the rest pass.
            self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            with self._begin() as db:
                for statement in _SCHEMA.split(";"):
                    db.execute(statement)
            # Readers then never wait for a writer. Changing the mode needs the file to
            # itself and, when busy, fails at once rather than wait; it only speeds the steps
            # up, and another process (or the next start) sets it, so a busy file is left.
            with (
                contextlib.closing(self._connect()) as db,
                contextlib.suppress(sqlite3.OperationalError),
            ):
                db.execute("PRAGMA journal_mode=WAL")
            self._ready = True

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: each step opens its own transaction with BEGIN IMMEDIATE.
        return sqlite3.connect(self._path, timeout=30.0, isolation_level=None)

    @contextlib.contextmanager
    def _step(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self._prepare()
        with self._begin() as db:
            yield db

    @contextlib.contextmanager
    def _begin(self) -> Iterator[sqlite3.Connection]:
        with contextlib.closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @staticmethod
    def _circuit(db: sqlite3.Connection, instance_id: int) -> Status:
        row = db.execute(
            "SELECT failures, open_until, probing_until, paused_until FROM circuits"
            " WHERE instance_id = ?",
            (instance_id,),
        ).fetchone()
        return Status() if row is None else Status(*row)

    @staticmethod
    def _set(db: sqlite3.Connection, instance_id: int, **values: object) -> None:
        db.execute("INSERT OR IGNORE INTO circuits (instance_id) VALUES (?)", (instance_id,))
        assignments = ", ".join(f"{name} = ?" for name in values)  # names are ours, not input
        db.execute(
            f"UPDATE circuits SET {assignments} WHERE instance_id = ?",
            (*values.values(), instance_id),
        )

    def admit(self, allowance: Allowance, lease: str, *, now: float, policy: Policy) -> Decision:
        """Take a slot and a permit under ``lease``, or say why not."""
        key = allowance.instance_id
        with self._step() as db:
            status = self._circuit(db, key)
            if status.paused_until is not None and now < status.paused_until:
                return Decision("paused", status.paused_until)
            if status.open_until is not None:
                if now < status.open_until:
                    return Decision("open", status.open_until)
                if status.probing_until is not None and now < status.probing_until:
                    return Decision("open", status.probing_until)
            db.execute("DELETE FROM leases WHERE instance_id = ? AND expires <= ?", (key, now))
            (held,) = db.execute(
                "SELECT count(*) FROM leases WHERE instance_id = ?", (key,)
            ).fetchone()
            if held >= max(1, allowance.concurrency):
                return Decision("wait")
            since = now - self._window
            db.execute("DELETE FROM permits WHERE instance_id = ? AND at <= ?", (key, since))
            taken, oldest = db.execute(
                "SELECT count(*), min(at) FROM permits WHERE instance_id = ?", (key,)
            ).fetchone()
            if taken >= max(1, allowance.per_minute):
                return Decision("wait", oldest + self._window)
            db.execute("INSERT INTO permits (instance_id, at) VALUES (?, ?)", (key, now))
            expires = now + policy.lease_for
            db.execute("INSERT INTO leases VALUES (?, ?, ?)", (lease, key, expires))
            probe = status.open_until is not None
            if probe:
                self._set(db, key, probing_until=expires)
            return Decision("admitted", probe=probe)

    def finish(
        self,
        instance_id: int,
        lease: str,
        outcome: Outcome,
        *,
        probe: bool,
        now: float,
        policy: Policy,
    ) -> None:
        """Give the slot back and count the outcome towards the circuit."""
        with self._step() as db:
            db.execute("DELETE FROM leases WHERE lease = ?", (lease,))
            if outcome is Outcome.NEUTRAL:
                if probe:
                    self._set(db, instance_id, probing_until=None)
                return
            if outcome is Outcome.OK:
                self._set(db, instance_id, failures=0, open_until=None, probing_until=None)
                return
            reopen = now + policy.cool_down
            if probe:
                self._set(
                    db,
                    instance_id,
                    failures=policy.failures_to_open,
                    open_until=reopen,
                    probing_until=None,
                )
                return
            status = self._circuit(db, instance_id)
            failures = status.failures + 1
            opens = failures >= policy.failures_to_open and status.open_until is None
            if opens:
                self._set(db, instance_id, failures=failures, open_until=reopen)
            else:
                self._set(db, instance_id, failures=failures)

    def pause(self, instance_id: int, until: float) -> None:
        """Pause the instance until ``until`` (a later pause already set stays)."""
        with self._step() as db:
            current = self._circuit(db, instance_id).paused_until
            if current is None or current < until:
                self._set(db, instance_id, paused_until=until)

    def reset(self, instance_id: int) -> None:
        """Close the instance's circuit and end its pause (leases and permits stay)."""
        with self._step() as db:
            db.execute("DELETE FROM circuits WHERE instance_id = ?", (instance_id,))

    def status(self, instance_id: int) -> Status:
        """Return the instance's circuit and pause."""
        if not self._ready:
            self._prepare()
        with contextlib.closing(self._connect()) as db:
            return self._circuit(db, instance_id)
