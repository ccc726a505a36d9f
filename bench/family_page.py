"""Benchmark Ирина's family page: backend round trips on the critical path, throughput, memory.

Run ``.venv/bin/python -m bench.family_page`` (``--help`` for the knobs). It starts idp_mock,
the three regional emulators and a gateway as subprocesses on free loopback ports, in a
temporary folder with temporary SQLite databases; signs in as Ирина, links her three children
(MESH with the SMS code, Dnevnik.ru on its own sign-in page, NetSchool at «Лицей № 3»), opens
each child's page once so that every backend session exists and is reused afterwards, and then:

1. cold family page: the snapshots are deleted before each load, so every child x section is
   fetched; medians of N loads with no added latency and N loads with every emulator adding
   ``--latency-ms`` to each request. (with - without) / latency is the number of sequential
   backend round trips on the page's critical path. The same is measured with the latency on
   one emulator at a time, to show which backend makes the critical path.
2. warm family page (fresh snapshots, no backend calls) against ``/healthz`` under the same
   concurrent load generator: requests per second of both, and their ratio.
3. the gateway process's peak resident memory (``VmHWM``).

It prints figures and asserts nothing about time. Every subprocess and the temporary folder
are removed on exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from collections import Counter
from collections.abc import Iterator
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import requests

from idp_mock.browser import authorize_at_idp

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
IRINA = ("+79000000001", "parent-demo-1")
EMULATORS = ("mesh", "dnevnik_ru", "netschool")
PORT_VARIABLES = {"mesh": "MESH_PORT", "dnevnik_ru": "DNEVNIK_PORT", "netschool": "NETSCHOOL_PORT"}
TITLES = {"mesh": "MESH", "dnevnik_ru": "Dnevnik.ru", "netschool": "NetSchool"}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
TIMEOUT = 30.0
LOAD_SLICES = 2
# Sign-in and token endpoints of the three emulators (NetSchool, MESH, Dnevnik.ru).
SIGN_IN = re.compile(r"/webapi/login$|/sps/login/|/token|/authorizations")


class BenchError(RuntimeError):
    """The stack or a sign-in step did not behave; the message says which."""


def free_port() -> int:
    """Return a loopback port that is free right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- the stack


@dataclass
class Stack:
    """The running processes and where they listen."""

    folder: Path
    gateway: str
    idp: str
    emulators: dict[str, str]
    database: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def gateway_pid(self) -> int:
        """Return the gateway server's process id."""
        return self.processes["gateway"].pid


def _environment(stack: Stack, ports: dict[str, int]) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GATEWAY_", "IDP_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{stack.database}",
            "GATEWAY_PUBLIC_URL": stack.gateway,
            "GATEWAY_OIDC_ISSUER": stack.idp,
            "GATEWAY_SECRET_KEY": "bench-gateway-secret",
            "GATEWAY_VAULT_KEYS": Fernet.generate_key().decode(),
            "IDP_DATABASE_URL": f"sqlite:///{stack.folder / 'idp.sqlite3'}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for system, variable in PORT_VARIABLES.items():
        env[variable] = str(ports[system])
    return env


def _wait_until_up(name: str, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{name} exited with {process.returncode}:\n{_tail(log)}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.2)
    raise BenchError(f"{name} did not answer at {url} within 60 s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    for process in processes.values():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def running_stack(extra: Mapping[str, str] | None = None) -> Iterator[Stack]:
    """Start idp_mock, the emulators and the gateway (with ``extra`` in their environment);
    stop them all on the way out."""
    with tempfile.TemporaryDirectory(prefix="bench-family-") as tmp:
        folder = Path(tmp)
        ports = {name: free_port() for name in ("gateway", "idp", *EMULATORS)}
        stack = Stack(
            folder=folder,
            gateway=f"http://127.0.0.1:{ports['gateway']}",
            idp=f"http://127.0.0.1:{ports['idp']}",
            emulators={name: f"http://127.0.0.1:{ports[name]}" for name in EMULATORS},
            database=folder / "gateway.sqlite3",
        )
        env = {**_environment(stack, ports), **(extra or {})}
        flask = [PYTHON, "-m", "flask", "--app", "gateway"]
        for step in (["migrate"], ["connectors", "load"]):
            done = subprocess.run(
                [*flask, *step], cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
            if done.returncode:
                raise BenchError(f"flask {' '.join(step)} failed:\n{done.stdout}{done.stderr}")
        serve = [PYTHON, "-m", "bench._serve"]
        commands = {
            "idp": [*serve, "idp", "--issuer", stack.idp],
            **{name: [*serve, name] for name in EMULATORS},
            "gateway": [*serve, "gateway"],
        }
        health = {
            "idp": f"{stack.idp}/.well-known/openid-configuration",
            **{name: f"{url}/__admin/stats" for name, url in stack.emulators.items()},
            "gateway": f"{stack.gateway}/healthz",
        }
        try:
            for name, command in commands.items():
                log = folder / f"{name}.log"
                with log.open("wb") as out:
                    stack.processes[name] = subprocess.Popen(
                        [*command, "--port", str(ports[name]), "--gateway", stack.gateway],
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
            for name, url in health.items():
                _wait_until_up(name, url, stack.processes[name], folder / f"{name}.log")
            yield stack
        finally:
            _stop(stack.processes)


# --------------------------------------------------------------------------- Ирина's browser


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise BenchError("the gateway's form carries no csrf_token")
    return found[1] or found[2]


def _expect(reply: requests.Response, status: int, step: str) -> requests.Response:
    if reply.status_code != status:
        text = re.sub(r"\s+", " ", reply.text)[:400]
        raise BenchError(f"{step}: HTTP {reply.status_code}, expected {status}: {text}")
    return reply


def _post_form(browser: requests.Session, url: str, data: dict[str, str], step: str) -> str:
    page = _expect(browser.get(url, timeout=TIMEOUT), 200, step)
    reply = browser.post(
        url, data={**data, "csrf_token": _csrf(page.text)}, allow_redirects=False, timeout=TIMEOUT
    )
    _expect(reply, 303, step)
    return reply.headers["Location"]


def sign_in(stack: Stack) -> requests.Session:
    """Sign Ирина in through idp_mock's pages and accept the consent; return her browser."""
    browser = requests.Session()
    start = _expect(
        browser.get(f"{stack.gateway}/login", allow_redirects=False, timeout=TIMEOUT), 302, "login"
    )
    back = authorize_at_idp(start.headers["Location"], *IRINA)
    done = browser.get(back, allow_redirects=False, timeout=TIMEOUT)
    _expect(done, 302, "the sign-in callback")
    if done.headers["Location"].endswith("/consent"):
        _post_form(browser, f"{stack.gateway}/consent", {"accept": "y"}, "consent")
    return browser


def link_children(stack: Stack, browser: requests.Session) -> None:
    """Link Артём (MESH, SMS code), Полина (Dnevnik.ru's own page) and Максим (NetSchool)."""
    base = f"{stack.gateway}/children/link"
    asked = _post_form(
        browser,
        f"{base}/moscow-mesh",
        {"login": "irina.smirnova", "password": "Mesh-2026-parent"},
        "MESH link",
    )
    if not asked.endswith("/code"):
        raise BenchError(f"MESH link: expected the SMS code page, went to {asked}")
    _post_form(browser, f"{base}/moscow-mesh/code", {"code": "424242"}, "MESH SMS code")

    away = browser.get(f"{base}/tver-dnevnik/authorize", allow_redirects=False, timeout=TIMEOUT)
    _expect(away, 302, "Dnevnik.ru authorize")
    back = authorize_at_idp(away.headers["Location"], "smirnova.i.s", "Dnevnik-2026")
    _expect(browser.get(back, allow_redirects=False, timeout=TIMEOUT), 303, "Dnevnik.ru callback")

    _post_form(
        browser,
        f"{base}/samara-netschool",
        {"school": "Лицей № 3", "login": "СмирноваИС", "password": "Пароль-2026"},
        "NetSchool link",
    )


def children(stack: Stack) -> list[tuple[int, str, str]]:
    """Return (link id, connector, child's name) of every linked child."""
    with contextlib.closing(sqlite3.connect(stack.database)) as db:
        rows = db.execute(
            "SELECT l.id, i.connector, l.full_name FROM child_links l "
            "JOIN connector_instances i ON i.id = l.instance_id ORDER BY l.position"
        ).fetchall()
    return [(int(a), str(b), str(c)) for a, b, c in rows]


def clear_snapshots(stack: Stack) -> None:
    """Delete every stored section, so the next family page fetches them all."""
    with contextlib.closing(sqlite3.connect(stack.database, timeout=30)) as db, db:
        db.execute("DELETE FROM section_snapshots")


def snapshot_count(stack: Stack) -> int:
    """Return how many sections are stored."""
    with contextlib.closing(sqlite3.connect(stack.database, timeout=30)) as db:
        return int(db.execute("SELECT count(*) FROM section_snapshots").fetchone()[0])


# --------------------------------------------------------------------------- emulators


def set_latency(stack: Stack, latency_ms: int, only: str | None = None) -> None:
    """Make every emulator (or only one) add this latency to each request; 0 clears."""
    for name, url in stack.emulators.items():
        if latency_ms and (only is None or only == name):
            reply = requests.post(
                f"{url}/__admin/faults", json={"latency_ms": latency_ms}, timeout=TIMEOUT
            )
        else:
            reply = requests.delete(f"{url}/__admin/faults", timeout=TIMEOUT)
        reply.raise_for_status()


def backend_stats(stack: Stack) -> dict[str, Counter[str]]:
    """Return each emulator's request counts by ``METHOD /path``."""
    return {
        name: Counter(requests.get(f"{url}/__admin/stats", timeout=TIMEOUT).json())
        for name, url in stack.emulators.items()
    }


def _delta(before: dict[str, Counter[str]], after: dict[str, Counter[str]]) -> dict[str, Counter]:
    return {name: after[name] - before[name] for name in after}


# --------------------------------------------------------------------------- measurements


@dataclass
class ColdLoad:
    """One cold family page."""

    seconds: float
    requests: dict[str, Counter[str]]
    sections: int

    @property
    def backend_requests(self) -> int:
        """Return the backend requests the page made, over every emulator."""
        return sum(sum(c.values()) for c in self.requests.values())


def cold_page(stack: Stack, browser: requests.Session) -> ColdLoad:
    """Load the family page with no snapshot stored."""
    clear_snapshots(stack)
    before = backend_stats(stack)
    started = time.perf_counter()
    reply = browser.get(f"{stack.gateway}/", allow_redirects=False, timeout=TIMEOUT)
    seconds = time.perf_counter() - started
    _expect(reply, 200, "family page")
    return ColdLoad(seconds, _delta(before, backend_stats(stack)), snapshot_count(stack))


def cold_series(
    stack: Stack, browser: requests.Session, runs: int, latency_ms: int, only: str | None = None
) -> list[ColdLoad]:
    """Load the cold family page ``runs`` times under a latency setting."""
    set_latency(stack, latency_ms, only)
    try:
        return [cold_page(stack, browser) for _ in range(runs)]
    finally:
        set_latency(stack, 0)


def median(loads: list[ColdLoad]) -> float:
    """Return the median page time in seconds."""
    return statistics.median(load.seconds for load in loads)


@dataclass
class Load:
    """What a load generator achieved against one URL."""

    ok: int = 0
    failed: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    cpu: float = 0.0  # the gateway process's CPU seconds meanwhile

    @property
    def rps(self) -> float:
        """Return successful requests per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """Return the gateway's CPU milliseconds per successful request."""
        return self.cpu * 1000 / self.ok if self.ok else 0.0

    def add(self, other: Load) -> None:
        """Add another slice's figures."""
        self.ok += other.ok
        self.failed += other.failed
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.cpu += other.cpu


def generate_load(
    url: str,
    cookies: requests.cookies.RequestsCookieJar,
    concurrency: int,
    duration: float,
    pid: int,
) -> Load:
    """Send GETs from ``concurrency`` threads for ``duration`` seconds (bounded)."""
    stop_at = time.monotonic() + duration

    def worker() -> tuple[int, int, list[float]]:
        session = requests.Session()
        session.cookies.update(cookies)
        ok = failed = 0
        latencies: list[float] = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                reply = session.get(url, allow_redirects=False, timeout=TIMEOUT)
            except requests.RequestException:
                failed += 1
                continue
            latencies.append(time.perf_counter() - started)
            if reply.status_code == 200:
                ok += 1
            else:
                failed += 1
        return ok, failed, latencies

    cpu = cpu_seconds(pid)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda _: worker(), range(concurrency)))
    seconds = time.perf_counter() - started
    return Load(
        ok=sum(r[0] for r in results),
        failed=sum(r[1] for r in results),
        seconds=seconds,
        latencies=[x for r in results for x in r[2]],
        cpu=cpu_seconds(pid) - cpu,
    )


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time a process (all its threads) has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> dict[str, int]:
    """Return VmRSS and VmHWM (peak RSS) of a process, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# --------------------------------------------------------------------------- the run


def run(args: argparse.Namespace) -> None:
    """Start the stack, measure, print."""
    latency = args.latency_ms
    rows: list[tuple[str, str]] = []
    with running_stack() as stack:
        print(f"stack up: gateway {stack.gateway} (pid {stack.gateway_pid}), idp {stack.idp}")
        mem_idle = memory_kib(stack.gateway_pid)
        browser = sign_in(stack)
        link_children(stack, browser)
        linked = children(stack)
        print("linked: " + "; ".join(f"{n} ({TITLES.get(c, c)})" for _, c, n in linked))
        if len(linked) != 3:
            raise BenchError(f"expected three children, linked {len(linked)}")
        logins_before = backend_stats(stack)
        for child_id, _, _ in linked:  # opens every backend session once
            _expect(browser.get(f"{stack.gateway}/child/{child_id}", timeout=TIMEOUT), 200, "child")
        cold_page(stack, browser)  # warms templates, connector pools and keep-alive connections

        print(f"cold family page, {args.runs} loads per setting ...")
        base = cold_series(stack, browser, args.runs, 0)
        slow = cold_series(stack, browser, args.runs, latency)
        per_backend = (
            {name: cold_series(stack, browser, args.runs, latency, name) for name in EMULATORS}
            if args.per_backend
            else {}
        )
        logins = _delta(logins_before, backend_stats(stack))
        sign_ins = sum(
            count
            for counter in logins.values()
            for key, count in counter.items()
            if key.startswith("POST") and SIGN_IN.search(key)
        )
        mem_cold = memory_kib(stack.gateway_pid)

        trips = (median(slow) - median(base)) / (latency / 1000)
        sample = base[-1]
        rows += [
            ("cold page, no added latency (median)", _ms(median(base))),
            (f"cold page, +{latency} ms on every emulator (median)", _ms(median(slow))),
            ("ROUND TRIPS ON THE CRITICAL PATH", f"{trips:.2f}  (target ≤ 2)"),
        ]
        for name, loads in per_backend.items():
            alone = (median(loads) - median(base)) / (latency / 1000)
            rows.append((f"  … latency on {TITLES[name]} only", f"{alone:.2f} round trips"))
        rows += [
            ("backend requests per cold page", str(sample.backend_requests)),
            *(
                (f"  … to {TITLES[name]}", str(sum(counter.values())))
                for name, counter in sample.requests.items()
            ),
            (
                "sections fetched per cold page",
                f"{sample.sections} (all runs: {sorted({x.sections for x in base + slow})})",
            ),
            (
                "backend sign-ins/refreshes after linking",
                f"{sign_ins} (reused sessions: 0 expected)",
            ),
        ]

        # Warm page: snapshots are fresh now, so the page never asks a backend.
        _expect(browser.get(f"{stack.gateway}/", timeout=TIMEOUT), 200, "family page")
        warm_single = []
        for _ in range(20):
            started = time.perf_counter()
            _expect(browser.get(f"{stack.gateway}/", timeout=TIMEOUT), 200, "family page")
            warm_single.append(time.perf_counter() - started)
        print(
            f"load: {args.concurrency} threads x {args.duration:.0f} s against / and /healthz ..."
        )
        before = backend_stats(stack)
        page, health = Load(), Load()
        # Alternating slices, so that drifting machine load hits both URLs alike.
        for _ in range(LOAD_SLICES):
            for url, total in ((f"{stack.gateway}/", page), (f"{stack.gateway}/healthz", health)):
                total.add(
                    generate_load(
                        url,
                        browser.cookies,
                        args.concurrency,
                        args.duration / LOAD_SLICES,
                        stack.gateway_pid,
                    )
                )
        load_average = os.getloadavg()[0]
        warm_backend = sum(sum(c.values()) for c in _delta(before, backend_stats(stack)).values())
        ratio = page.rps / health.rps if health.rps else 0.0
        mem_end = memory_kib(stack.gateway_pid)
        rows += [
            ("warm family page, one at a time (median)", _ms(statistics.median(warm_single))),
            (
                f"warm family page, {args.concurrency} concurrent",
                f"{page.rps:.1f} req/s (p50 {_ms(_p(page.latencies, 0.5))}, "
                f"p95 {_ms(_p(page.latencies, 0.95))}, failed {page.failed}, "
                f"gateway CPU {page.cpu_ms:.1f} ms/req)",
            ),
            (
                f"/healthz, {args.concurrency} concurrent",
                f"{health.rps:.1f} req/s (p50 {_ms(_p(health.latencies, 0.5))}, "
                f"failed {health.failed}, gateway CPU {health.cpu_ms:.1f} ms/req)",
            ),
            ("warm page / healthz throughput", f"{ratio:.2f}  (target ≥ 0.3)"),
            (
                "  … the same from gateway CPU per request",
                f"{health.cpu_ms / page.cpu_ms if page.cpu_ms else 0.0:.2f}  "
                "(less sensitive to the load generator sharing the CPUs)",
            ),
            ("backend requests during the warm load", str(warm_backend)),
            (
                "machine load average (1 min) after the load",
                f"{load_average:.2f} on {os.cpu_count()} CPUs",
            ),
            (
                "gateway RSS: idle / after cold pages / end",
                f"{mem_idle['VmRSS'] / 1024:.1f} / {mem_cold['VmRSS'] / 1024:.1f} / "
                f"{mem_end['VmRSS'] / 1024:.1f} MiB",
            ),
            ("GATEWAY PEAK RSS (VmHWM)", f"{mem_end['VmHWM'] / 1024:.1f} MiB"),
        ]
        if args.detail:
            print("\nbackend requests of one cold page (no added latency), by endpoint:")
            for name, counter in sample.requests.items():
                print(f"  {TITLES[name]}:")
                for key, count in sorted(counter.items()):
                    print(f"    {count:3d}  {key}")
    width = max(len(label) for label, _ in rows)
    print(f"\nDiary Gateway: Ирина's family page ({len(linked)} children), {args.runs} runs")
    print("-" * (width + 40))
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print("-" * (width + 40))
    print("figures only; nothing is asserted about time.")


def parse_args(argv: t.Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.family_page", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="cold loads per setting (5)")
    parser.add_argument("--latency-ms", type=int, default=200, help="added per request (200)")
    parser.add_argument("--concurrency", type=int, default=8, help="load threads (8)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load (10)")
    parser.add_argument(
        "--no-per-backend",
        dest="per_backend",
        action="store_false",
        help="skip the runs with latency on one emulator at a time",
    )
    parser.add_argument(
        "--no-detail", dest="detail", action="store_false", help="skip the per-endpoint counts"
    )
    args = parser.parse_args(argv)
    args.runs = max(1, min(args.runs, 50))
    args.concurrency = max(1, min(args.concurrency, 64))
    args.duration = max(1.0, min(args.duration, 120.0))
    args.latency_ms = max(1, min(args.latency_ms, 2000))
    return args


def _terminated(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: t.Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in background
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
