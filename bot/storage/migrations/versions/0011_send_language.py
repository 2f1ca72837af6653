"""A send's language, and its error and cancellation note as messages to tell in that language.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # All nullable: a send written before reads back in English, from its English columns.
    with op.batch_alter_table("sms_sends") as batch:
        batch.add_column(sa.Column("language", sa.String(16), nullable=True))
        batch.add_column(sa.Column("error_text", sa.JSON, nullable=True))
        batch.add_column(sa.Column("cancel_note_text", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sms_sends") as batch:
        for column in ("cancel_note_text", "error_text", "language"):
            batch.drop_column(column)
