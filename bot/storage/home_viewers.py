"""Who opened the app's Home tab: their tab is refreshed after sends they did not watch happen in Slack
(`smsbot send`, a send recovery settled); nobody else's is published unasked."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.db import translated
from bot.storage.ledger import metadata

home_viewers = sa.Table(
    "sms_home_viewers",
    metadata,
    sa.Column("user_id", sa.String(32), primary_key=True),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),  # the latest time
)


class HomeViewers:
    """The ``sms_home_viewers`` table. Every method raises :class:`~bot.domain.errors.LedgerUnavailable`
    when the database fails."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @translated
    def opened(self, user_id: str) -> None:
        """``user_id`` opened their Home tab now."""
        now = datetime.now(UTC)
        update = home_viewers.update().where(home_viewers.c.user_id == user_id).values(opened_at=now)
        with self.engine.begin() as conn:
            if conn.execute(update).rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(home_viewers.insert().values(user_id=user_id, opened_at=now))
        except IntegrityError:  # another instance recorded the same opening first
            pass

    @translated
    def has_opened(self, user_id: str) -> bool:
        """Whether ``user_id`` ever opened their Home tab (Slack shows them one)."""
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(home_viewers.c.user_id).where(home_viewers.c.user_id == user_id))
            return found.first() is not None
