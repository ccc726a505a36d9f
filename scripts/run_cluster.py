"""Start the demo as a small cluster: two gateway instances behind haproxy, on PostgreSQL and Redis.

What `make run` starts (the identity provider, the three emulators, one scheduler), except
that the gateway runs as two gunicorn instances on ports of their own behind Debian's
haproxy (round robin, health checks on /healthz, a stopped instance's requests sent to the
other), and two identical Celery workers each take every queue, so either may stop while
the other goes on. Everything shares one PostgreSQL database (DATABASE_URL) and one Redis
(REDIS_URL): the due list's leases, the backends' budgets, the sign-in state and the broker.

The public URL is haproxy's (GATEWAY_PORT, 8000 by default); the instances listen on
GATEWAY_1_PORT and GATEWAY_2_PORT (8001, 8002). The generated haproxy configuration and the
scheduler's state go to GATEWAY_CLUSTER_DIR (instance/cluster by default). Ctrl-C stops
everything.
"""

from __future__ import annotations

import os
import signal
import string
import subprocess
import sys
import time
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

# scripts/ is this file's folder, so its neighbour imports as a module: one launcher's
# wiring, reused rather than copied.
import run_demo

ROOT = run_demo.ROOT
HAPROXY = "/usr/sbin/haproxy"
TEMPLATE = ROOT / "config" / "haproxy.cfg.template"
# instance name -> (port variable, default port)
INSTANCES = {"gateway-1": ("GATEWAY_1_PORT", 8001), "gateway-2": ("GATEWAY_2_PORT", 8002)}
WORKERS = ("worker-1", "worker-2")
# Both workers take every queue: a worker that dies leaves none of them unserved.
ALL_QUEUES = "interactive,scheduled,backfill"


def check_environment(environ: Mapping[str, str], haproxy: str = HAPROXY) -> None:
    """Refuse to start without PostgreSQL, Redis and haproxy, saying what is missing."""
    problems = []
    if not environ.get("DATABASE_URL", "").startswith("postgresql"):
        problems.append(
            "DATABASE_URL must name a PostgreSQL database (postgresql+psycopg://…), which "
            "every instance and worker shares; `make run` is the demo on SQLite"
        )
    if not environ.get("REDIS_URL", "").startswith(("redis://", "rediss://")):
        problems.append(
            "REDIS_URL must name a Redis database (redis://host:6379/0): the broker, the "
            "backends' budgets and the sign-in state are shared there"
        )
    if not os.access(haproxy, os.X_OK):
        problems.append(f"{haproxy} is missing: apt-get install haproxy")
    if problems:
        raise SystemExit("make cluster cannot start:\n  " + "\n  ".join(problems))


def read_instance_ports(environ: Mapping[str, str]) -> dict[str, int]:
    """Read each gateway instance's own port from the environment, or its default."""
    ports = {}
    for name, (variable, default) in INSTANCES.items():
        value = environ.get(variable) or str(default)
        if not value.isdigit() or not 0 < int(value) < 65536:
            raise SystemExit(f"{variable}={value!r} is not a port number")
        ports[name] = int(value)
    return ports


def haproxy_config(public_port: int, instances: Mapping[str, int]) -> str:
    """Fill in config/haproxy.cfg.template: haproxy's port and one server per instance."""
    servers = "\n".join(
        f"    server {name} 127.0.0.1:{port} check" for name, port in instances.items()
    )
    template = string.Template(TEMPLATE.read_text(encoding="utf-8"))
    return template.substitute(public_port=public_port, servers=servers)


def _with_option(command: Sequence[str], flag: str, value: str) -> list[str]:
    """Return ``command`` with the value after ``flag`` replaced."""
    at = command.index(flag) + 1
    return [*command[:at], value, *command[at + 1 :]]


def commands(
    ports: Mapping[str, int], instances: Mapping[str, int], env: Mapping[str, str], config: Path
) -> dict[str, list[str]]:
    """Return every process's command line, in start order: run_demo's, made several."""
    demo = run_demo.commands(ports, env)
    rv = {name: demo[name] for name in ("idp", *run_demo.EMULATORS)}
    for name, port in instances.items():
        rv[name] = _with_option(demo["gateway"], "--bind", f"127.0.0.1:{port}")
    rv["haproxy"] = [HAPROXY, "-db", "-f", str(config)]
    for name in WORKERS:
        worker = _with_option(demo["sync-worker"], "-Q", ALL_QUEUES)
        rv[name] = _with_option(worker, "-n", f"{name}@%h")
    rv["scheduler"] = demo["scheduler"]
    return rv


def health_urls(
    ports: Mapping[str, int], instances: Mapping[str, int], env: Mapping[str, str]
) -> dict[str, str]:
    """Return the URL that answers once each process is up; haproxy's is the public one."""
    demo = run_demo.health_urls(env, ports)
    rv = {name: demo[name] for name in ("idp", *run_demo.EMULATORS)}
    for name, port in instances.items():
        rv[name] = f"http://127.0.0.1:{port}/healthz"
    rv["haproxy"] = demo["gateway"]
    return rv


def supervise(processes: Mapping[str, subprocess.Popen[bytes]]) -> None:
    """Wait while haproxy, the provider and one gateway instance run; report what stops."""
    reported: set[str] = set()
    while (
        processes["haproxy"].poll() is None
        and processes["idp"].poll() is None
        and any(processes[name].poll() is None for name in INSTANCES)
    ):
        for name, process in processes.items():
            if name not in reported and process.poll() is not None:
                reported.add(name)
                print(
                    f"{name} stopped (exit {process.returncode}); the others go on",
                    file=sys.stderr,
                    flush=True,
                )
        time.sleep(0.5)
    print("haproxy, the provider or every gateway exited; stopping the rest", file=sys.stderr)


def print_banner(instances: Mapping[str, int], env: Mapping[str, str]) -> None:
    """Print what runs behind the public URL."""
    print("\n=== Diary Gateway cluster ===")
    print(f"  {'haproxy (public):':20}{env['GATEWAY_PUBLIC_URL'].rstrip('/')}")
    for name, port in instances.items():
        print(f"  {name + ':':20}http://127.0.0.1:{port}")
    print(f"  {'Celery workers:':20}{', '.join(WORKERS)} (queues {ALL_QUEUES}); one scheduler")
    print(f"  {'Database, Redis:':20}{_safe(env['DATABASE_URL'])}, {_safe(env['REDIS_URL'])}")


def _safe(url: str) -> str:
    """Drop a password from a URL before printing it."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def main() -> None:
    """Check the environment, prepare, start everything, print the URLs, and supervise."""
    check_environment(os.environ)
    ports = run_demo.read_ports(os.environ)
    instances = read_instance_ports(os.environ)
    folder = Path(os.environ.get("GATEWAY_CLUSTER_DIR") or ROOT / "instance" / "cluster")
    folder.mkdir(parents=True, exist_ok=True)
    environ = {"GATEWAY_BEAT_SCHEDULE": str(folder / "celerybeat-schedule"), **os.environ}
    env = run_demo.demo_environment(environ, ports)
    config = folder / "haproxy.cfg"
    config.write_text(haproxy_config(ports["gateway"], instances), encoding="utf-8")
    if subprocess.run([HAPROXY, "-c", "-f", str(config)], stdout=subprocess.DEVNULL).returncode:
        raise SystemExit(f"haproxy refused {config} (its messages are above)")
    processes: dict[str, subprocess.Popen[bytes]] = {}

    def on_signal(*_: object) -> None:
        # A second Ctrl-C must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        run_demo.prepare(env)
        urls = health_urls(ports, instances, env)
        for name, command in commands(ports, instances, env, config).items():
            processes[name] = subprocess.Popen(command, cwd=ROOT, env=env)
            if name in urls:
                run_demo.wait_until_up(urls[name], processes[name])
        print_banner(instances, env)
        run_demo.print_banner(ports, env)
        supervise(processes)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        run_demo.stop_all(processes)


if __name__ == "__main__":
    main()
