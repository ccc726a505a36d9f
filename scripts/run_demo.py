"""Start the whole demo: identity provider, regional emulators, the gateway and its workers.

Migrates and seeds first, prints the URLs and the demo logins, and stops every child
process on Ctrl-C (or SIGTERM), leaving no port busy. Each emulator runs in a process of its
own: when one stops, the rest of the demo goes on and the gateway shows that system's data
as stale (the gateway's development page /__dev/backends does the same without stopping it).

The gateway is served by gunicorn (GATEWAY_WORKERS processes, 2 by default); two Celery
workers (one for the parents' and the scheduled syncs, one for backfills) and the scheduler
keep every linked diary current in the background.

Ports come from GATEWAY_PORT, IDP_PORT, MESH_PORT, DNEVNIK_PORT, NETSCHOOL_PORT,
MAIL_PORT (the demo's SMTP server, whose mail /__dev/mail shows) and TELEGRAM_PORT (the Bot
API stand-in the demo's bot talks to, whose pages play Telegram); the provider's demo client
and Dnevnik.ru's partner app follow GATEWAY_PUBLIC_URL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from bot_mock.app import DEMO_TOKEN
from bot_mock.app import DEMO_USERNAME

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEV_MAIL = ROOT / "instance" / "dev-mail"

PEOPLE = [
    ("Смирнова Ирина Сергеевна (трое детей)", "+79000000001", "parent-demo-1"),
    ("Кузнецов Алексей Петрович (двое детей)", "+79000000002", "parent-demo-2"),
    ("Смирнова Галина Ивановна (бабушка)", "+79000000003", "granny-demo-3"),
    ("Орлова Мария Андреевна (оператор)", "+79000000004", "operator-demo-4"),
    ("Новиков Павел Олегович (упрощённая)", "+79000000005", "simple-demo-5"),
]
SCHOOL_LOGINS = [
    ("Смирнов Артём, Москва (МЭШ; код из СМС 424242)", "irina.smirnova", "Mesh-2026-parent"),
    ("Смирнова Полина, Тверская обл. (вход на сайте Дневник.ру)", "smirnova.i.s", "Dnevnik-2026"),
    ("Смирнов Максим, Самарская обл., «Лицей № 3»", "СмирноваИС", "Пароль-2026"),
    ("Кузнецовы Дарья и Егор, Самарская обл., «Лицей № 3»", "КузнецовАП", "Дарья2015"),
]
# process name -> (port variable, default port, what the banner calls it)
PORTS = {
    "gateway": ("GATEWAY_PORT", 8000, "Gateway"),
    "idp": ("IDP_PORT", 9000, "Identity provider"),
    "mesh": ("MESH_PORT", 9101, "МЭШ (Москва)"),
    "dnevnik_ru": ("DNEVNIK_PORT", 9102, "Дневник.ру (Тверь)"),
    "netschool": ("NETSCHOOL_PORT", 9103, "NetSchool (Самара)"),
    "mail": ("MAIL_PORT", 1025, "Почта демо (SMTP)"),
    "telegram": ("TELEGRAM_PORT", 9104, "Telegram (стенд Bot API)"),
}
EMULATORS = ("mesh", "dnevnik_ru", "netschool")
BACKGROUND = ("mail", "telegram", "sync-worker", "backfill-worker", "scheduler")


def read_ports(environ: Mapping[str, str]) -> dict[str, int]:
    """Read every process's port from the environment, or its DEMO.md default."""
    ports = {}
    for name, (variable, default, _) in PORTS.items():
        value = environ.get(variable) or str(default)
        if not value.isdigit() or not 0 < int(value) < 65536:
            raise SystemExit(f"{variable}={value!r} is not a port number")
        ports[name] = int(value)
    return ports


def demo_environment(environ: Mapping[str, str], ports: Mapping[str, int]) -> dict[str, str]:
    """Return the environment every process of the demo runs with, wired to these ports."""
    env = dict(environ)
    env.setdefault("IDP_ISSUER", f"http://127.0.0.1:{ports['idp']}")
    env.setdefault("GATEWAY_OIDC_ISSUER", env["IDP_ISSUER"])
    env.setdefault("GATEWAY_PUBLIC_URL", f"http://127.0.0.1:{ports['gateway']}")
    public_url = env["GATEWAY_PUBLIC_URL"].rstrip("/")
    for name in EMULATORS:
        env[PORTS[name][0]] = str(ports[name])
    # The provider's demo client and Dnevnik.ru's partner app know the gateway by its URL.
    env.setdefault("IDP_DEMO_CLIENT_URL", public_url)
    if env.get("GATEWAY_OIDC_CLIENT_ID"):
        env.setdefault("IDP_DEMO_CLIENT_ID", env["GATEWAY_OIDC_CLIENT_ID"])
    if env.get("GATEWAY_OIDC_CLIENT_SECRET"):
        env.setdefault("IDP_DEMO_CLIENT_SECRET", env["GATEWAY_OIDC_CLIENT_SECRET"])
    env.setdefault("DNEVNIK_PARTNER_REDIRECT_URI", public_url + "/children/oauth/callback")
    # Notification e-mail goes to the demo's own SMTP server; /__dev/mail shows it.
    env.setdefault("GATEWAY_SMTP_URL", f"smtp://127.0.0.1:{ports['mail']}")
    env.setdefault("GATEWAY_DEV_MAIL_DIR", str(DEV_MAIL))
    # The bot talks to the demo's Bot API stand-in, whose pages play Telegram's deep links.
    telegram = f"http://127.0.0.1:{ports['telegram']}"
    env.setdefault("GATEWAY_TELEGRAM_TOKEN", DEMO_TOKEN)
    env.setdefault("GATEWAY_TELEGRAM_BOT", DEMO_USERNAME)
    env.setdefault("GATEWAY_TELEGRAM_API_URL", telegram)
    env.setdefault("GATEWAY_TELEGRAM_LINK_URL", telegram)
    return env


def commands(ports: Mapping[str, int], env: Mapping[str, str]) -> dict[str, list[str]]:
    """Return the command line of each long-running process, in start order."""
    rv = {"idp": [PYTHON, "-m", "idp_mock", "--port", str(ports["idp"])]}
    rv["mail"] = [
        *[PYTHON, "-m", "scripts.dev_mail", "--port", str(ports["mail"])],
        *["--folder", env.get("GATEWAY_DEV_MAIL_DIR") or str(DEV_MAIL)],
    ]
    rv["telegram"] = [PYTHON, "-m", "bot_mock", "--port", str(ports["telegram"])]
    for name in EMULATORS:
        rv[name] = [PYTHON, "-m", "regional_mock", "--system", name, "--port", str(ports[name])]
    rv["gateway"] = [
        *[PYTHON, "-m", "gunicorn", "gateway:create_app()"],
        *["--bind", f"127.0.0.1:{ports['gateway']}"],
        *["--workers", env.get("GATEWAY_WORKERS", "2"), "--threads", "4"],
        # Several gunicorns may run on one machine (the demo beside a test): no shared socket.
        "--no-control-socket",
    ]
    celery = [PYTHON, "-m", "celery", "-A", "gateway.worker:celery"]
    # Threads: a sync waits on backends, not on the CPU; mingle and gossip talk to workers
    # of other machines, which the demo has none of.
    worker = [*celery, "worker", "--pool", "threads", "--without-mingle", "--without-gossip"]
    rv["sync-worker"] = [*worker, "-Q", "interactive,scheduled", "-c", "4", "-n", "sync@%h"]
    rv["backfill-worker"] = [*worker, "-Q", "backfill", "-c", "2", "-n", "backfill@%h"]
    schedule = env.get("GATEWAY_BEAT_SCHEDULE") or str(ROOT / "instance" / "celerybeat-schedule")
    rv["scheduler"] = [*celery, "beat", "--schedule", schedule]
    return rv


def health_urls(env: Mapping[str, str], ports: Mapping[str, int]) -> dict[str, str]:
    """Return the URL that answers once each process is up (the background has none)."""
    rv = {"idp": f"{env['IDP_ISSUER']}/.well-known/openid-configuration"}
    for name in EMULATORS:
        rv[name] = f"http://127.0.0.1:{ports[name]}/__admin/faults"
    rv["telegram"] = f"http://127.0.0.1:{ports['telegram']}/__admin/faults"
    rv["gateway"] = f"http://127.0.0.1:{ports['gateway']}/healthz"
    return rv


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Poll ``url`` until it answers, or fail when the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def prepare(env: Mapping[str, str]) -> None:
    """Migrate the gateway's database and load the demo's connector instances and roles."""
    flask = [PYTHON, "-m", "flask", "--app", "gateway"]
    subprocess.run([*flask, "migrate"], check=True, cwd=ROOT, env=env)
    subprocess.run([*flask, "connectors", "load"], check=True, cwd=ROOT, env=env)
    # Мария Орлова operates the Samara region (config/roles.toml); bound at her first sign-in.
    subprocess.run([*flask, "roles", "load"], check=True, cwd=ROOT, env=env)


def supervise(processes: Mapping[str, subprocess.Popen[bytes]]) -> None:
    """Wait while the gateway and the provider run; an emulator may stop on its own."""
    reported: set[str] = set()
    while all(processes[name].poll() is None for name in ("gateway", "idp")):
        for name in (*EMULATORS, *BACKGROUND):
            if name not in reported and processes[name].poll() is not None:
                reported.add(name)
                what = PORTS[name][2] if name in PORTS else f"The {name}"
                print(
                    f"{what} stopped (exit {processes[name].returncode}); the rest of the "
                    "demo goes on: the gateway shows that system's data as stale, or pages "
                    "read the diaries themselves while the background is paused",
                    file=sys.stderr,
                    flush=True,
                )
        time.sleep(0.5)
    print("the gateway or the provider exited; stopping the others", file=sys.stderr)


def stop_all(processes: Mapping[str, subprocess.Popen[bytes]]) -> None:
    """Terminate every process still running and wait for it (kill after 10 s)."""
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    for process in processes.values():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    """Migrate, seed, start everything, print how to use it, and supervise."""
    ports = read_ports(os.environ)
    env = demo_environment(os.environ, ports)
    processes: dict[str, subprocess.Popen[bytes]] = {}

    def on_signal(*_: object) -> None:
        # A second Ctrl-C must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        prepare(env)
        urls = health_urls(env, ports)
        for name, command in commands(ports, env).items():
            processes[name] = subprocess.Popen(command, cwd=ROOT, env=env)
            if name in urls:
                wait_until_up(urls[name], processes[name])
        print_banner(ports, env)
        supervise(processes)
    except KeyboardInterrupt:
        pass
    finally:
        # Ctrl-C or SIGTERM during any step, a failed step included, leaves no process.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(processes)


def print_banner(ports: Mapping[str, int], env: Mapping[str, str]) -> None:
    """Print the URLs and the demo logins."""
    gateway = env["GATEWAY_PUBLIC_URL"].rstrip("/")
    print("\n=== Diary Gateway demo is running ===")
    print(f"  {PORTS['gateway'][2] + ':':20}{gateway}")
    print(f"  {PORTS['idp'][2] + ':':20}{env['IDP_ISSUER']}")
    for name in EMULATORS:
        print(f"  {PORTS[name][2] + ':':20}http://127.0.0.1:{ports[name]}")
    print("\nSign in at the gateway as (phone, password):")
    for person, phone, password in PEOPLE:
        print(f"  {person:45} {phone}  {password}")
    print("\nThen link a child with a school-issued login (login / password):")
    for child, login, password in SCHOOL_LOGINS:
        print(f"  {child:52} {login} / {password}")
    if env.get("GATEWAY_PRODUCTION", "").lower() not in ("1", "true", "yes", "on"):
        print(f"\nTake a region's system down, slow it or break it: {gateway}/__dev/backends")
        print(f"Messages the gateway would send: {gateway}/__dev/outbox")
        print(f"Notification e-mail the demo's mail server received: {gateway}/__dev/mail")
        telegram = env["GATEWAY_TELEGRAM_API_URL"]
        print(f"Telegram messages the demo's bot sent: {telegram}/__admin/messages")
    print("\nCtrl-C stops everything.\n", flush=True)


if __name__ == "__main__":
    main()
