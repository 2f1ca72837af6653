"""Recovery leases and attempts, usage columns for limits, and the opt-out list.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sms_sends") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("receiver_count", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("estimated_credits", sa.Float, nullable=True))
    # Rows written before this revision: count their receivers so that daily limits see them.
    sends = sa.table("sms_sends", sa.column("id", sa.Integer), sa.column("receivers", sa.JSON))
    connection = op.get_bind()
    for send_id, receivers in connection.execute(sa.select(sends.c.id, sends.c.receivers)):
        count = len(json.loads(receivers) if isinstance(receivers, str) else receivers or [])
        connection.execute(
            sa.text(
                "UPDATE sms_sends SET receiver_count = :count, last_attempt_at = created_at WHERE id = :id"
            ),
            {"count": count, "id": send_id},
        )
    op.create_index("ix_sms_sends_user_created", "sms_sends", ["user_id", "created_at"])
    op.create_index("ix_sms_sends_channel_created", "sms_sends", ["channel_id", "created_at"])
    op.create_table(
        "sms_opt_outs",
        sa.Column("e164", sa.String(20), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("sms_opt_outs")
    op.drop_index("ix_sms_sends_channel_created", table_name="sms_sends")
    op.drop_index("ix_sms_sends_user_created", table_name="sms_sends")
    with op.batch_alter_table("sms_sends") as batch:
        for column in ("estimated_credits", "receiver_count", "lease_until", "last_attempt_at", "attempts"):
            batch.drop_column(column)
