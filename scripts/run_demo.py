"""Start the whole demo: identity provider, regional emulators and the gateway.

Migrates and seeds first, prints the URLs and the demo logins, and stops every child
process on Ctrl-C (or SIGTERM), leaving no port busy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

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


def port(variable: str, default: int) -> int:
    """Read a port from the environment."""
    return int(os.environ.get(variable, default))


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Poll ``url`` until it answers, or fail when the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def main() -> None:
    """Migrate, seed, start everything, print how to use it, and supervise."""
    ports = {
        "gateway": port("GATEWAY_PORT", 8000),
        "idp": port("IDP_PORT", 9000),
        "mesh": port("MESH_PORT", 9101),
        "dnevnik": port("DNEVNIK_PORT", 9102),
        "netschool": port("NETSCHOOL_PORT", 9103),
    }
    env = dict(os.environ)
    env.setdefault("IDP_ISSUER", f"http://127.0.0.1:{ports['idp']}")
    env.setdefault("GATEWAY_OIDC_ISSUER", env["IDP_ISSUER"])
    env.setdefault("GATEWAY_PUBLIC_URL", f"http://127.0.0.1:{ports['gateway']}")
    for system, variable in (
        ("mesh", "MESH_PORT"),
        ("dnevnik", "DNEVNIK_PORT"),
        ("netschool", "NETSCHOOL_PORT"),
    ):
        env[variable] = str(ports[system])
    flask = [PYTHON, "-m", "flask", "--app", "gateway"]
    subprocess.run([*flask, "migrate"], check=True, cwd=ROOT, env=env)
    subprocess.run([*flask, "connectors", "load"], check=True, cwd=ROOT, env=env)
    # Мария Орлова operates the Samara region (config/roles.toml); bound at her first sign-in.
    subprocess.run([*flask, "roles", "load"], check=True, cwd=ROOT, env=env)

    commands = {
        "idp": [PYTHON, "-m", "idp_mock", "--port", str(ports["idp"])],
        "emulators": [PYTHON, "-m", "regional_mock"],
        "gateway": [*flask, "run", "--port", str(ports["gateway"]), "--no-reload"],
    }
    health = {
        "idp": f"{env['IDP_ISSUER']}/.well-known/openid-configuration",
        "emulators": f"http://127.0.0.1:{ports['netschool']}/webapi/logindata",
        "gateway": f"http://127.0.0.1:{ports['gateway']}/healthz",
    }
    processes: dict[str, subprocess.Popen[bytes]] = {}

    def stop(*_: object) -> None:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        for name, command in commands.items():
            processes[name] = subprocess.Popen(command, cwd=ROOT, env=env)
            wait_until_up(health[name], processes[name])
        print_banner(ports)
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        print("a demo process exited; stopping the others", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    stop()


def print_banner(ports: dict[str, int]) -> None:
    """Print the URLs and the demo logins."""
    print("\n=== Diary Gateway demo is running ===")
    print(f"  Gateway:            http://127.0.0.1:{ports['gateway']}")
    print(f"  Identity provider:  http://127.0.0.1:{ports['idp']}")
    print(f"  МЭШ (Москва):       http://127.0.0.1:{ports['mesh']}")
    print(f"  Дневник.ру (Тверь): http://127.0.0.1:{ports['dnevnik']}")
    print(f"  NetSchool (Самара): http://127.0.0.1:{ports['netschool']}")
    print("\nSign in at the gateway as (phone, password):")
    for name, phone, password in PEOPLE:
        print(f"  {name:45} {phone}  {password}")
    print("\nThen link a child with a school-issued login (login / password):")
    for child, login, password in SCHOOL_LOGINS:
        print(f"  {child:52} {login} / {password}")
    print("\nCtrl-C stops everything.\n", flush=True)


if __name__ == "__main__":
    main()
