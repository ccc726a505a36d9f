"""Benchmark the background sync: what it asks the backends, how fast it goes, how soon it sees.

Run ``.venv/bin/python -m bench.sync`` (``--help`` for the knobs). It starts the stack of
``bench.family_page`` (idp_mock, the three emulators, a werkzeug gateway, temporary SQLite
databases), signs in up to three demo parents who each link Ирина's three children, and
drives the sync from this process (:class:`gateway.services.sync.SyncService`) and from a
real Celery worker and beat on an embedded SQLite broker in the temporary folder. Printed,
per connector where it applies:

1. backend requests per child for one incremental sync of every section (the day's later
   syncs: the recent window), beside the day's first sync (every period whole) and a cold
   family page (a fetch while the parent waits), with the endpoints that dominate;
2. children synced per second by one worker with ``--latency-ms`` on every emulator, beside
   the instance's ``requests_per_minute`` and the emulator's observed ``peak_per_minute``;
3. seconds from a mark added at NetSchool to its row in ``record_changes``, for an
   interactive refresh (``due.hurry`` and a tick) and for the scheduled cadence (a
   ``sync.toml`` whose grades fall due every ``--grades-minutes``);
4. backend requests while serving the family page after the sync, with the snapshots as
   the sync left them and aged as the night's cadence leaves them by morning;
5. warm family page requests per second under gunicorn (2 workers) against ``/healthz``;
6. an hour of school-hours ticks on a pinned clock, every row spread over its interval as a
   running day has them: backend requests and section syncs per child, with the ride-along
   of ``config/sync.toml`` and without it.

It prints figures and asserts nothing about time. Every subprocess and the temporary folder
are removed on exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import functools
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
import typing as t
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
import sqlalchemy as sa

from bench.family_page import EMULATORS
from bench.family_page import IRINA
from bench.family_page import PYTHON
from bench.family_page import ROOT
from bench.family_page import TIMEOUT
from bench.family_page import TITLES
from bench.family_page import BenchError
from bench.family_page import Load
from bench.family_page import Stack
from bench.family_page import _expect
from bench.family_page import _post_form
from bench.family_page import _stop
from bench.family_page import _tail
from bench.family_page import _wait_until_up
from bench.family_page import backend_stats
from bench.family_page import children
from bench.family_page import cold_page
from bench.family_page import cpu_seconds
from bench.family_page import free_port
from bench.family_page import generate_load
from bench.family_page import link_children
from bench.family_page import running_stack
from bench.family_page import set_latency
from idp_mock.browser import authorize_at_idp

if t.TYPE_CHECKING:
    from flask import Flask

    from gateway.services.sync import Synced

# Demo parents allowed to link a child (link_min_level "standard"); each links Ирина's three.
PARENTS = (IRINA, ("+79000000003", "granny-demo-3"), ("+79000000002", "parent-demo-2"))
INSTANCE_OF = {"mesh": "moscow-mesh", "dnevnik_ru": "tver-dnevnik", "netschool": "samara-netschool"}
MAXIM = "Смирнов Максим Дмитриевич"
SECTIONS = ("grades", "attendance", "schedule", "homework", "events", "messages", "rating")
POLL = 0.05
WAIT = 180.0
TASK_DONE = re.compile(r"Task sync\.run\[[^\]]+\] succeeded in ([0-9.]+)s")

Counts = dict[str, Counter[str]]


def _delta(before: Counts, after: Counts) -> Counts:
    return {name: after[name] - before[name] for name in after}


def _total(counter: Counter[str]) -> int:
    return sum(counter.values())


# --------------------------------------------------------------------------- the stack


@dataclass
class SyncStack:
    """The family-page stack, this process's own gateway app, and the background processes."""

    stack: Stack
    env: dict[str, str]
    app: Flask
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        """Return the temporary folder (logs, broker, sync.toml)."""
        return self.stack.folder

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> int:
        """Start a background process logging to ``<name>.log``; return its pid."""
        with (self.folder / f"{name}.log").open("wb") as out:
            self.processes[name] = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env or self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self.processes[name].pid

    def stop(self, name: str) -> None:
        """Stop one background process."""
        _stop({name: self.processes.pop(name)})

    def log(self, name: str) -> str:
        """Return a process's log so far."""
        return (self.folder / f"{name}.log").read_text(errors="replace")


def short_sync_file(folder: Path, grades_minutes: int, tick_seconds: int) -> Path:
    """Write config/sync.toml with a short grades cadence and tick; return its path."""
    text = (ROOT / "config" / "sync.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^tick_seconds = \d+", f"tick_seconds = {tick_seconds}", text)
    head, grades, rest = re.split(r"(?m)^(\[sync\.sections\.grades\]\n(?:[a-z]+ = \d+\n)+)", text)
    grades = re.sub(r"= \d+", f"= {grades_minutes}", grades)
    path = folder / "sync.toml"
    path.write_text(head + grades + rest, encoding="utf-8")
    return path


def _background_environment(stack: Stack, args: argparse.Namespace) -> dict[str, str]:
    """Return the gateway server's own environment (its vault key above all), plus the
    broker and the sync file of the temporary folder."""
    raw = Path(f"/proc/{stack.gateway_pid}/environ").read_bytes()
    env = dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
    # Kept when the caller gave the gateway server its own (bench.delivery: a refresh there
    # sends tasks and reschedules rows, so it must share the broker and the cadence).
    env.setdefault("GATEWAY_BROKER_URL", f"sqla+sqlite:///{stack.folder / 'broker.sqlite3'}")
    if "GATEWAY_SYNC_FILE" not in env:
        env["GATEWAY_SYNC_FILE"] = str(
            short_sync_file(stack.folder, args.grades_minutes, args.tick_seconds)
        )
    return env


def _in_process_app(env: dict[str, str]) -> Flask:
    """Build a gateway app in this process on the stack's database and broker."""
    for key in list(os.environ):
        if key.startswith(("GATEWAY_", "IDP_")) or key in ("DATABASE_URL", "REDIS_URL"):
            del os.environ[key]
    os.environ.update(env)
    from gateway import create_app

    return create_app()


@contextlib.contextmanager
def sync_stack(
    args: argparse.Namespace, extra: t.Mapping[str, str] | None = None
) -> Iterator[SyncStack]:
    """Start the family-page stack (``extra`` in its environment); stop the background
    processes started meanwhile, too."""
    with running_stack(extra) as stack:
        env = _background_environment(stack, args)
        world = SyncStack(stack=stack, env=env, app=_in_process_app(env))
        try:
            yield world
        finally:
            _stop(world.processes)


def celery_command(*part: str) -> list[str]:
    """Return ``celery -A gateway.worker:celery`` followed by ``part``."""
    return [PYTHON, "-m", "celery", "-A", "gateway.worker:celery", *part]


def start_worker(world: SyncStack, concurrency: int) -> None:
    """Start one Celery worker on every sync queue, as docs/operators.md runs it."""
    world.start(
        "worker",
        celery_command(
            "worker",
            *["--pool", "threads", "-c", str(concurrency), "-n", "bench@%h"],
            *["-Q", "interactive,scheduled,backfill", "--without-mingle", "--without-gossip"],
            *["--loglevel", "INFO"],
        ),
    )
    _until(lambda: "ready." in world.log("worker"), "the Celery worker ready", world, "worker")


def start_beat(world: SyncStack) -> None:
    """Start the Celery scheduler that sends the tick."""
    schedule = world.folder / "celerybeat-schedule"
    world.start("beat", celery_command("beat", "--schedule", str(schedule), "--loglevel", "INFO"))


def _until(
    check: Callable[[], bool], what: str, world: SyncStack | None = None, name: str = ""
) -> float:
    """Poll until ``check`` holds; return when (monotonic). Raise BenchError after WAIT."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        if world is not None and name and world.processes[name].poll() is not None:
            raise BenchError(f"{name} exited:\n{_tail(world.folder / f'{name}.log')}")
        time.sleep(POLL)
    tail = _tail(world.folder / f"{name}.log") if world is not None and name else ""
    raise BenchError(f"not within {WAIT:.0f} s: {what}\n{tail}")


# --------------------------------------------------------------------------- parents


def sign_in_as(stack: Stack, phone: str, password: str) -> requests.Session:
    """Sign a demo parent in through idp_mock's pages and accept the consent."""
    browser = requests.Session()
    start = _expect(
        browser.get(f"{stack.gateway}/login", allow_redirects=False, timeout=TIMEOUT), 302, "login"
    )
    back = authorize_at_idp(start.headers["Location"], phone, password)
    done = browser.get(back, allow_redirects=False, timeout=TIMEOUT)
    _expect(done, 302, f"{phone}: the sign-in callback")
    if done.headers["Location"].endswith("/consent"):
        _post_form(browser, f"{stack.gateway}/consent", {"accept": "y"}, "consent")
    return browser


# --------------------------------------------------------------------------- the sync


def _links(app: Flask) -> dict[int, str]:
    """Return every linked child's connector by link id."""
    from gateway.extensions import db
    from gateway.models import ChildLink
    from gateway.models import ConnectorInstance

    with app.app_context():
        rows = db.session.execute(
            sa.select(ChildLink.id, ConnectorInstance.connector).join(ConnectorInstance)
        ).all()
        return {int(link_id): str(connector) for link_id, connector in rows}


def tick_here(app: Flask, *, alone: bool = False) -> list[tuple[t.Any, list[int], str]]:
    """Run one tick in this process; return its batches as (queue, due ids, lease).

    ``alone``: no section rides along with the one due (a section's own cost).
    """
    from gateway.extensions import db
    from gateway.runtime import services
    from gateway.services import sync

    with app.app_context():
        svc = services()
        settings = dataclasses.replace(svc.sync, ride_along=dt.timedelta(0)) if alone else svc.sync
        claim = sync.tick(db.session, pool=svc.pool, now=svc.now(), settings=settings)
        db.session.commit()
        return [(queue, ids, claim.lease) for queue, ids in claim.batches()]


def run_here(app: Flask, due_ids: list[int], lease: str, cadence: t.Any = None) -> Synced | None:
    """Run one child's batch in this process, the way the worker's task does (on the app's
    cadence unless another is given)."""
    from gateway.extensions import db
    from gateway.runtime import diary_service
    from gateway.runtime import services
    from gateway.services import sync

    with app.app_context():
        svc = services()
        worker = sync.SyncService(
            db.session,
            diary=diary_service(),
            cadence=cadence or svc.cadence,
            now=svc.now,
            zone=ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"]),
        )
        synced = worker.run(due_ids, lease=lease)
        db.session.commit()
        return synced


def make_due(
    app: Flask,
    *,
    queue: str | None = None,
    section: str | None = None,
    synced_yesterday: bool = False,
) -> dt.datetime:
    """Make every row (or a section's) due now, keeping its queue unless one is named.

    ``synced_yesterday`` dates each row's last sync a day back, so that the next one is the
    day's first and reads every period whole.
    """
    from gateway.extensions import db
    from gateway.models import Queue
    from gateway.models import SyncDue
    from gateway.services.due import PRIORITY

    now = dt.datetime.now(dt.UTC)
    values: dict[str, t.Any] = {"due_at": now - dt.timedelta(seconds=1)}
    if synced_yesterday:
        values["synced_at"] = now - dt.timedelta(days=1)
    if queue is not None:
        values |= {"queue": Queue(queue), "priority": PRIORITY[Queue(queue)]}
    statement = sa.update(SyncDue).values(values)
    if section is not None:
        statement = statement.where(SyncDue.section == section)
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()
    return now


def pending_rows(app: Flask, since: dt.datetime) -> int:
    """Return the rows not synced since ``since`` (or still leased)."""
    from gateway.extensions import db
    from gateway.models import SyncDue

    with app.app_context():
        found = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(SyncDue)
            .where(
                sa.or_(
                    SyncDue.synced_at.is_(None),
                    SyncDue.synced_at < since,
                    SyncDue.leased_by.is_not(None),
                )
            )
        )
        db.session.rollback()
        return int(found or 0)


def all_synced_since(app: Flask, since: dt.datetime) -> bool:
    """Return True once every row was synced since ``since`` and released."""
    return pending_rows(app, since) == 0


def settled_on_schedule(app: Flask) -> bool:
    """Return True once every row has its baseline and backfill and waits on the schedule."""
    from gateway.extensions import db
    from gateway.models import Queue
    from gateway.models import SyncDue

    with app.app_context():
        rows = db.session.scalars(sa.select(SyncDue)).all()
        done = bool(rows) and all(
            row.queue is Queue.SCHEDULED and row.backfilled_at is not None and not row.leased_by
            for row in rows
        )
        db.session.rollback()
        return done


@dataclass
class PhaseCounts:
    """Backend requests of each child's sync in one phase, by connector."""

    per_child: dict[str, list[Counter[str]]] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    def add(self, connector: str, counter: Counter[str]) -> None:
        """Note one child's requests."""
        self.per_child.setdefault(connector, []).append(counter)

    def mean(self, connector: str) -> float:
        """Return the mean requests per child of a connector."""
        found = self.per_child.get(connector, [])
        return statistics.mean(_total(c) for c in found) if found else 0.0

    def endpoints(self, connector: str) -> Counter[str]:
        """Return the requests per endpoint, per child (rounded up when children differ)."""
        found = self.per_child.get(connector, [])
        summed: Counter[str] = sum(found, Counter())
        return Counter({k: -(-v // len(found)) for k, v in summed.items()}) if found else summed


def sync_phase(world: SyncStack, links: dict[int, str], *, alone: bool = False) -> PhaseCounts:
    """Tick once and run each claimed child's batch here, counting its backend requests."""
    counts = PhaseCounts()
    for _, due_ids, lease in tick_here(world.app, alone=alone):
        before = backend_stats(world.stack)
        synced = run_here(world.app, due_ids, lease)
        delta = _delta(before, backend_stats(world.stack))
        if synced is None:
            continue
        connector = links[synced.link_id]
        counts.add(connector, delta[connector])
        if synced.failed:
            counts.failed.append(f"link {synced.link_id}: {synced.failed}")
    return counts


# --------------------------------------------------------------------------- changes


def _maxims_lessons() -> list[int]:
    """Return Максим's taught lessons of the last six days, latest first (the emulator's world)."""
    from regional_mock.world import build_world
    from regional_mock.world import demo_today

    today = demo_today()
    world = build_world(today=today, seed=int(os.environ.get("DEMO_SEED") or 2026))
    student = world.student_by_name(MAXIM)
    found = world.lessons_of(student.id, today - dt.timedelta(days=6), today)
    taught = sorted(
        (x for x in found if x.status == "planned"), key=lambda x: (x.date, x.number), reverse=True
    )
    return [x.id for x in taught]


def last_change_id(app: Flask) -> int:
    """Return the id of the newest row of record_changes (0 when none)."""
    from gateway.extensions import db
    from gateway.models import RecordChange

    with app.app_context():
        found = db.session.scalar(sa.select(sa.func.max(RecordChange.id)))
        db.session.rollback()
        return int(found or 0)


def grade_change_after(app: Flask, seen: int) -> bool:
    """Return True once a grades change newer than ``seen`` is stored."""
    from gateway.extensions import db
    from gateway.models import RecordChange

    with app.app_context():
        found = db.session.scalar(
            sa.select(RecordChange.id).where(
                RecordChange.id > seen, RecordChange.section == "grades"
            )
        )
        db.session.rollback()
        return found is not None


def hurry_grades(app: Flask, link_id: int) -> int:
    """Put a child's grades first in line, as a parent's refresh would; return rows moved."""
    from connectors.schema import Section
    from gateway.extensions import db
    from gateway.services import due

    with app.app_context():
        moved = due.hurry(
            db.session,
            link_id,
            [Section.GRADES],
            now=dt.datetime.now(dt.UTC),
            debounce=dt.timedelta(0),
        )
        db.session.commit()
        return moved


def grades_synced_at(app: Flask, link_id: int) -> dt.datetime | None:
    """Return when a child's grades row was last synced."""
    from gateway.extensions import db
    from gateway.models import SyncDue

    with app.app_context():
        found = db.session.scalar(
            sa.select(SyncDue.synced_at).where(
                SyncDue.link_id == link_id, SyncDue.section == "grades"
            )
        )
        db.session.rollback()
        return found


def grades_wait(app: Flask, link_id: int) -> float:
    """Return the seconds between a child's last grades sync and its next due time."""
    from gateway.extensions import db
    from gateway.models import SyncDue

    with app.app_context():
        row = db.session.scalars(
            sa.select(SyncDue).where(SyncDue.link_id == link_id, SyncDue.section == "grades")
        ).one()
        wait = (row.due_at - row.synced_at).total_seconds() if row.synced_at else 0.0
        db.session.rollback()
        return wait


def synced_again(app: Flask, link_id: int, last: dt.datetime | None) -> bool:
    """Return True once a child's grades were synced after ``last``."""
    return grades_synced_at(app, link_id) != last


def send_tick(app: Flask) -> None:
    """Send the tick to the broker, as beat does."""
    from gateway.jobs import TICK

    with app.app_context():
        app.extensions["celery"].send_task(TICK, queue="scheduled")


# --------------------------------------------------------------------------- the family page


def age_snapshots(app: Flask, by: dt.timedelta) -> int:
    """Move every snapshot's fetch time back by ``by``, as hours without a sync would."""
    from gateway.extensions import db
    from gateway.models import SectionSnapshot

    with app.app_context():
        rows = db.session.scalars(sa.select(SectionSnapshot)).all()
        for row in rows:
            row.fetched_at = row.fetched_at - by
        db.session.commit()
        return len(rows)


def page_requests(stack: Stack, browser: requests.Session, settle: float) -> tuple[int, int]:
    """Load the family page; return backend requests while serving it and in ``settle`` after."""
    before = backend_stats(stack)
    _expect(browser.get(f"{stack.gateway}/", timeout=TIMEOUT), 200, "family page")
    served = backend_stats(stack)
    time.sleep(settle)
    after = backend_stats(stack)
    during = sum(_total(c) for c in _delta(before, served).values())
    behind = sum(_total(c) for c in _delta(served, after).values())
    return during, behind


def _cpu_of_tree(pid: int) -> float:
    """Return the CPU seconds of a process and its children (gunicorn's workers)."""
    total = cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(OSError):
                total += cpu_seconds(int(child))
    return total


def gunicorn_ratio(
    world: SyncStack, browser: requests.Session, concurrency: int, duration: float
) -> tuple[Load, Load]:
    """Serve the gateway with gunicorn (2 workers); load the warm page and /healthz."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    pid = world.start(
        "gunicorn",
        [
            *[PYTHON, "-m", "gunicorn", "gateway:create_app()"],
            *["--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
            "--no-control-socket",
        ],
    )
    _wait_until_up(
        "gunicorn", f"{url}/healthz", world.processes["gunicorn"], world.folder / "gunicorn.log"
    )
    _expect(browser.get(f"{url}/", timeout=TIMEOUT), 200, "family page under gunicorn")
    for _ in range(20):  # both workers render the cards once
        browser.get(f"{url}/", timeout=TIMEOUT)
    page, health = Load(), Load()
    for _ in range(2):  # alternating halves, so drifting machine load hits both alike
        for target, total in ((f"{url}/", page), (f"{url}/healthz", health)):
            cpu = _cpu_of_tree(pid)
            one = generate_load(target, browser.cookies, concurrency, duration / 2, pid)
            one.cpu = _cpu_of_tree(pid) - cpu
            total.add(one)
    world.stop("gunicorn")
    return page, health


# --------------------------------------------------------------------------- a school hour

# A school-day morning in Moscow (10:00): the simulated hour runs on the school-hours cadence.
SCHOOL_MORNING = dt.time(7, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _steady_rows(app: Flask, start: dt.datetime, seed: int, cadence: t.Any) -> None:
    """Spread every row's next sync over its school-hours interval, as a running day has them,
    each last synced earlier that morning (so the hour's syncs are the day's later ones)."""
    from connectors.schema import Section
    from gateway.extensions import db
    from gateway.models import Queue
    from gateway.models import SyncDue
    from gateway.services.due import PRIORITY

    rng = random.Random(seed)
    with app.app_context():
        for row in db.session.scalars(sa.select(SyncDue).order_by(SyncDue.id)):
            interval = cadence.interval(Section(row.section), start, row.link.instance.timezone)
            row.due_at = start + interval * rng.random()
            row.synced_at = start - HOUR
            row.queue, row.priority = Queue.SCHEDULED, PRIORITY[Queue.SCHEDULED]
            row.leased_by = row.lease_until = None
        db.session.commit()


def school_hour(
    world: SyncStack, links: dict[int, str], *, ride_along: dt.timedelta, seed: int
) -> tuple[Counter[str], Counter[str]]:
    """Run an hour of school-hours ticks on a pinned clock, on the cadence of the shipped
    config/sync.toml; return backend requests and syncs of a section (rows) per connector."""
    import tomllib

    from gateway.extensions import db
    from gateway.runtime import Services
    from gateway.runtime import services
    from gateway.services import sync
    from gateway.services.cadence import Cadence

    with (ROOT / "config" / "sync.toml").open("rb") as fh:
        shipped = tomllib.load(fh)["sync"]
    cadence = Cadence.from_mapping(shipped)
    settings = dataclasses.replace(sync.TickSettings.from_mapping(shipped), ride_along=ride_along)

    start = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), SCHOOL_MORNING)
    clock = {"now": start}
    real_now = Services.__dict__["now"]  # the staticmethod itself, to put back as it was
    Services.now = staticmethod(lambda: clock["now"])  # type: ignore[method-assign]
    try:
        _steady_rows(world.app, start, seed, cadence)
        sent: Counter[str] = Counter()
        synced: Counter[str] = Counter()
        while clock["now"] < start + HOUR:
            with world.app.app_context():
                claim = sync.tick(
                    db.session, pool=services().pool, now=clock["now"], settings=settings
                )
                db.session.commit()
            for _, due_ids in claim.batches():
                before = backend_stats(world.stack)
                done = run_here(world.app, due_ids, claim.lease, cadence)
                if done is not None:
                    connector = links[done.link_id]
                    after = backend_stats(world.stack)
                    sent[connector] += _total(after[connector] - before[connector])
                    synced[connector] += len(due_ids)
            clock["now"] += settings.tick
        return sent, synced
    finally:
        setattr(Services, "now", real_now)  # noqa: B010


# --------------------------------------------------------------------------- the run


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _top(counter: Counter[str], n: int = 4) -> str:
    return ", ".join(f"{count}× {key}" for key, count in counter.most_common(n))


def _declared_rpm() -> dict[str, int]:
    import tomllib

    with (ROOT / "config" / "connectors.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    return {i["connector"]: int(i.get("requests_per_minute") or 0) for i in raw["instance"]}


def run(args: argparse.Namespace) -> None:
    """Start the stack, measure, print."""
    rows: list[tuple[str, str]] = []
    detail: list[str] = []
    started = time.monotonic()
    with sync_stack(args) as world:
        stack = world.stack
        print(f"stack up: gateway {stack.gateway}, folder {world.folder}")
        browsers = []
        for phone, password in PARENTS[: args.parents]:
            browser = sign_in_as(stack, phone, password)
            link_children(stack, browser)
            browsers.append(browser)
        irina = browsers[0]
        links = _links(world.app)
        per_connector = Counter(links.values())
        print(f"linked {len(links)} children: {dict(per_connector)}")
        mine = {child_id: connector for child_id, connector, _ in children(stack)}

        # Baseline and backfill, here: every child's first sync and its school year.
        baseline = sync_phase(world, links)
        backfill = sync_phase(world, links)
        for _ in range(3):
            if settled_on_schedule(world.app):
                break
            sync_phase(world, links)
        if not settled_on_schedule(world.app):
            raise BenchError("the baseline and backfill did not settle every row on the schedule")
        make_due(world.app)
        sync_phase(world, links)  # warms this process's pool and the backends' sessions
        make_due(world.app)
        incremental = sync_phase(world, links)
        make_due(world.app, synced_yesterday=True)
        whole = sync_phase(world, links)  # the day's first sync reads every period whole
        by_section: dict[str, PhaseCounts] = {}
        for section in SECTIONS:  # one section at a time: what the cadence's syncs cost
            make_due(world.app, section=section)
            by_section[section] = sync_phase(world, links, alone=True)
        cold = cold_page(stack, irina)  # today's full fetch: every section of Ирина's three
        cold_by = {c: _total(cold.requests[c]) for c in EMULATORS}

        rows.append(("1. BACKEND REQUESTS PER CHILD (target ≤ 4 per incremental sync)", ""))
        for connector in EMULATORS:
            rows.append(
                (
                    f"   {TITLES[connector]}: incremental sync / day's first sync / cold page "
                    "/ baseline / backfill",
                    f"{incremental.mean(connector):.0f} / {whole.mean(connector):.0f} / "
                    f"{cold_by[connector]} / {baseline.mean(connector):.0f} / "
                    f"{backfill.mean(connector):.0f}",
                )
            )
            detail.append(
                f"  {TITLES[connector]} incremental sync, per child: "
                f"{_top(incremental.endpoints(connector), 20)}"
            )
        rows.append(("   one section alone, per child: " + " / ".join(SECTIONS), ""))
        for connector in EMULATORS:
            costs = [
                f"{by_section[s].mean(connector):.0f}"
                if by_section[s].per_child.get(connector)
                else "–"
                for s in SECTIONS
            ]
            rows.append((f"     {TITLES[connector]}", " / ".join(costs)))
        if incremental.failed:
            rows.append(("   sections that failed", "; ".join(incremental.failed)))

        # 4. The morning family page: after the sync, and with the snapshots aged.
        make_due(world.app)
        sync_phase(world, links)
        rows.append(("4. FAMILY PAGE AFTER THE SYNC: backend requests (target 0)", ""))
        for label, aged in (
            ("just synced", dt.timedelta(0)),
            ("snapshots 30 min old (last sync half an hour ago)", dt.timedelta(minutes=30)),
            ("snapshots 3 h old (half the night interval of 6 h)", dt.timedelta(hours=3)),
        ):
            if aged:
                make_due(world.app)
                sync_phase(world, links)
                age_snapshots(world.app, aged)
            during, behind = page_requests(stack, irina, settle=2.0)
            rows.append((f"   {label}: while serving / behind the page", f"{during} / {behind}"))

        # 2. Throughput of one real worker with latency on every emulator.
        start_worker(world, args.concurrency)
        set_latency(stack, args.latency_ms)
        for url in stack.emulators.values():
            requests.post(f"{url}/__admin/stats/reset", timeout=TIMEOUT).raise_for_status()
        task_log_start = len(TASK_DONE.findall(world.log("worker")))
        worker_pid = world.processes["worker"].pid
        worker_cpu = cpu_seconds(worker_pid)
        begun = time.monotonic()
        for _ in range(args.rounds):
            since = make_due(world.app, queue="scheduled")
            send_tick(world.app)
            round_done = functools.partial(all_synced_since, world.app, since)
            _until(round_done, "a round synced", world, "worker")
        seconds = time.monotonic() - begun
        worker_cpu = cpu_seconds(worker_pid) - worker_cpu
        durations = [float(x) for x in TASK_DONE.findall(world.log("worker"))[task_log_start:]]
        budgets = {
            name: requests.get(f"{url}/__admin/budget", timeout=TIMEOUT).json()
            for name, url in stack.emulators.items()
        }
        set_latency(stack, 0)
        synced = len(links) * args.rounds
        declared = _declared_rpm()
        mean_task = statistics.mean(durations) if durations else 0.0
        rows += [
            (
                f"2. CHILDREN SYNCED PER SECOND, one worker (-c {args.concurrency}), "
                f"+{args.latency_ms} ms",
                f"{synced / seconds:.2f} /s ({synced} syncs in {seconds:.1f} s, "
                f"{args.rounds} rounds of {len(links)})",
            ),
            (
                "   sync.run task time (worker log): median / p95",
                f"{statistics.median(durations) if durations else 0:.2f} s / "
                f"{_p(durations, 0.95):.2f} s ({len(durations)} tasks)",
            ),
            (
                "   … so one worker's threads at most",
                f"{args.concurrency / mean_task if mean_task else 0:.1f} children/s "
                "(concurrency / mean task time, if the CPU keeps up)",
            ),
        ]
        sent = sum(budgets[name]["total"] for name in EMULATORS)
        rows += [
            (
                "   backend requests per second of the worker",
                f"{sent / seconds:.1f} ({sent} in {seconds:.1f} s)",
            ),
            (
                "   worker CPU: per child sync / per backend request",
                f"{worker_cpu * 1000 / synced:.0f} ms / {worker_cpu * 1000 / max(sent, 1):.1f} ms "
                f"({worker_cpu / seconds:.2f} cores busy)",
            ),
        ]
        for name in EMULATORS:
            rows.append(
                (
                    f"   {TITLES[name]}: requests_per_minute declared / peak observed / total",
                    f"{declared.get(name, 0)} / {budgets[name]['peak_per_minute']} / "
                    f"{budgets[name]['total']}",
                )
            )

        # 3. From a mark at NetSchool to its row in record_changes.
        from regional_mock.day_client import DayClient

        start_beat(world)
        maxim = next(link for link, connector in mine.items() if connector == "netschool")
        lessons = _maxims_lessons()
        day = DayClient(stack.emulators["netschool"])
        interactive: list[float] = []
        scheduled: list[float] = []
        rng = random.Random(2026)
        for sample in range(args.samples):
            seen = last_change_id(world.app)
            day.add_mark(student="Максим", lesson_id=lessons[sample % len(lessons)], value=2)
            marked = time.monotonic()
            hurry_grades(world.app, maxim)
            send_tick(world.app)
            stored = _until(functools.partial(grade_change_after, world.app, seen), "a change")
            interactive.append(stored - marked)
        for sample in range(args.samples):
            # A mark lands at a random moment of the grades interval.
            last = grades_synced_at(world.app, maxim)
            _until(functools.partial(synced_again, world.app, maxim, last), "a scheduled sync")
            time.sleep(rng.uniform(0, args.grades_minutes * 60))
            seen = last_change_id(world.app)
            lesson = lessons[(args.samples + sample) % len(lessons)]
            day.add_mark(student="Максим", lesson_id=lesson, value=3)
            marked = time.monotonic()
            stored = _until(functools.partial(grade_change_after, world.app, seen), "a change")
            scheduled.append(stored - marked)
        wait = grades_wait(world.app, maxim)
        world.stop("beat")
        rows += [
            (
                "3. MARK AT NETSCHOOL → record_changes: interactive (hurry + tick)",
                f"median {statistics.median(interactive):.2f} s, max {max(interactive):.2f} s "
                f"({len(interactive)} samples)",
            ),
            (
                f"   scheduled (grades every {args.grades_minutes} min, "
                f"tick {args.tick_seconds} s, mark at a random moment)",
                ", ".join(f"{x:.1f} s" for x in scheduled)
                + f" (median {statistics.median(scheduled):.1f} s)",
            ),
            (
                "   … the grades row's wait between syncs (interval with its spread)",
                f"{wait:.0f} s",
            ),
        ]
        world.stop("worker")

        # 6. An hour of school on the cadence, with and without the ride-along.
        kids = Counter(links.values())
        rows.append(
            (
                "6. A SIMULATED SCHOOL HOUR (10:00-11:00 MSK, config/sync.toml), per child: "
                "backend requests / section syncs",
                "",
            )
        )
        for ride in (dt.timedelta(0), dt.timedelta(minutes=5)):
            sent, synced = school_hour(world, links, ride_along=ride, seed=2026)
            figures = " / ".join(
                f"{TITLES[c]} {sent[c] / kids[c]:.0f} / {synced[c] / kids[c]:.0f}"
                for c in EMULATORS
            )
            rows.append((f"   ride-along {ride.total_seconds() / 60:.0f} min", figures))

        # 5. Warm family page under gunicorn against /healthz.
        make_due(world.app)
        sync_phase(world, links)
        page, health = gunicorn_ratio(world, irina, args.load_concurrency, args.duration)
        ratio = page.rps / health.rps if health.rps else 0.0
        rows += [
            (
                f"5. WARM FAMILY PAGE / HEALTHZ under gunicorn (2 workers × 4 threads), "
                f"{args.load_concurrency} clients",
                f"{ratio:.2f} (target ≥ 0.5)",
            ),
            (
                "   family page / healthz",
                f"{page.rps:.1f} / {health.rps:.1f} req/s (p50 {_p(page.latencies, 0.5) * 1000:.0f}"
                f" / {_p(health.latencies, 0.5) * 1000:.0f} ms, failed {page.failed}/"
                f"{health.failed})",
            ),
            (
                "   gunicorn CPU per request: page / healthz",
                f"{page.cpu_ms:.1f} / {health.cpu_ms:.1f} ms "
                f"(ratio from CPU {health.cpu_ms / page.cpu_ms if page.cpu_ms else 0:.2f})",
            ),
        ]
    load = os.getloadavg()
    width = max(len(label) for label, _ in rows)
    print(f"\nDiary Gateway: the background sync ({len(links)} children, {args.parents} parents)")
    print("-" * (width + 50))
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print("-" * (width + 50))
    print("endpoints that dominate:")
    print("\n".join(detail))
    print(
        f"machine: load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on "
        f"{os.cpu_count()} CPUs; run took {time.monotonic() - started:.0f} s"
    )
    print("figures only; nothing is asserted about time.")


def parse_args(argv: t.Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__)
    add = parser.add_argument
    add("--parents", type=int, default=3, help="demo parents linking Ирина's three (1-3; 3)")
    add("--latency-ms", type=int, default=50, help="added per emulator request (50)")
    add("--concurrency", type=int, default=4, help="the worker's threads (4, as make run)")
    add("--rounds", type=int, default=4, help="throughput rounds of every child (4)")
    add("--samples", type=int, default=2, help="marks per kind of refresh (2)")
    add("--grades-minutes", type=int, default=1, help="the grades cadence for item 3 (1)")
    add("--tick-seconds", type=int, default=5, help="the scheduler's tick for item 3 (5)")
    add("--load-concurrency", type=int, default=8, help="load threads (8)")
    add("--duration", type=float, default=10.0, help="seconds of load per URL (10)")
    args = parser.parse_args(argv)
    args.parents = max(1, min(args.parents, len(PARENTS)))
    args.rounds = max(1, min(args.rounds, 50))
    args.samples = max(1, min(args.samples, 10))
    args.grades_minutes = max(1, min(args.grades_minutes, 60))
    args.tick_seconds = max(1, min(args.tick_seconds, 60))
    return args


def _terminated(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: t.Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        run(args)
    except KeyboardInterrupt:
        print("interrupted; everything stopped", file=sys.stderr)
        return 130
    except BenchError as err:
        print(f"benchmark failed: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
