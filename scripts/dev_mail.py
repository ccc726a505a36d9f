"""The demo's SMTP server: it keeps every message it is handed as a file, for /__dev/mail.

``python -m scripts.dev_mail --port 1025 --folder instance/dev-mail`` listens on loopback
until SIGINT or SIGTERM. Nothing is relayed anywhere: the gateway's notification e-mail of
the demo ends here, and the development page reads it.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope
from aiosmtpd.smtp import Session


class Keeper:
    """An aiosmtpd handler that writes each message to ``folder`` as an ``.eml`` file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keep the message (aiosmtpd's hook)."""
        content = envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        draft = self.folder / f".{name}"
        draft.write_bytes(raw)
        draft.rename(self.folder / name)  # the page never reads half a message
        return "250 OK: kept"


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until told to stop."""
    parser = argparse.ArgumentParser(prog="python -m scripts.dev_mail")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args(argv)
    controller = Controller(Keeper(args.folder), hostname="127.0.0.1", port=args.port)
    stopped = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stopped.set())
    controller.start()
    print(f"dev mail: smtp://127.0.0.1:{args.port} -> {args.folder}", flush=True)
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    main()
