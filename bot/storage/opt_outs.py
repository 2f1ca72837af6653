"""Numbers that asked not to receive SMS from the team. Admins manage the list with `/sms optout`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.db import translated
from bot.storage.ledger import metadata

opt_outs = sa.Table(
    "sms_opt_outs",
    metadata,
    sa.Column("e164", sa.String(20), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(32), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
)


@dataclass(frozen=True)
class OptOut:
    """One opted-out number."""

    e164: str
    created_at: datetime
    created_by: str
    note: str | None


class OptOutList:
    """The ``sms_opt_outs`` table. Every method raises :class:`~bot.domain.errors.LedgerUnavailable` when
    the database fails."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @translated
    def add(self, e164: str, created_by: str, note: str | None = None) -> bool:
        """Opt a number out; False if it already was."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    opt_outs.insert().values(
                        e164=e164, created_at=datetime.now(UTC), created_by=created_by, note=note
                    )
                )
        except IntegrityError:
            return False
        return True

    @translated
    def remove(self, e164: str) -> bool:
        """Let a number receive SMS again; False if it was not opted out."""
        with self.engine.begin() as conn:
            return conn.execute(opt_outs.delete().where(opt_outs.c.e164 == e164)).rowcount > 0

    @translated
    def among(self, e164s: Iterable[str]) -> frozenset[str]:
        """Which of these numbers opted out."""
        numbers = list(e164s)
        if not numbers:
            return frozenset()
        with self.engine.connect() as conn:
            return frozenset(
                conn.execute(sa.select(opt_outs.c.e164).where(opt_outs.c.e164.in_(numbers))).scalars()
            )

    @translated
    def all(self) -> list[OptOut]:
        """Every opted-out number, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(opt_outs.select().order_by(opt_outs.c.created_at))
            return [OptOut(**row._mapping) for row in rows]
