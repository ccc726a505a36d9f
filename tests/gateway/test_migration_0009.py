"""Migration 0009 (unique keys, sealed outbox links) on a database that holds data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from gateway.database import upgrade


def test_old_invitation_links_are_forgotten_and_duplicates_merged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "0008")
    link = "http://127.0.0.1:8000/trusted/accept/secret-token-0123456789"
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    engine = sa.create_engine(url)
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO outbox_messages (channel, recipient, subject, body, payload,"
                " created_at) VALUES ('sms', '+79000000003', 'Приглашение', :body, :payload, :at)"
            ),
            {
                "body": f"Ирина открывает вам дневник: {link}",
                "payload": f'{{"grant": 1, "link": "{link}"}}',
                "at": now,
            },
        )
        db.execute(
            sa.text(
                "INSERT INTO users (issuer, subject, full_name, created_at) VALUES"
                " ('http://idp', 'p', 'Иванова Мария', :at)"
            ),
            {"at": now},
        )
        for _ in range(2):
            db.execute(
                sa.text(
                    "INSERT INTO personal_data_consents (user_id, text_version, accepted_at)"
                    " VALUES (1, '2026-11', :at)"
                ),
                {"at": now},
            )
            db.execute(
                sa.text(
                    "INSERT INTO staff_roles (kind, user_id, granted_at) VALUES ('ADMIN', 1, :at)"
                ),
                {"at": now},
            )
    upgrade(url)
    with engine.connect() as db:
        body, payload, sent_at = db.execute(
            sa.text("SELECT body, payload, sent_at FROM outbox_messages")
        ).one()
        assert "secret-token" not in body + payload and "{link}" in body
        assert sent_at is not None
        assert db.execute(sa.text("SELECT count(*) FROM personal_data_consents")).scalar() == 1
        assert db.execute(sa.text("SELECT count(*) FROM staff_roles")).scalar() == 1
    engine.dispose()
