"""Delivery receipts, status messages, replies and shared counters (issue 11).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("send_id", sa.Integer, nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("sms_id", sa.BigInteger, nullable=False),
        sa.Column("receiver", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("receipt", sa.Integer, nullable=True),
        sa.Column("ptt", sa.Integer, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("took_seconds", sa.Float, nullable=True),
        sa.Column("buffered", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("misses", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(36), nullable=True),
        sa.UniqueConstraint("service", "sms_id", name="uq_sms_deliveries_sms"),
    )
    op.create_index("ix_sms_deliveries_due", "sms_deliveries", ["state", "next_check_at"])
    op.create_index("ix_sms_deliveries_receiver", "sms_deliveries", ["receiver", "created_at"])
    op.create_index("ix_sms_deliveries_send", "sms_deliveries", ["send_id"])
    op.create_table(
        "sms_delivery_reports",
        sa.Column("send_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("shown_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status_ts", sa.String(32), nullable=True),
        sa.Column("posting", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("closed", sa.String(32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(36), nullable=True),
    )
    op.create_table(
        "sms_replies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("incoming_id", sa.BigInteger, nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("e164", sa.String(32), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("send_id", sa.Integer, nullable=True),
        sa.Column("is_stop", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("thread_ts", sa.String(32), nullable=True),
        sa.Column("posted_ts", sa.String(32), nullable=True),
        sa.Column("posting", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(36), nullable=True),
        sa.UniqueConstraint("service", "incoming_id", name="uq_sms_replies_incoming"),
    )
    op.create_index("ix_sms_replies_state", "sms_replies", ["state", "next_try_at"])
    op.create_table(
        "sms_counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("sms_counters")
    op.drop_index("ix_sms_replies_state", table_name="sms_replies")
    op.drop_table("sms_replies")
    op.drop_table("sms_delivery_reports")
    for index in ("ix_sms_deliveries_send", "ix_sms_deliveries_receiver", "ix_sms_deliveries_due"):
        op.drop_index(index, table_name="sms_deliveries")
    op.drop_table("sms_deliveries")
