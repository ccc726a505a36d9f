"""How soon a parent hears: seconds from a mark at the school to each channel's delivery.

Run from the repository root: ``.venv/bin/python -m bench.delivery [--samples N]
[--grades-minutes M]``. It starts the stack of ``bench.sync`` (idp_mock, the emulators, a
werkzeug gateway, temporary SQLite databases) with the channels' far ends in this process:
an SMTP server (aiosmtpd), a push service that takes every message (201), and the Bot API
stand-in (``bot_mock``). Ирина signs in, links her three children, subscribes a browser to
Web Push and binds a Telegram chat from the preferences page, and turns quiet hours off; a
real Celery worker and beat run as in production (``notify.send`` every ``[mail]
send_seconds``, and asked at once by a sync that recorded changes). Then a teacher gives
Максим marks at the NetSchool emulator:

1. interactive: Ирина presses «Обновить сейчас» on his grades right after each mark;
2. scheduled: nobody looks; the beat's tick syncs his grades every ``--grades-minutes``,
   and each mark lands at a random moment of that interval.

Printed per channel: seconds from the mark to the letter at the SMTP server, the message at
the push service and the message at the Bot API. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as dt
import html
import logging
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import typing as t
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import PublicFormat
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from bench import sync as bench_sync
from bench.family_page import TIMEOUT
from bench.family_page import BenchError
from bench.family_page import _csrf
from bench.family_page import _expect
from bench.family_page import free_port
from bench.family_page import link_children

CHANNELS = ("e-mail", "Web Push", "Telegram")
CHAT = 5001


@dataclasses.dataclass
class Arrivals:
    """When each channel's far end took a message (monotonic seconds), in order."""

    times: dict[str, list[float]] = dataclasses.field(
        default_factory=lambda: {"e-mail": [], "Web Push": []}
    )
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    bot: t.Any = None  # the stand-in's state: each message it sent keeps its monotonic time

    def arrived(self, channel: str) -> None:
        """Note a message on ``channel`` now."""
        with self.lock:
            self.times[channel].append(time.monotonic())

    def of(self, channel: str) -> list[float]:
        """Return when ``channel`` took each message so far."""
        if channel == "Telegram":
            return [m.at for m in list(self.bot.sent) if m.chat_id == CHAT]
        with self.lock:
            return list(self.times[channel])

    def counts(self) -> dict[str, int]:
        """Return every channel's count so far."""
        return {channel: len(self.of(channel)) for channel in CHANNELS}

    def after(self, counts: dict[str, int], since: float, wait: float) -> dict[str, float]:
        """Wait until every channel took one more than ``counts``; return each one's delay
        from ``since``."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            found = {channel: self.of(channel) for channel in CHANNELS}
            if all(len(found[c]) > counts[c] for c in CHANNELS):
                return {c: found[c][counts[c]] - since for c in CHANNELS}
            time.sleep(0.02)
        missing = [c for c in CHANNELS if len(self.of(c)) <= counts[c]]
        raise BenchError(f"not within {wait:.0f} s by {', '.join(missing)}")


class Mailbox:
    """An SMTP handler that notes when each letter arrived."""

    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        """Take a letter (aiosmtpd's hook)."""
        self.arrivals.arrived("e-mail")
        return "250 OK"


@contextmanager
def far_ends(arrivals: Arrivals) -> Iterator[dict[str, str]]:
    """Run the SMTP server, the push service and the Bot API stand-in; yield the gateway
    environment that points at them."""
    from bot_mock import create_app as bot_app
    from bot_mock.app import DEMO_TOKEN
    from bot_mock.app import DEMO_USERNAME
    from gateway.services.push import new_vapid_key

    def push_service(environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        Request(environ).get_data()
        arrivals.arrived("Web Push")
        return Response("", status=201)(environ, start_response)

    bot = bot_app()
    arrivals.bot = bot.extensions["bot_mock"]
    smtp_port = free_port()
    mail = Controller(Mailbox(arrivals), hostname="127.0.0.1", port=smtp_port)
    servers = [make_server("127.0.0.1", 0, app, threaded=True) for app in (push_service, bot)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    mail.start()
    for thread in threads:
        thread.start()
    push_url, bot_url = (f"http://127.0.0.1:{s.server_port}" for s in servers)
    try:
        yield {
            "GATEWAY_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "GATEWAY_VAPID_KEY": new_vapid_key(),
            "GATEWAY_TELEGRAM_TOKEN": DEMO_TOKEN,
            "GATEWAY_TELEGRAM_BOT": DEMO_USERNAME,
            "GATEWAY_TELEGRAM_API_URL": bot_url,
            "GATEWAY_TELEGRAM_LINK_URL": bot_url,
            "BENCH_PUSH_URL": push_url,
        }
    finally:
        for server in servers:
            server.shutdown()
        mail.stop()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _subscription(push_url: str) -> dict[str, t.Any]:
    """What ``PushSubscription.toJSON()`` gives the page of a browser with fresh keys."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    keys = {"p256dh": _b64(point), "auth": _b64(os.urandom(16))}
    return {"endpoint": f"{push_url}/push/irina", "keys": keys}


def prepare(world: bench_sync.SyncStack, far: dict[str, str]) -> tuple[requests.Session, str]:
    """Sign Ирина in, link her children and sync them to the schedule, subscribe a browser,
    bind her Telegram chat and turn quiet hours off; return her browser and a CSRF token."""
    from gateway import jobs
    from gateway.extensions import db
    from gateway.models import NotificationSettings
    from gateway.models import User

    stack = world.stack
    irina = bench_sync.sign_in_as(stack, *bench_sync.PARENTS[0])
    link_children(stack, irina)
    links = bench_sync._links(world.app)
    for _ in range(6):
        if bench_sync.settled_on_schedule(world.app):
            break
        bench_sync.sync_phase(world, links)
    page = _expect(irina.get(f"{stack.gateway}/notifications/", timeout=TIMEOUT), 200, "settings")
    csrf = _csrf(page.text)
    subscribed = irina.post(
        f"{stack.gateway}/notifications/push",
        json=_subscription(far["BENCH_PUSH_URL"]),
        headers={"X-CSRFToken": csrf},
        timeout=TIMEOUT,
    )
    _expect(subscribed, 201, "the push subscription")
    connect = irina.post(
        f"{stack.gateway}/notifications/telegram/connect",
        data={"csrf_token": csrf},
        timeout=TIMEOUT,
    )
    found = re.search(r'<a class="button" href="([^"]+)"', _expect(connect, 200, "Telegram").text)
    if found is None:
        raise BenchError("the Telegram page shows no link")
    start = html.unescape(found[1]).split("?start=", 1)[1]
    requests.post(
        f"{far['GATEWAY_TELEGRAM_API_URL']}/__admin/start",
        json={"chat_id": CHAT, "first_name": "Ирина", "param": start},
        timeout=TIMEOUT,
    ).raise_for_status()
    with world.app.app_context():
        if jobs.receive_telegram() != 1:
            raise BenchError("the bot did not bind Ирина's chat")
        irinas = sa.select(User).where(User.email.like("irina%"))
        parent = db.session.scalars(irinas).one()
        db.session.merge(
            NotificationSettings(
                user_id=parent.id,
                quiet_from=dt.time(0),
                quiet_until=dt.time(0),  # equal: no quiet hours, whatever the hour here
                digest_at=dt.time(19),
            )
        )
        db.session.commit()
    return irina, csrf


def _maxim(world: bench_sync.SyncStack) -> int:
    links = bench_sync._links(world.app)
    return next(link for link, connector in links.items() if connector == "netschool")


def interactive(
    world: bench_sync.SyncStack, irina: requests.Session, csrf: str, arrivals: Arrivals, n: int
) -> list[dict[str, float]]:
    """A mark, then Ирина's «Обновить сейчас» on his grades: each channel's delay."""
    from regional_mock.day_client import DayClient

    maxim, lessons = _maxim(world), bench_sync._maxims_lessons()
    day = DayClient(world.stack.emulators["netschool"])
    found = []
    for sample in range(n):
        time.sleep(10)  # under the refresh limit (6 a minute), at any phase of the beat
        bench_sync.age_snapshots(world.app, dt.timedelta(minutes=5))  # past the debounce
        counts = arrivals.counts()
        day.add_mark(student="Максим", lesson_id=lessons[sample % len(lessons)], value=2)
        marked = time.monotonic()
        refreshed = irina.post(
            f"{world.stack.gateway}/child/{maxim}/refresh",
            data={"page": "child", "section": "grades", "csrf_token": csrf},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        _expect(refreshed, 303, "«Обновить сейчас»")
        found.append(arrivals.after(counts, marked, wait=120))
    return found


def scheduled(
    world: bench_sync.SyncStack, arrivals: Arrivals, n: int, grades_minutes: int
) -> list[dict[str, float]]:
    """A mark at a random moment of the grades interval, nobody looking: each delay."""
    from regional_mock.day_client import DayClient

    maxim, lessons = _maxim(world), bench_sync._maxims_lessons()
    day = DayClient(world.stack.emulators["netschool"])
    rng = random.Random(2026)
    found = []
    for sample in range(n):
        last = bench_sync.grades_synced_at(world.app, maxim)
        bench_sync._until(
            lambda last=last: bench_sync.synced_again(world.app, maxim, last), "a scheduled sync"
        )
        time.sleep(rng.uniform(0, grades_minutes * 60))
        counts = arrivals.counts()
        lesson = lessons[(n + sample) % len(lessons)]
        day.add_mark(student="Максим", lesson_id=lesson, value=3)
        marked = time.monotonic()
        found.append(arrivals.after(counts, marked, wait=grades_minutes * 120 + 120))
    return found


def _figures(samples: list[dict[str, float]]) -> list[str]:
    return [
        f"   {channel:<9} median {statistics.median(s[channel] for s in samples):5.2f} s, "
        f"max {max(s[channel] for s in samples):5.2f} s"
        for channel in CHANNELS
    ]


def measure(
    world: bench_sync.SyncStack, far: dict[str, str], arrivals: Arrivals, args: argparse.Namespace
) -> dict[str, list[dict[str, float]]]:
    """Prepare Ирина, start the worker and the beat, and take both phases' samples."""
    print(f"stack up: gateway {world.stack.gateway}, folder {world.folder}")
    irina, csrf = prepare(world, far)
    bench_sync.start_worker(world, args.concurrency)
    bench_sync.start_beat(world)
    return {
        "interactive": interactive(world, irina, csrf, arrivals, args.samples),
        "scheduled": scheduled(world, arrivals, args.samples, args.grades_minutes),
    }


def run(args: argparse.Namespace) -> None:
    """Start the stack and the channels' far ends, measure, print."""
    started = time.monotonic()
    arrivals = Arrivals()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the far ends' request lines
    with (
        tempfile.TemporaryDirectory(prefix="bench-delivery-") as folder,
        far_ends(arrivals) as far,
    ):
        # The gateway server's cadence too: a refresh reschedules the grades by it.
        cadence = bench_sync.short_sync_file(Path(folder), args.grades_minutes, args.tick_seconds)
        shared = {
            "GATEWAY_SYNC_FILE": str(cadence),
            # The gateway server's refresh asks the worker for a send: one broker for both.
            "GATEWAY_BROKER_URL": f"sqla+sqlite:///{Path(folder) / 'broker.sqlite3'}",
        }
        with bench_sync.sync_stack(args, extra={**far, **shared}) as world:
            samples = measure(world, far, arrivals, args)
            rounds = world.app.config["NOTIFY_SEND_SECONDS"]
    quick, slow = samples["interactive"], samples["scheduled"]
    print("\nDiary Gateway: from a mark at NetSchool to each channel (Ирина, quiet hours off)")
    print(f"1. interactive: «Обновить сейчас» right after the mark ({len(quick)} samples)")
    print("\n".join(_figures(quick)))
    print(
        f"2. scheduled: grades synced every {args.grades_minutes} min, tick "
        f"{args.tick_seconds} s, the mark at a random moment ({len(slow)} samples)"
    )
    print("\n".join(_figures(slow)))
    print(
        f"the beat's own send round runs every {rounds:.0f} s; a sync or refresh that "
        "recorded changes asks for a send at once."
    )
    load = os.getloadavg()
    print(
        f"machine: load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on "
        f"{os.cpu_count()} CPUs; run took {time.monotonic() - started:.0f} s"
    )
    print("figures only; nothing is asserted about time.")


def parse_args(argv: t.Sequence[str] | None = None) -> argparse.Namespace:
    """Read the knobs."""
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__)
    parser.add_argument("--samples", type=int, default=5, help="marks per phase (5)")
    parser.add_argument(
        "--grades-minutes", type=int, default=1, help="the scheduled grades interval (1)"
    )
    parser.add_argument("--tick-seconds", type=int, default=5, help="the sync tick (5)")
    parser.add_argument("--concurrency", type=int, default=4, help="worker threads (4)")
    return parser.parse_args(argv)


def main(argv: t.Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    try:
        run(parse_args(argv))
    except BenchError as err:
        print(f"bench.delivery: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
