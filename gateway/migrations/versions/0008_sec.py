"""race-safe unique keys, server-side session data

Revision ID: 0008_sec
Revises: 0007
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_sec"
down_revision = "0007"
branch_labels = None
depends_on = None

ROLE_HOLDER = (
    "kind",
    sa.text("coalesce(region_code, '')"),
    sa.text("coalesce(user_id, 0)"),
    sa.text("coalesce(phone, '')"),
    sa.text("coalesce(email, '')"),
)


def upgrade() -> None:
    """Apply this revision."""
    # Duplicates the old read-then-insert let through go first: the first of each stays.
    op.execute(
        "DELETE FROM personal_data_consents WHERE id NOT IN "
        "(SELECT min(id) FROM personal_data_consents GROUP BY user_id, text_version)"
    )
    with op.batch_alter_table("personal_data_consents", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_personal_data_consents_user_id"), ["user_id", "text_version"]
        )
    op.execute(
        "DELETE FROM staff_roles WHERE id NOT IN (SELECT min(id) FROM staff_roles GROUP BY "
        "kind, coalesce(region_code, ''), coalesce(user_id, 0), coalesce(phone, ''), "
        "coalesce(email, ''))"
    )
    op.create_index("uq_staff_roles_holder", "staff_roles", list(ROLE_HOLDER), unique=True)
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed", sa.LargeBinary(), nullable=True))
    _forget_links_already_shown()
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_token", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("consent_version", sa.String(length=32), nullable=True))


def _forget_links_already_shown() -> None:
    """Drop the plain-text invitation links of messages queued before this revision.

    The development outbox showed them all, so they count as delivered; no vault key is
    at hand here to seal them instead.
    """
    messages = sa.table(
        "outbox_messages",
        sa.column("id", sa.Integer()),
        sa.column("body", sa.Text()),
        sa.column("payload", sa.JSON()),
        sa.column("sent_at", sa.DateTime(timezone=True)),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(messages)).mappings():
        link = (row["payload"] or {}).get("link")
        if not link:
            continue
        connection.execute(
            messages.update()
            .where(messages.c.id == row["id"])
            .values(
                body=row["body"].replace(link, "{link}"),
                payload={k: v for k, v in row["payload"].items() if k != "link"},
                sent_at=row["sent_at"] or row["created_at"],
            )
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_column("consent_version")
        batch_op.drop_column("id_token")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("sealed")
    op.drop_index("uq_staff_roles_holder", table_name="staff_roles")
    with op.batch_alter_table("personal_data_consents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_personal_data_consents_user_id"), type_="unique")
