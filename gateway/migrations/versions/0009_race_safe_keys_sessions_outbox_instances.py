"""race-safe unique keys, server-side session data, sealed outbox, instance lifecycle

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
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
    _instance_lifecycle()
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_token", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("consent_version", sa.String(length=32), nullable=True))


def _instance_lifecycle() -> None:
    """Add who changed and who approved each instance, and the instances' audit log."""
    with op.batch_alter_table("connector_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("approved_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        for column in ("changed_by_id", "approved_by_id"):
            batch_op.create_foreign_key(
                batch_op.f(f"fk_connector_instances_{column}_users"),
                "users",
                [column],
                ["id"],
                ondelete="SET NULL",
            )
    # Instances registered before this revision were already offered: they count as approved.
    op.execute("UPDATE connector_instances SET approved_at = CURRENT_TIMESTAMP")
    op.create_table(
        "instance_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_instance_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["connector_instances.id"],
            name=op.f("fk_instance_events_instance_id_connector_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_events")),
    )
    with op.batch_alter_table("instance_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instance_events_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_instance_events_instance_id"), ["instance_id"], unique=False
        )


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
    op.drop_table("instance_events")
    with op.batch_alter_table("connector_instances", schema=None) as batch_op:
        for column in ("approved_by_id", "changed_by_id"):
            batch_op.drop_constraint(
                batch_op.f(f"fk_connector_instances_{column}_users"), type_="foreignkey"
            )
        for column in ("approved_at", "approved_by_id", "checked_at", "changed_at"):
            batch_op.drop_column(column)
        batch_op.drop_column("changed_by_id")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("sealed")
    op.drop_index("uq_staff_roles_holder", table_name="staff_roles")
    with op.batch_alter_table("personal_data_consents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_personal_data_consents_user_id"), type_="unique")
