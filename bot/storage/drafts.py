"""Sends waiting for their author's confirmation: a costly send's request is kept here while the
confirmation view is open, and sent (under the same request key, so only once) when it is confirmed.

The database keeps them, not the process, so the confirmation may reach any instance; a draft older than
DRAFT_LIFETIME is forgotten.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.storage.db import translated
from bot.storage.ledger import metadata

DRAFT_LIFETIME = timedelta(days=1)

drafts = sa.Table(
    "sms_drafts",
    metadata,
    sa.Column("request_key", sa.String(255), primary_key=True),
    sa.Column("user_id", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("request", sa.JSON, nullable=False),
)


def delete_expired(conn: sa.Connection, now: datetime) -> int:
    """Delete the drafts past their lifetime at ``now``, in the caller's transaction; how many."""
    return conn.execute(drafts.delete().where(drafts.c.created_at < now - DRAFT_LIFETIME)).rowcount


class DraftStore:
    """The ``sms_drafts`` table. Every method raises :class:`~bot.domain.errors.LedgerUnavailable` when the
    database fails."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @translated
    def put(self, request_key: str, user_id: str, request: dict[str, Any]) -> None:
        """Keep ``request`` until confirmed (a second draft of the same request replaces the first), and
        forget drafts past their lifetime."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            delete_expired(conn, now)
            conn.execute(drafts.delete().where(drafts.c.request_key == request_key))
            conn.execute(
                drafts.insert().values(
                    request_key=request_key, user_id=user_id, created_at=now, request=request
                )
            )

    @translated
    def get(self, request_key: str, user_id: str) -> dict[str, Any] | None:
        """``user_id``'s draft of this request, unless it is past its lifetime."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(drafts.c.request, drafts.c.created_at).where(
                    drafts.c.request_key == request_key, drafts.c.user_id == user_id
                )
            ).one_or_none()
        if row is None:
            return None
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        return dict(row.request) if created > datetime.now(UTC) - DRAFT_LIFETIME else None
