"""Create the send ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_sends",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_key", sa.String(255), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("receivers", sa.JSON, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("sender", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ovh_service", sa.String(64), nullable=True),
        sa.Column("ovh_job_ids", sa.JSON, nullable=False),
        sa.Column("credits_used", sa.Float, nullable=True),
        sa.Column("credits_left", sa.Float, nullable=True),
        sa.Column("accepted_receivers", sa.JSON, nullable=False),
        sa.Column("rejected_receivers", sa.JSON, nullable=False),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("audit_channel_id", sa.String(32), nullable=True),
        sa.Column("audit_ts", sa.String(32), nullable=True),
        sa.Column("audit_status", sa.String(16), nullable=False),
        sa.UniqueConstraint("request_key", name="uq_sms_sends_request_key"),
    )
    op.create_index("ix_sms_sends_status", "sms_sends", ["status"])


def downgrade() -> None:
    op.drop_index("ix_sms_sends_status", table_name="sms_sends")
    op.drop_table("sms_sends")
