"""Who the named receivers of a send are: the Slack id or contact beside the number sent to.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sms_sends") as batch:
        batch.add_column(sa.Column("recipients", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sms_sends") as batch:
        batch.drop_column("recipients")
