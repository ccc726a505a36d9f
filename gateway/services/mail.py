"""Sending e-mail over SMTP: the server from one URL, one connection per batch.

``smtp://host:port`` sends in the clear (a local relay, the demo's server);
``smtp+starttls://user:password@host:587`` upgrades with STARTTLS and logs in;
``smtps://…:465`` speaks TLS from the start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import smtplib
import ssl
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterator
from email.message import EmailMessage

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailFailed(RuntimeError):
    """The SMTP server could not be reached, or refused the message."""


@dataclasses.dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how to hand mail over."""

    host: str
    port: int
    scheme: str = "smtp"
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 10.0) -> SmtpServer:
        """Read a server from its URL.

        :raise ValueError: for another scheme or no host.
        """
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError("an SMTP URL is smtp://, smtp+starttls:// or smtps://host[:port]")
        return cls(
            host=parts.hostname,
            port=parts.port or SCHEMES[parts.scheme],
            scheme=parts.scheme,
            username=urllib.parse.unquote(parts.username) if parts.username else None,
            password=urllib.parse.unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )

    @contextlib.contextmanager
    def connection(self) -> Iterator[Callable[[EmailMessage], None]]:
        """Open one connection and yield a function that sends a message over it.

        :raise MailFailed: the server could not be reached or refused a message.
        """
        try:
            with self._connect() as smtp:

                def send(message: EmailMessage) -> None:
                    smtp.send_message(message)

                yield send
        except (OSError, smtplib.SMTPException) as err:
            raise MailFailed(f"the mail server did not take the message ({err})") from err

    def _connect(self) -> smtplib.SMTP:
        if self.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.scheme == "smtp+starttls":
                smtp.starttls(context=ssl.create_default_context())
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp
