"""SMTP servers are named by one URL; a wrong one is refused at once."""

from __future__ import annotations

import pytest

from gateway.services.mail import SmtpServer


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://127.0.0.1:1025", SmtpServer("127.0.0.1", 1025)),
        ("smtp://relay.local", SmtpServer("relay.local", 25)),
        (
            "smtp+starttls://robot%40school.ru:p%40ss@smtp.yandex.ru",
            SmtpServer("smtp.yandex.ru", 587, "smtp+starttls", "robot@school.ru", "p@ss"),
        ),
        ("smtps://mail.example.ru", SmtpServer("mail.example.ru", 465, "smtps")),
    ],
)
def test_a_server_url_reads_into_its_parts(url: str, server: SmtpServer) -> None:
    assert SmtpServer.from_url(url) == server


@pytest.mark.parametrize("url", ["http://mail.example.ru", "smtp://", "mail.example.ru:25"])
def test_a_url_that_is_not_smtp_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="an SMTP URL is"):
        SmtpServer.from_url(url)
