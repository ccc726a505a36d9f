"""`make run`'s launcher on other ports than DEMO.md's: sign-in, a child link, a clean stop.

The real launcher starts every process as a subprocess, on free ports, with its own databases
and secrets under the test's temporary folder, so a developer's instance/ is never touched.
"""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
import typing as t
from collections.abc import Iterator
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bot_mock.app import DEMO_TOKEN
from bot_mock.app import DEMO_USERNAME
from tests.support.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "scripts" / "run_demo.py"
BANNER = "=== Diary Gateway demo is running ==="
TIMEOUT = 10
PORT_VARIABLES = (
    "GATEWAY_PORT",
    "IDP_PORT",
    "MESH_PORT",
    "DNEVNIK_PORT",
    "NETSCHOOL_PORT",
    "MAIL_PORT",
    "TELEGRAM_PORT",
)


class _Forms(HTMLParser):
    """Collect each form's action and its named fields (first value wins)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((found.get("action", ""), {}))
        elif tag in ("input", "button") and self.forms and found.get("name"):
            self.forms[-1][1].setdefault(found["name"], found.get("value", ""))


def send_form(
    browser: requests.Session, page: requests.Response, action_ends: str = "", **values: str
) -> t.Any:
    """Fill in the page's first form whose action ends so (hidden fields kept) and send it."""
    parser = _Forms()
    parser.feed(page.text)
    forms = [form for form in parser.forms if form[0].endswith(action_ends)]
    assert forms, f"no such form at {page.url}: {page.text[:500]}"
    action, fields = forms[0]
    return browser.post(urljoin(page.url, action), data={**fields, **values}, timeout=TIMEOUT)


class Demo(t.NamedTuple):
    """A running launcher: its process, its ports and the gateway's public URL."""

    process: subprocess.Popen[bytes]
    ports: dict[str, int]
    gateway: str
    log: Path


def start_demo(tmp_path: Path) -> Demo:
    """Run scripts/run_demo.py on free ports with private state; wait for its banner."""
    ports = {variable: free_port() for variable in PORT_VARIABLES}
    # localhost rather than 127.0.0.1 proves the public URL, not the port, names the gateway.
    gateway = f"http://localhost:{ports['GATEWAY_PORT']}"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        **{variable: str(port) for variable, port in ports.items()},
        "GATEWAY_PUBLIC_URL": gateway,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.sqlite3'}",
        "GATEWAY_SECRET_KEY": "launcher-test-secret",
        "GATEWAY_VAULT_KEYS": Fernet.generate_key().decode(),
        "GATEWAY_OIDC_CLIENT_SECRET": "launcher-test-client-secret",
        "IDP_DATABASE_URL": f"sqlite:///{tmp_path / 'idp.sqlite3'}",
        "IDP_SECRET_KEY": "launcher-test-idp-secret",
        "GATEWAY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}",
        "GATEWAY_BEAT_SCHEDULE": str(tmp_path / "celerybeat-schedule"),
        "GATEWAY_BUDGET_FILE": str(tmp_path / "budget.sqlite3"),
        "GATEWAY_DEV_MAIL_DIR": str(tmp_path / "dev-mail"),
    }
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(LAUNCHER)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while BANNER not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            pytest.fail(f"the demo did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.5)
    return Demo(process, ports, gateway, log)


def stop(process: subprocess.Popen[bytes], sig: int | None = signal.SIGTERM) -> None:
    """Send the launcher a signal and wait; kill its whole session only as a last resort."""
    if sig is not None and process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail("the launcher did not stop within 30 s")


def children_of(pid: int) -> dict[int, str]:
    """Return the live child processes of ``pid`` with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in status:
            found[int(entry.name)] = cmdline
    return found


def alive(pid: int) -> bool:
    """Tell whether a process exists (a zombie counts: nobody reaped it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def still_listening(ports: dict[str, int], *, within: float = 5.0) -> list[str]:
    """Return the names of the ports some process still listens on after ``within`` seconds
    (a server's last worker may take a moment to exit after its parent has)."""
    deadline = time.monotonic() + within
    while True:
        busy = [name for name, port in ports.items() if not port_is_free(port)]
        if not busy or time.monotonic() > deadline:
            return busy
        time.sleep(0.2)


def port_is_free(port: int) -> bool:
    """Tell whether the loopback port can be bound again."""
    with socket.socket() as sock:
        # Connections the servers closed linger in TIME_WAIT; only a listener blocks a bind.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def sign_in_as_irina(browser: requests.Session, gateway: str) -> requests.Response:
    """Follow the OIDC flow through the real provider and the gateway's consent."""
    form = browser.get(f"{gateway}/login", timeout=TIMEOUT)
    assert form.status_code == 200 and "/login" in form.url, form.text[:500]
    consent = send_form(browser, form, login="+79000000001", password="parent-demo-1")
    assert consent.status_code == 200, consent.text[:500]
    back = send_form(browser, consent, decision="allow")
    assert back.url.startswith(gateway), back.url
    if "accept" in back.text:
        back = send_form(browser, back, accept="y")
    return back


def instance_files() -> dict[str, float]:
    """Return the developer's instance/ files and their modification times."""
    folder = ROOT / "instance"
    return {str(p): p.stat().st_mtime for p in folder.rglob("*")} if folder.exists() else {}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """Start the launcher; make sure it is stopped, and that instance/ was left alone."""
    before = instance_files()
    running = start_demo(tmp_path)
    try:
        yield running
    finally:
        stop(running.process)
    assert instance_files() == before


def test_the_demo_on_other_ports_signs_in_links_a_child_and_stops_clean(demo: Demo) -> None:
    browser = requests.Session()
    family = sign_in_as_irina(browser, demo.gateway)
    assert family.status_code == 200 and family.url.rstrip("/") == demo.gateway
    assert 'href="/logout"' in family.text

    # Полина's school system signs her mother in on its own page, then sends her back.
    dnevnik = browser.get(f"{demo.gateway}/children/link/tver-dnevnik/authorize", timeout=TIMEOUT)
    assert dnevnik.url.startswith(f"http://127.0.0.1:{demo.ports['DNEVNIK_PORT']}/login/")
    linked = send_form(browser, dnevnik, login="smirnova.i.s", password="Dnevnik-2026")
    assert linked.url.startswith(demo.gateway), linked.text[:500]
    page = browser.get(demo.gateway + "/", timeout=TIMEOUT).text
    assert "Смирнова Полина" in page

    # The background workers read her diary without anyone on the page.
    database = sa.create_engine(f"sqlite:///{demo.log.parent / 'gateway.sqlite3'}")
    deadline = time.monotonic() + 60
    while not _synced(database):
        assert time.monotonic() < deadline, demo.log.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
    database.dispose()

    # The development page reaches the emulator on its port.
    backends = browser.get(f"{demo.gateway}/__dev/backends", timeout=TIMEOUT)
    done = send_form(browser, backends, "/tver-dnevnik/down")
    assert "Тверская область: отключена" in done.text
    faults = f"http://127.0.0.1:{demo.ports['DNEVNIK_PORT']}/__admin/faults"
    assert requests.get(faults, timeout=TIMEOUT).json()["mode"] == "maintenance"

    # The demo's mail server keeps what it is sent, and the development page shows it.
    letter = EmailMessage()
    letter["From"], letter["To"], letter["Subject"] = "d@localhost", "i@localhost", "Проверка"
    letter.set_content("Письмо до страницы разработки")
    with smtplib.SMTP("127.0.0.1", demo.ports["MAIL_PORT"], timeout=TIMEOUT) as smtp:
        smtp.send_message(letter)
    mail = browser.get(f"{demo.gateway}/__dev/mail", timeout=TIMEOUT).text
    assert "Проверка" in mail and "Письмо до страницы разработки" in mail

    # The bot answers at the demo's Bot API stand-in, whose deep-link page plays Telegram.
    telegram = f"http://127.0.0.1:{demo.ports['TELEGRAM_PORT']}"
    me = requests.post(f"{telegram}/bot{DEMO_TOKEN}/getMe", timeout=TIMEOUT).json()
    assert me["result"]["username"] == DEMO_USERNAME
    assert "Запустить" in requests.get(f"{telegram}/{DEMO_USERNAME}?start=x", timeout=TIMEOUT).text

    children = children_of(demo.process.pid)
    names = " ".join(children.values())
    assert len(children) == 10, children
    assert "scripts.dev_mail" in names and "-m bot_mock" in names
    assert "gunicorn" in names and names.count("-m celery") == 3
    stop(demo.process)

    assert demo.process.returncode == 0
    assert not [pid for pid in children if alive(pid)]
    assert not still_listening(demo.ports)


def _synced(database: sa.Engine) -> bool:
    """Tell whether a background sync has settled a row of the due list."""
    with database.connect() as connection:
        query = "SELECT count(*) FROM sync_due WHERE synced_at IS NOT NULL"
        return bool(connection.execute(sa.text(query)).scalar())


def test_ctrl_c_stops_everything_and_a_stopped_emulator_does_not(tmp_path: Path) -> None:
    demo = start_demo(tmp_path)
    try:
        children = children_of(demo.process.pid)
        mesh = next(pid for pid, cmd in children.items() if "--system mesh" in cmd)
        os.kill(mesh, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while "МЭШ (Москва) stopped" not in demo.log.read_text(errors="replace"):
            assert time.monotonic() < deadline, demo.log.read_text(errors="replace")
            time.sleep(0.2)

        assert demo.process.poll() is None
        health = requests.get(f"{demo.gateway}/healthz", timeout=TIMEOUT)
        assert health.status_code == 200
        # A terminal's Ctrl-C: SIGINT to the launcher and every process it started.
        os.killpg(demo.process.pid, signal.SIGINT)
        stop(demo.process, None)
    finally:
        stop(demo.process)

    assert not [pid for pid in children if alive(pid)]
    assert not still_listening(demo.ports)
