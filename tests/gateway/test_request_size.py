"""Oversized requests are refused from their headers, before the body is read."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.support.live import serving

TWENTY_MB = 20 * 1024 * 1024


def _send_headers_only(base: str, path: str, *, length: int, extra: str = "") -> str:
    """Announce a body of ``length`` bytes, send a first kilobyte of it, read the answer.

    A server that reads the body waits for the rest, which never comes: the socket
    timeout then fails the test instead of a 413 arriving.
    """
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {length}\r\nAccept-Language: ru\r\n{extra}\r\n"
        )
        sock.sendall(head.encode() + b"a=" + b"x" * 1022)
        received = b""
        while b"\r\n\r\n" not in received or b"</html>" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received.decode("utf-8", "replace")


@pytest.mark.parametrize(
    "path",
    ["/logout", "/children/applications/new", "/auth/backchannel-logout", "/operator/roles"],
)
def test_a_twenty_megabyte_body_is_refused_without_being_read(app: Flask, path: str) -> None:
    with serving(app) as base:
        answer = _send_headers_only(base, path, length=TWENTY_MB)
    status_line = answer.split("\r\n", 1)[0]
    assert status_line.endswith("413 REQUEST ENTITY TOO LARGE"), status_line
    assert "Слишком большой запрос" in answer
    assert "no-store" in answer  # the page itself is still a gateway page


def test_the_refusal_page_leads_back_to_the_form(app: Flask) -> None:
    reply = app.test_client().post(
        "/children/applications/new",
        data={"text": "x" * 70_000},
        headers={"Referer": "http://localhost/children/applications/new"},
    )
    assert reply.status_code == 413
    assert 'href="/children/applications/new"' in reply.text
    assert "64 КБ" in reply.text


def test_the_refusal_never_leads_to_another_site(app: Flask) -> None:
    reply = app.test_client().post(
        "/logout", data={"text": "x" * 70_000}, headers={"Referer": "https://evil.example/x"}
    )
    assert reply.status_code == 413
    assert "evil.example" not in reply.text


def test_an_ordinary_form_is_still_accepted(app: Flask) -> None:
    reply = app.test_client().post("/logout", data={"note": "я" * 10_000})
    assert reply.status_code != 413


def test_the_refusal_speaks_english_when_asked(app: Flask) -> None:
    reply = app.test_client().post(
        "/logout", data={"text": "x" * 70_000}, headers={"Accept-Language": "en"}
    )
    assert reply.status_code == 413
    assert "Request too large" in reply.text
