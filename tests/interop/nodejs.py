"""Run the Node scripts of tests/interop/node: bounded, line by line, always killed."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import subprocess
import time
import typing as t
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.live import unavailable

NODE_DIR = Path(__file__).resolve().parent / "node"
PACKAGES = ("oidc-provider", "openid-client")
INSTALL = "(cd tests/interop/node && npm ci --no-audit --no-fund)"

# Seconds a Node script may take to start, or to finish one flow.
STARTUP_TIMEOUT = 30.0
FLOW_TIMEOUT = 30.0

# The account oidc-provider signs in: standard claims only, as any compliant provider sends.
ACCOUNT: dict[str, t.Any] = {
    "login": "parent@interop.test",
    "password": "interop-password-1",
    "claims": {
        "sub": "interop-parent-1",
        "name": "Ирина Сергеевна Смирнова",
        "family_name": "Смирнова",
        "given_name": "Ирина",
        "middle_name": "Сергеевна",
        "birthdate": "1985-03-14",
        "email": "irina@interop.test",
        "email_verified": True,
        "phone_number": "+79000000101",
        "phone_number_verified": True,
    },
}


@dataclass(frozen=True, slots=True)
class Registration:
    """Describe a provider and the one client registered at it."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str


def node_executable() -> str:
    """Return the node binary once the pinned packages are installed; else skip (fail on CI)."""
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js is not installed (the interop tests need node >= 20)")
    missing = [name for name in PACKAGES if not (NODE_DIR / "node_modules" / name).is_dir()]
    if missing:
        unavailable(f"{', '.join(missing)} not installed; run {INSTALL}")
    return node


class NodeProcess:
    """Wrap a running script: read its stdout by lines against a deadline, write to stdin."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: Path) -> None:
        self.process = process
        self.stderr_path = stderr
        self._buffer = b""
        self._selector = selectors.DefaultSelector()
        assert process.stdout is not None
        self._selector.register(process.stdout, selectors.EVENT_READ)

    def read_line(self, *, timeout: float) -> str | None:
        """Return the next stdout line, or None at end of output; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._selector.select(remaining):
                raise TimeoutError(f"no output line within {timeout} s; {self.stderr()}")
            assert self.process.stdout is not None
            chunk = os.read(self.process.stdout.fileno(), 65536)
            if not chunk:
                rest, self._buffer = self._buffer, b""
                return rest.decode() or None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def read_json(self, *, timeout: float) -> dict[str, t.Any]:
        """Return the next stdout line parsed as a JSON object."""
        line = self.read_line(timeout=timeout)
        if line is None:
            raise AssertionError(f"the script ended without output; {self.stderr()}")
        return t.cast(dict[str, t.Any], json.loads(line))

    def send_line(self, text: str) -> None:
        """Write one line to the script's stdin."""
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        self.process.stdin.flush()

    def finish(self, *, timeout: float) -> int:
        """Wait for the exit and return its code; kill the script after ``timeout``."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def stderr(self) -> str:
        """Return what the script wrote to stderr so far."""
        return "stderr: " + self.stderr_path.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def run_script(
    script: str, args: Sequence[str], *, stderr: Path, env: dict[str, str] | None = None
) -> Iterator[NodeProcess]:
    """Start ``node <script> <args>`` in the node folder; terminate, then kill, on exit."""
    node = node_executable()
    with stderr.open("wb") as errors:
        process = subprocess.Popen(
            [node, script, *args],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env={**os.environ, **(env or {})},
        )
    try:
        yield NodeProcess(process, stderr)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    # Closing stdin is the scripts' own signal to quit; terminate and kill back it up.
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
