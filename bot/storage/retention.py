"""Retention: the ledger keeps phone numbers and texts only for ``SMS_RETENTION_DAYS``.

Past that, a send's text is erased and its numbers are masked (``+34******001``: those asked for, accepted,
rejected, and those of the people and contacts it named, whose ids and names stay); its counts, credits,
statuses, job ids and key stay, so limits, reports and exports still add up and a redelivered request is
still known. Only settled sends are erased: a pending or unknown one (recovery may still look for it at
OVH by its receivers and text, or send it), one held under a lease, and one whose audit recovery may still
post (its text and numbers go into that audit) keep everything until they settle.

The bot runs it once a day across all instances: each instance's loop asks the database for the task's
lease (``smsbot_tasks``), and only the one that gets it, when a day has passed since the last run, runs it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.domain.deliveries import DeliveryState
from bot.domain.receivers import mask
from bot.domain.records import AuditStatus, SendStatus
from bot.periodic import PeriodicLoop
from bot.storage.db import begin_immediate, translated
from bot.storage.deliveries import REPLY_PENDING, deliveries, replies
from bot.storage.drafts import delete_expired
from bot.storage.ledger import AUDIT_RETRY_WINDOW, metadata, sends

log = logging.getLogger(__name__)

tasks = sa.Table(
    "smsbot_tasks",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(36), nullable=True),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_changed", sa.Integer, nullable=True),
)

TASK = "retention"
EVERY = timedelta(days=1)
LEASE = timedelta(minutes=30)  # a run longer than this (millions of rows) is let go to another instance
BATCH = 500  # rows erased per transaction: short write locks, a running bot goes on recording sends
CHECK_EVERY_SECONDS = 3600.0  # how often each instance asks whether a day has passed


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _free(table: sa.Table, now: datetime) -> sa.ColumnElement[bool]:
    """No worker holds the row (its lease ran out, or it has none)."""
    return sa.or_(table.c.lease_until.is_(None), table.c.lease_until < now)


def masked(numbers: list[str]) -> list[str]:
    """The numbers with most digits hidden; already masked ones stay as they are."""
    return [number if "*" in number else mask(number) for number in numbers]


def erased_recipients(entries: list[dict[str, str]] | None) -> list[dict[str, str]] | None:
    """The named receivers (people, contacts) with their numbers masked and the reason one was skipped (which
    may quote a profile's phone) erased; who they were (the Slack id, the contact's name) stays."""
    if not entries:
        return entries
    kept = []
    for entry in entries:
        entry = dict(entry)
        if entry.get("e164"):
            entry["e164"] = masked([entry["e164"]])[0]
        if entry.get("skipped"):
            entry["skipped"] = "(erased)"
        kept.append(entry)
    return kept


@dataclass(frozen=True)
class PurgeResult:
    """What a run did: how many sends it erased, and the cut-off (sends recorded before it); and how many
    delivery reports (their receiver) and replies (their sender and text) of the same age it erased, and
    how many drafts never confirmed it deleted."""

    changed: int
    before: datetime
    deliveries: int = 0
    replies: int = 0
    drafts: int = 0  # sends never confirmed (their whole request), deleted once past their lifetime


class Retention:
    """Erases texts and full numbers from settled sends older than ``days`` (0: every settled send)."""

    def __init__(self, engine: Engine, days: int, clock: Callable[[], datetime] = _now) -> None:
        self.engine = engine
        self.days = days
        self._clock = clock

    def erasable(self, now: datetime) -> sa.ColumnElement[bool]:
        """The rows a run may erase at ``now``: older than the window, settled, let go of, not yet erased."""
        audit_done = sa.or_(
            sends.c.audit_status.in_([AuditStatus.THREAD.value, AuditStatus.PRIVATE.value]),
            # Recovery stops posting a failed audit after this window: nothing will read the row again.
            sends.c.created_at < now - AUDIT_RETRY_WINDOW,
        )
        return sa.and_(
            sends.c.created_at < now - timedelta(days=self.days),
            sends.c.status.in_([SendStatus.SENT.value, SendStatus.FAILED.value]),
            audit_done,
            sa.or_(sends.c.lease_until.is_(None), sends.c.lease_until < now),
            sends.c.message != "",
        )

    @translated
    def purge(self) -> PurgeResult:
        """Erase now; how many sends changed. Each batch re-checks every condition in its UPDATE, so a row
        that a worker took meanwhile is left alone."""
        now = self._clock()
        changed = 0
        skip: set[int] = set()
        while True:
            # Reads, then writes: on SQLite the batch holds the write lock from its first statement.
            with begin_immediate(self.engine) as conn:
                rows = conn.execute(
                    sa.select(
                        sends.c.id,
                        sends.c.receivers,
                        sends.c.accepted_receivers,
                        sends.c.rejected_receivers,
                        sends.c.recipients,
                    )
                    .where(self.erasable(now), sends.c.id.not_in(skip) if skip else sa.true())
                    .order_by(sends.c.id)
                    .limit(BATCH)
                ).all()
                for row in rows:
                    result = conn.execute(
                        sends.update()
                        .where(sends.c.id == row.id, self.erasable(now))
                        .values(
                            message="",
                            receivers=masked(row.receivers),
                            accepted_receivers=masked(row.accepted_receivers),
                            rejected_receivers=masked(row.rejected_receivers),
                            recipients=erased_recipients(row.recipients),
                        )
                    )
                    if result.rowcount:
                        changed += 1
                    else:
                        skip.add(row.id)
            if len(rows) < BATCH:
                break
        cutoff = now - timedelta(days=self.days)
        delivered = self._erase(
            deliveries,
            [deliveries.c.receiver],
            sa.and_(
                deliveries.c.created_at < cutoff,
                deliveries.c.state != DeliveryState.PENDING.value,  # still followed: its number is read
                deliveries.c.receiver.is_not(None),
                deliveries.c.receiver.not_like("%*%"),
                _free(deliveries, now),
            ),
            lambda row: {"receiver": masked([row.receiver])[0]},
        )
        replied = self._erase(
            replies,
            [replies.c.sender, replies.c.e164],
            sa.and_(
                replies.c.created_at < cutoff,
                replies.c.state != REPLY_PENDING,  # still to be posted in its thread
                replies.c.message != "",
                _free(replies, now),
            ),
            lambda row: {
                "message": "",
                "sender": masked([row.sender])[0] if row.sender else row.sender,
                "e164": masked([row.e164])[0] if row.e164 else None,
            },
        )
        # A draft holds a whole request (text, numbers) that was never sent: no use past its lifetime.
        with begin_immediate(self.engine) as conn:
            forgotten = delete_expired(conn, now)
        log.info(
            "retention: erased the text and numbers of %d send(s), %d delivery report(s) and %d reply(ies) older "
            "than %d day(s); deleted %d draft(s) never confirmed",
            changed,
            delivered,
            replied,
            self.days,
            forgotten,
        )
        return PurgeResult(changed, cutoff, delivered, replied, forgotten)

    def _erase(
        self,
        table: sa.Table,
        columns: list[sa.Column[Any]],
        wanted: sa.ColumnElement[bool],
        values: Callable[[Any], dict[str, Any]],
    ) -> int:
        """Erase, batch by batch, the rows of ``table`` that ``wanted`` selects (checked again by each UPDATE)."""
        changed = 0
        skip: set[int] = set()
        while True:
            with begin_immediate(self.engine) as conn:
                rows = conn.execute(
                    sa.select(table.c.id, *columns)
                    .where(wanted, table.c.id.not_in(skip) if skip else sa.true())
                    .order_by(table.c.id)
                    .limit(BATCH)
                ).all()
                for row in rows:
                    done = conn.execute(
                        table.update().where(table.c.id == row.id, wanted).values(**values(row))
                    )
                    if done.rowcount:
                        changed += 1
                    else:
                        skip.add(row.id)
            if len(rows) < BATCH:
                return changed

    @translated
    def claim(self, *, due_only: bool) -> str | None:
        """Take the task's lease (``due_only``: only if a day passed since the last run); the owner token, or
        None when another instance holds it or it is not due. One conditional UPDATE decides among instances
        (the task's row is written by the migration that made the table)."""
        now = self._clock()
        owner = str(uuid.uuid4())
        free = sa.or_(tasks.c.lease_until.is_(None), tasks.c.lease_until < now)
        due = (
            sa.or_(tasks.c.last_run_at.is_(None), tasks.c.last_run_at <= now - EVERY)
            if due_only
            else sa.true()
        )
        with self.engine.begin() as conn:
            taken = conn.execute(
                tasks.update()
                .where(tasks.c.name == TASK, free, due)
                .values(owner=owner, lease_until=now + LEASE)
            ).rowcount
        return owner if taken else None

    @translated
    def release(self, owner: str, result: PurgeResult | None) -> None:
        """Let go of the lease; record the run when it completed."""
        values: dict[str, object] = {"owner": None, "lease_until": None}
        if result is not None:
            values |= {"last_run_at": self._clock(), "last_changed": result.changed}
        with self.engine.begin() as conn:
            conn.execute(tasks.update().where(tasks.c.name == TASK, tasks.c.owner == owner).values(**values))

    def run(self, *, due_only: bool) -> PurgeResult | None:
        """Purge under the task's lease; None when another instance runs it (or, ``due_only``, it ran within
        the last day). Raises :class:`~bot.domain.errors.LedgerUnavailable` when the database fails."""
        owner = self.claim(due_only=due_only)
        if owner is None:
            return None
        result = None
        try:
            result = self.purge()
        finally:
            self.release(owner, result)
        return result

    @translated
    def last_run(self) -> datetime | None:
        """When the last complete run ended, if any."""
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(tasks.c.last_run_at).where(tasks.c.name == TASK)
            ).scalar_one_or_none()
        return _aware(value)


class RetentionLoop(PeriodicLoop):
    """Asks every ``interval`` seconds whether the daily run is due, and runs it if this instance gets it."""

    def __init__(self, retention: Retention, interval: float = CHECK_EVERY_SECONDS) -> None:
        super().__init__(
            "retention",
            lambda: retention.run(due_only=True),
            interval,
            "retention run failed; it is tried again later",
        )
