"""Follow-ups: the send a send follows up, and the audit thread both are reported in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sms_sends") as batch:
        batch.add_column(sa.Column("follows", sa.Integer, nullable=True))
        batch.add_column(sa.Column("thread_ts", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sms_sends") as batch:
        batch.drop_column("thread_ts")
        batch.drop_column("follows")
