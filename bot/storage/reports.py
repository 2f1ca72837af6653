"""Read-only views of the ledger for people: a person's latest sends, the team's use over a window, the
latest failures, the usual destination. Nothing here writes.

Use is counted as the limits count it (:data:`bot.storage.ledger.COUNTED`: pending, sent and unknown
sends; a failed send sent nothing), with OVH's credits where known and the estimate otherwise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.domain.records import SendRecord, SendStatus
from bot.storage.db import translated
from bot.storage.ledger import _COUNTED, _record, sends

# The sends the usual destination is read from: the latest ones, within this window.
RATE_WINDOW = timedelta(days=90)
RATE_SAMPLE = 200


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TeamUse:
    """What the team sent over a window: sends, SMS (one per receiver) and credits."""

    sends: int = 0
    sms: int = 0
    credits: float = 0.0


@dataclass(frozen=True)
class Rate:
    """What one single-part SMS costs to a country, as OVH's public rates say."""

    region: str
    credits_per_sms: float | None  # None: OVH's rate could not be read


class Reports:
    """Queries over ``sms_sends`` for the App Home, `/sms credits` and `/sms history`.

    Every method raises :class:`~bot.domain.errors.LedgerUnavailable` when the database fails.
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _now) -> None:
        self.engine = engine
        self._clock = clock

    @translated
    def latest_sends(self, user_id: str | None, limit: int = 10) -> list[SendRecord]:
        """A person's latest sends (everyone's with None), newest first."""
        query = sends.select().order_by(sends.c.created_at.desc(), sends.c.id.desc()).limit(limit)
        if user_id is not None:
            query = query.where(sends.c.user_id == user_id)
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    @translated
    def latest_failures(self, limit: int = 5) -> list[SendRecord]:
        """The team's latest sends that failed or whose outcome is unknown, newest first."""
        query = (
            sends.select()
            .where(sends.c.status.in_([SendStatus.FAILED.value, SendStatus.UNKNOWN.value]))
            .order_by(sends.c.created_at.desc(), sends.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    @translated
    def team_use(self, since: datetime, until: datetime | None = None) -> TeamUse:
        """The whole team's use from ``since`` (to ``until``, by default now), counted as the limits count."""
        credits = sa.func.coalesce(sends.c.credits_used, sends.c.estimated_credits, 0)
        query = sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sends.c.receiver_count), 0),
            sa.func.coalesce(sa.func.sum(credits), 0),
        ).where(sends.c.created_at >= since, sends.c.status.in_(_COUNTED))
        if until is not None:
            query = query.where(sends.c.created_at < until)
        with self.engine.connect() as conn:
            row = conn.execute(query).one()
        return TeamUse(sends=int(row[0]), sms=int(row[1]), credits=float(row[2]))

    def last(self, window: timedelta) -> TeamUse:
        """The team's use over the last ``window``."""
        return self.team_use(self._clock() - window)

    def this_month(self) -> TeamUse:
        """The team's use since the first of this month (UTC), as OVH bills it."""
        return self.team_use(self.month_start())

    def sends_between(
        self, since: datetime, until: datetime | None = None, page: int = 500
    ) -> Iterator[SendRecord]:
        """Every send recorded from ``since`` to ``until`` (excluded; by default now), oldest first, read
        ``page`` rows at a time. Raises :class:`~bot.domain.errors.LedgerUnavailable` while iterating."""
        after = 0
        while True:
            rows = self._page(since, until, after, page)
            yield from rows
            if len(rows) < page:
                return
            after = rows[-1].id

    @translated
    def _page(self, since: datetime, until: datetime | None, after: int, page: int) -> list[SendRecord]:
        query = sends.select().where(sends.c.created_at >= since, sends.c.id > after)
        if until is not None:
            query = query.where(sends.c.created_at < until)
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query.order_by(sends.c.id).limit(page))]

    def month_start(self) -> datetime:
        """The first of this month, 00:00 UTC."""
        return self._clock().replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    @translated
    def senders_used(self, window: timedelta) -> set[str]:
        """The OVH senders the team's sends went out from over the last ``window`` (the account's default
        sender, recorded as none, is left out)."""
        query = (
            sa.select(sends.c.sender)
            .distinct()
            .where(sends.c.created_at >= self._clock() - window, sends.c.sender.is_not(None))
        )
        with self.engine.connect() as conn:
            return {str(sender) for sender in conn.execute(query).scalars()}

    @translated
    def latest_credits_left(self) -> float | None:
        """The balance OVH gave with the latest send that carried one, if any."""
        query = (
            sa.select(sends.c.credits_left)
            .where(sends.c.credits_left.is_not(None))
            .order_by(sends.c.updated_at.desc(), sends.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return float(value) if value is not None else None

    @translated
    def usual_region(self, default_region: str | None) -> str | None:
        """The country most receivers of the team's recent sends were in (the last RATE_SAMPLE sends of
        RATE_WINDOW); ``default_region`` when there is none."""
        query = (
            sa.select(sends.c.receivers)
            .where(sends.c.created_at >= self._clock() - RATE_WINDOW)
            .order_by(sends.c.created_at.desc())
            .limit(RATE_SAMPLE)
        )
        with self.engine.connect() as conn:
            lists = list(conn.execute(query).scalars())
        regions: Counter[str] = Counter(
            region for numbers in lists for n in numbers if (region := _region(n))
        )
        return regions.most_common(1)[0][0] if regions else default_region


def _region(e164: str) -> str | None:
    """The country of a full number; None for one whose digits were erased (masked) or unreadable."""
    if "*" in e164:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
