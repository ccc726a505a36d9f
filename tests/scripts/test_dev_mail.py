"""The demo's SMTP server keeps each message as a file, and /__dev/mail shows it."""

from __future__ import annotations

import smtplib
import typing as t
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from flask import Flask

from scripts.dev_mail import Keeper
from tests.support.stack import free_port


def test_a_message_handed_over_is_kept_and_shown_newest_first(
    make_app: t.Callable[..., Flask], tmp_path: Path
) -> None:
    folder = tmp_path / "dev-mail"
    port = free_port()
    controller = Controller(Keeper(folder), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for subject in ("Первое", "Второе"):
            letter = EmailMessage()
            letter["From"], letter["To"], letter["Subject"] = "d@localhost", "m@localhost", subject
            letter["List-Unsubscribe"] = "<http://localhost/notifications/unsubscribe/x>"
            letter.set_content(f"Текст: {subject}")
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
                smtp.send_message(letter)
    finally:
        controller.stop()
    assert len(list(folder.glob("*.eml"))) == 2 and not list(folder.glob(".*"))
    page = make_app(DEV_MAIL_DIR=str(folder)).test_client().get("/__dev/mail").text
    assert page.index("Второе") < page.index("Первое")
    assert (
        "Текст: Первое" in page and "List-Unsubscribe: &lt;http://localhost/notifications" in page
    )


def test_without_a_mail_folder_the_page_says_what_starts_it(
    make_app: t.Callable[..., Flask],
) -> None:
    page = make_app().test_client().get("/__dev/mail").text
    assert "GATEWAY_DEV_MAIL_DIR" in page and "Пока пусто." in page
