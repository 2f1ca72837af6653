"""Tasks run once across instances (retention's daily erasure): who holds each, and when it last ran.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "smsbot_tasks",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(36), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_changed", sa.Integer, nullable=True),
    )
    op.bulk_insert(table, [{"name": "retention"}])


def downgrade() -> None:
    op.drop_table("smsbot_tasks")
