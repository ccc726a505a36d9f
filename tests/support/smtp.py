"""An SMTP server for the tests (aiosmtpd): it keeps every message it is handed."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import socket
import typing as t
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope
from aiosmtpd.smtp import Session


@dataclasses.dataclass
class Inbox:
    """What the server received, parsed, and its ``smtp://`` URL."""

    url: str = ""
    messages: list[EmailMessage] = dataclasses.field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keep a message, or refuse it while ``refuse`` is set (aiosmtpd's hook)."""
        if self.refuse:
            return "451 try again later"
        content = envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append(t.cast(EmailMessage, parsed))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    """Run an SMTP server on loopback for one test."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}"
    try:
        yield inbox
    finally:
        controller.stop()
