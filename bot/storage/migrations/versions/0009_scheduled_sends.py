"""Scheduled sends: when OVH is to send, replies allowed, and who cancelled one and what came of it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sms_sends") as batch:
        batch.add_column(sa.Column("send_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("allow_replies", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("cancelled_by", sa.String(32), nullable=True))
        batch.add_column(sa.Column("cancel_note", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sms_sends") as batch:
        for column in ("cancel_note", "cancelled_by", "cancelled_at", "allow_replies", "send_at"):
            batch.drop_column(column)
