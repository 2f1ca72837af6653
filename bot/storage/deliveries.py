"""What the bot follows after a send: one row per SMS (its delivery state), one per send (its status
message in the thread), one per reply OVH received, and a few shared counters (OVH's read budget, where
reading replies starts, the credit alert).

Every row that work is done on is taken under a lease (an owner token and an end time) by a conditional
update, so among instances sharing one database only one works on it at a time; a lease that runs out
(its process died) lets another take over, and a restart resumes what was pending.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.domain.deliveries import DeliveryState
from bot.domain.records import AuditStatus, SendStatus
from bot.storage.db import begin_immediate, translated
from bot.storage.ledger import metadata, sends

deliveries = sa.Table(
    "sms_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("send_id", sa.Integer, nullable=False),
    sa.Column("service", sa.String(64), nullable=False),
    sa.Column("sms_id", sa.BigInteger, nullable=False),
    sa.Column("receiver", sa.String(32), nullable=True),  # None until OVH says which SMS went where
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
    sa.Column("misses", sa.Integer, nullable=False, server_default="0"),  # answers of 404 in a row
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("lease_owner", sa.String(36), nullable=True),
    sa.UniqueConstraint("service", "sms_id", name="uq_sms_deliveries_sms"),
    sa.Index("ix_sms_deliveries_due", "state", "next_check_at"),
    sa.Index("ix_sms_deliveries_receiver", "receiver", "created_at"),
    sa.Index("ix_sms_deliveries_send", "send_id"),
)

reports = sa.Table(
    "sms_delivery_reports",
    metadata,
    sa.Column("send_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Bumped by every change of one of its SMS; the status message shows `shown_version`.
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("shown_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status_ts", sa.String(32), nullable=True),
    # A post of the status message was started: its answer may have been lost, so look before posting again.
    sa.Column("posting", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("closed", sa.String(32), nullable=True),  # why the status message is no longer kept up to date
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("lease_owner", sa.String(36), nullable=True),
)

replies = sa.Table(
    "sms_replies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("service", sa.String(64), nullable=False),
    sa.Column("incoming_id", sa.BigInteger, nullable=False),
    sa.Column("sender", sa.String(64), nullable=False),  # as OVH wrote it
    sa.Column("e164", sa.String(32), nullable=True),  # the sender as a number, when it is one
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("send_id", sa.Integer, nullable=True),  # the latest send to that number, when there is one
    sa.Column("is_stop", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("state", sa.String(16), nullable=False),  # pending, posted, logged
    sa.Column("channel_id", sa.String(32), nullable=True),
    sa.Column("thread_ts", sa.String(32), nullable=True),
    sa.Column("posted_ts", sa.String(32), nullable=True),
    sa.Column("posting", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("lease_owner", sa.String(36), nullable=True),
    sa.UniqueConstraint("service", "incoming_id", name="uq_sms_replies_incoming"),
    sa.Index("ix_sms_replies_state", "state", "next_try_at"),
)

counters = sa.Table(
    "sms_counters",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=True),
)

# Counter names.
READS = "ovh_reads"  # reads of OVH in the current minute (value) since `since`
INCOMING_SINCE = "incoming_since"  # replies are read from `since` on
CREDIT_ALERT = "credit_alert"  # 0 armed, 1 below the threshold and to post, 2 posted; `since` the claim

# Replies in these states need nothing more.
REPLY_PENDING = "pending"
REPLY_POSTED = "posted"
REPLY_LOGGED = "logged"


def _utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite keeps no zone; we write UTC
        return moment.replace(tzinfo=UTC)
    return moment


def _values(row: Any) -> dict[str, Any]:
    return {key: _utc(value) if isinstance(value, datetime) else value for key, value in row._mapping.items()}


@dataclass(frozen=True)
class DeliveryRow:
    """One SMS of a send, as followed."""

    id: int
    send_id: int
    service: str
    sms_id: int
    receiver: str | None
    state: DeliveryState
    receipt: int | None
    ptt: int | None
    reason: str | None
    took_seconds: float | None
    buffered: bool
    created_at: datetime
    updated_at: datetime
    next_check_at: datetime
    checks: int
    misses: int
    lease_until: datetime | None
    lease_owner: str | None

    @classmethod
    def of(cls, row: Any) -> DeliveryRow:
        values = _values(row)
        values["state"] = DeliveryState(values["state"])
        return cls(**values)


@dataclass(frozen=True)
class ReportRow:
    """A send's status message, with where its thread is."""

    send_id: int
    version: int
    shown_version: int
    status_ts: str | None
    posting: bool
    lease_owner: str | None
    channel_id: str | None
    thread_ts: str | None  # the thread the status message goes in
    parent_ts: str | None  # the send's own parent (a reply in the thread, for a follow-up)


@dataclass(frozen=True)
class ReplyRow:
    """One reply OVH received."""

    id: int
    service: str
    incoming_id: int
    sender: str
    e164: str | None
    message: str
    received_at: datetime | None
    created_at: datetime
    send_id: int | None
    is_stop: bool
    state: str
    channel_id: str | None
    thread_ts: str | None
    posted_ts: str | None
    posting: bool
    attempts: int
    next_try_at: datetime
    lease_until: datetime | None
    lease_owner: str | None

    @classmethod
    def of(cls, row: Any) -> ReplyRow:
        return cls(**_values(row))


@dataclass(frozen=True)
class Thread:
    """Where a send's audit thread is."""

    send_id: int
    channel_id: str
    thread_ts: str
    user_id: str


def _free(table: sa.Table, now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(table.c.lease_until.is_(None), table.c.lease_until < now)


class DeliveryStore:
    """The tables above. Thread-safe; every public method raises
    :class:`~bot.domain.errors.LedgerUnavailable` when the database fails."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- following SMS ----------------------------------------------------------------------------

    @translated
    def enroll(self, now: datetime, validity: timedelta, limit: int = 100) -> list[int]:
        """Start following the SMS of sends OVH took within ``validity`` and not followed yet; return their
        send ids. Two instances enrolling one send together: the report's key lets one through."""
        followed = sa.select(reports.c.send_id)
        query = (
            sa.select(sends.c.id, sends.c.ovh_service, sends.c.ovh_job_ids, sends.c.accepted_receivers)
            .where(
                sends.c.status == SendStatus.SENT.value,
                sends.c.created_at > now - validity,
                sends.c.id.not_in(followed),
            )
            .order_by(sends.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            candidates = list(conn.execute(query))
        enrolled = []
        for send_id, service, job_ids, accepted in candidates:
            ids = [int(sms_id) for sms_id in job_ids or []]
            # OVH answers ids in the order of the valid receivers; where the counts differ, the first read
            # of each SMS says where it went.
            receivers: list[str | None] = (
                list(accepted) if len(accepted or []) == len(ids) else [None] * len(ids)
            )
            try:
                with self.engine.begin() as conn:
                    conn.execute(reports.insert().values(send_id=send_id, created_at=now))
                    if ids:
                        conn.execute(
                            deliveries.insert(),
                            [
                                {
                                    "send_id": send_id,
                                    "service": service or "",
                                    "sms_id": sms_id,
                                    "receiver": receiver,
                                    "state": DeliveryState.PENDING.value,
                                    "created_at": now,
                                    "updated_at": now,
                                    "next_check_at": now,
                                }
                                for sms_id, receiver in zip(ids, receivers, strict=True)
                            ],
                        )
            except IntegrityError:
                continue  # another instance enrolled it meanwhile
            enrolled.append(send_id)
        return enrolled

    @translated
    def expire(self, now: datetime, validity: timedelta) -> int:
        """Stop following SMS still pending after ``validity``; their status message says so."""
        with self.engine.begin() as conn:
            rows = list(
                conn.execute(
                    deliveries.update()
                    .where(
                        deliveries.c.state == DeliveryState.PENDING.value,
                        deliveries.c.created_at < now - validity,
                        _free(deliveries, now),
                    )
                    .values(state=DeliveryState.EXPIRED.value, updated_at=now)
                    .returning(deliveries.c.send_id)
                ).scalars()
            )
            self._bump(conn, set(rows))
        return len(rows)

    @staticmethod
    def _bump(conn: sa.Connection, send_ids: set[int]) -> None:
        if send_ids:
            conn.execute(
                reports.update()
                .where(reports.c.send_id.in_(sorted(send_ids)))
                .values(version=reports.c.version + 1)
            )

    @translated
    def take_reads(self, now: datetime, wanted: int, per_minute: int) -> int:
        """Take up to ``wanted`` reads of OVH from the budget all instances share (``per_minute`` in each
        minute); return how many may be made."""
        if wanted <= 0:
            return 0
        with begin_immediate(self.engine) as conn:
            row = conn.execute(
                sa.select(counters.c.value, counters.c.since)
                .where(counters.c.name == READS)
                .with_for_update()
            ).one_or_none()
            if row is None:
                used, since = 0.0, now
                conn.execute(counters.insert().values(name=READS, value=0, since=now))
            else:
                used, since = row.value, _utc(row.since) or now
            if now - since >= timedelta(minutes=1) or since > now:
                used, since = 0.0, now
            granted = max(0, min(wanted, per_minute - int(used)))
            conn.execute(
                counters.update().where(counters.c.name == READS).values(value=used + granted, since=since)
            )
        return granted

    @translated
    def give_back_reads(self, count: int) -> None:
        """Return reads taken but not made (a pass that stopped early)."""
        if count > 0:
            with self.engine.begin() as conn:
                conn.execute(
                    counters.update()
                    .where(counters.c.name == READS)
                    .values(value=sa.case((counters.c.value > count, counters.c.value - count), else_=0))
                )

    @translated
    def hint(self, service: str | None, sms_id: int, now: datetime) -> bool:
        """OVH said this SMS changed: read it at the next pass (True if it is one being followed). Any
        number of hints for one SMS make one read."""
        where = [deliveries.c.sms_id == sms_id, deliveries.c.state == DeliveryState.PENDING.value]
        if service:
            where.append(deliveries.c.service == service)
        with self.engine.begin() as conn:
            changed = conn.execute(
                deliveries.update().where(*where, deliveries.c.next_check_at > now).values(next_check_at=now)
            ).rowcount
            if changed:
                return True
            return conn.execute(sa.select(deliveries.c.id).where(*where)).first() is not None

    @translated
    def claim_due(self, now: datetime, limit: int, lease_seconds: float) -> list[DeliveryRow]:
        """Take up to ``limit`` pending SMS due for a read, longest waiting first, under a new lease."""
        if limit <= 0:
            return []
        due = sa.and_(
            deliveries.c.state == DeliveryState.PENDING.value,
            deliveries.c.next_check_at <= now,
            _free(deliveries, now),
        )
        with self.engine.connect() as conn:
            ids = list(
                conn.execute(
                    sa.select(deliveries.c.id).where(due).order_by(deliveries.c.next_check_at).limit(limit)
                ).scalars()
            )
        if not ids:
            return []
        owner = str(uuid.uuid4())
        with self.engine.begin() as conn:
            rows = conn.execute(
                deliveries.update()
                .where(deliveries.c.id.in_(ids), due)
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
                .returning(*deliveries.c)
            )
            claimed = [DeliveryRow.of(row) for row in rows]
        return sorted(claimed, key=lambda row: row.next_check_at)

    @translated
    def record_reading(
        self, row: DeliveryRow, now: datetime, values: dict[str, Any], *, next_check_at: datetime
    ) -> bool:
        """Write what OVH said of an SMS whose lease ``row`` holds, and let go of it; a change of what its
        status message shows bumps the send's version (once: the lease holder alone writes). False if the
        lease was lost meanwhile (nothing written)."""
        shown = ("state", "receiver", "reason", "took_seconds", "buffered")
        changed = any(key in values and values[key] != getattr(row, key) for key in shown)
        with self.engine.begin() as conn:
            applied = conn.execute(
                deliveries.update()
                .where(deliveries.c.id == row.id, deliveries.c.lease_owner == row.lease_owner)
                .values(
                    **values,
                    updated_at=now,
                    checks=deliveries.c.checks + 1,
                    next_check_at=next_check_at,
                    lease_until=None,
                )
            ).rowcount
            if applied and changed:
                self._bump(conn, {row.send_id})
        return bool(applied)

    @translated
    def release(self, rows: list[DeliveryRow], next_check_at: datetime) -> None:
        """Let go of SMS not read after all (the budget or OVH's rate limit ran out); read them then."""
        with self.engine.begin() as conn:
            for row in rows:
                conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id == row.id, deliveries.c.lease_owner == row.lease_owner)
                    .values(lease_until=None, next_check_at=next_check_at)
                )

    @translated
    def statuses(self, send_id: int) -> list[DeliveryRow]:
        """Every SMS of a send, in the order OVH answered them."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                deliveries.select().where(deliveries.c.send_id == send_id).order_by(deliveries.c.id)
            )
            return [DeliveryRow.of(row) for row in rows]

    @translated
    def pending_count(self) -> int:
        """How many SMS are being followed."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(deliveries)
                    .where(deliveries.c.state == DeliveryState.PENDING.value)
                ).scalar_one()
            )

    # --- status messages --------------------------------------------------------------------------

    @translated
    def claim_reports(self, now: datetime, limit: int, lease_seconds: float) -> list[ReportRow]:
        """Take up to ``limit`` status messages that lag behind their SMS and whose audit thread is posted."""
        wanted = sa.and_(
            reports.c.version > reports.c.shown_version,
            reports.c.closed.is_(None),
            _free(reports, now),
        )
        with self.engine.connect() as conn:
            ids = list(
                conn.execute(
                    sa.select(reports.c.send_id)
                    .join(sends, sends.c.id == reports.c.send_id)
                    .where(
                        wanted,
                        sends.c.audit_status == AuditStatus.THREAD.value,
                        sends.c.audit_ts.is_not(None),
                    )
                    .order_by(reports.c.send_id)
                    .limit(limit)
                ).scalars()
            )
        claimed = []
        for send_id in ids:
            owner = str(uuid.uuid4())
            with self.engine.begin() as conn:
                row = conn.execute(
                    reports.update()
                    .where(reports.c.send_id == send_id, wanted)
                    .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
                    .returning(*reports.c)
                ).one_or_none()
                if row is None:
                    continue
                thread = conn.execute(
                    sa.select(
                        sends.c.audit_channel_id, sends.c.channel_id, sends.c.audit_ts, sends.c.thread_ts
                    ).where(sends.c.id == send_id)
                ).one()
            claimed.append(
                ReportRow(
                    send_id=send_id,
                    version=row.version,
                    shown_version=row.shown_version,
                    status_ts=row.status_ts,
                    posting=row.posting,
                    lease_owner=owner,
                    channel_id=thread.audit_channel_id or thread.channel_id,
                    thread_ts=thread.thread_ts or thread.audit_ts,
                    parent_ts=thread.audit_ts,
                )
            )
        return claimed

    def _report_update(self, report: ReportRow, values: dict[str, Any]) -> bool:
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    reports.update()
                    .where(reports.c.send_id == report.send_id, reports.c.lease_owner == report.lease_owner)
                    .values(**values)
                ).rowcount
            )

    @translated
    def report_posting(self, report: ReportRow) -> bool:
        """Mark that the status message is being posted (before calling Slack); False if the lease was lost."""
        return self._report_update(report, {"posting": True})

    @translated
    def report_shown(self, report: ReportRow, version: int, status_ts: str | None) -> None:
        """The status message shows ``version``; let go of it."""
        values: dict[str, Any] = {"shown_version": version, "lease_until": None, "posting": False}
        if status_ts:
            values["status_ts"] = status_ts
        self._report_update(report, values)

    @translated
    def report_closed(self, report: ReportRow, why: str) -> None:
        """Stop keeping this status message up to date (Slack will not take it any more)."""
        self._report_update(report, {"closed": why[:32], "lease_until": None})

    @translated
    def report_retry(self, report: ReportRow, now: datetime, after_seconds: float) -> None:
        """Slack failed: look at this status message again after ``after_seconds``."""
        self._report_update(report, {"lease_until": now + timedelta(seconds=after_seconds)})

    # --- replies ----------------------------------------------------------------------------------

    @translated
    def known_incoming(self, service: str, ids: list[int]) -> set[int]:
        """Which of these incoming SMS ids were read already."""
        if not ids:
            return set()
        known: set[int] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                known.update(
                    conn.execute(
                        sa.select(replies.c.incoming_id).where(
                            replies.c.service == service, replies.c.incoming_id.in_(chunk)
                        )
                    ).scalars()
                )
        return known

    @translated
    def latest_thread(self, e164: str) -> Thread | None:
        """The audit thread of the latest send that reached this number, if any."""
        query = (
            sa.select(
                sends.c.id,
                sends.c.audit_channel_id,
                sends.c.channel_id,
                sends.c.audit_ts,
                sends.c.thread_ts,
                sends.c.user_id,
            )
            .join(deliveries, deliveries.c.send_id == sends.c.id)
            .where(
                deliveries.c.receiver == e164,
                sends.c.audit_status == AuditStatus.THREAD.value,
                sends.c.audit_ts.is_not(None),
            )
            .order_by(deliveries.c.created_at.desc(), sends.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            return None
        # A follow-up's audit is in the thread of the send it follows: the reply goes there too.
        return Thread(
            row.id, row.audit_channel_id or row.channel_id, row.thread_ts or row.audit_ts, row.user_id
        )

    @translated
    def add_reply(self, values: dict[str, Any], now: datetime) -> int | None:
        """Keep a reply read from OVH; None if another instance kept it first."""
        try:
            with self.engine.begin() as conn:
                return int(
                    conn.execute(
                        replies.insert()
                        .values(**values, state=REPLY_PENDING, created_at=now, next_try_at=now)
                        .returning(replies.c.id)
                    ).scalar_one()
                )
        except IntegrityError:
            return None

    @translated
    def claim_replies(self, now: datetime, limit: int, lease_seconds: float) -> list[ReplyRow]:
        """Take up to ``limit`` replies to post, oldest first, under a new lease each."""
        wanted = sa.and_(replies.c.state == REPLY_PENDING, replies.c.next_try_at <= now, _free(replies, now))
        with self.engine.connect() as conn:
            ids = list(
                conn.execute(
                    sa.select(replies.c.id).where(wanted).order_by(replies.c.id).limit(limit)
                ).scalars()
            )
        claimed = []
        for reply_id in ids:
            with self.engine.begin() as conn:
                row = conn.execute(
                    replies.update()
                    .where(replies.c.id == reply_id, wanted)
                    .values(lease_owner=str(uuid.uuid4()), lease_until=now + timedelta(seconds=lease_seconds))
                    .returning(*replies.c)
                ).one_or_none()
            if row is not None:
                claimed.append(ReplyRow.of(row))
        return claimed

    def _reply_update(self, reply: ReplyRow, values: dict[str, Any]) -> bool:
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    replies.update()
                    .where(replies.c.id == reply.id, replies.c.lease_owner == reply.lease_owner)
                    .values(**values)
                ).rowcount
            )

    @translated
    def reply_posting(self, reply: ReplyRow, where: dict[str, Any]) -> bool:
        """Mark that a reply is being posted (``where``: its channel, thread and send); False if the lease
        was lost."""
        return self._reply_update(reply, {"posting": True, **where})

    @translated
    def reply_done(self, reply: ReplyRow, state: str, posted_ts: str | None = None) -> None:
        """A reply was posted (or logged): nothing more to do for it."""
        self._reply_update(reply, {"state": state, "posted_ts": posted_ts, "lease_until": None})

    @translated
    def reply_retry(self, reply: ReplyRow, now: datetime, after_seconds: float) -> None:
        """Slack failed: try this reply again after ``after_seconds``."""
        self._reply_update(
            reply,
            {
                "attempts": replies.c.attempts + 1,
                "next_try_at": now + timedelta(seconds=after_seconds),
                "lease_until": None,
            },
        )

    @translated
    def get_reply(self, reply_id: int) -> ReplyRow | None:
        """A reply by its id."""
        with self.engine.connect() as conn:
            row = conn.execute(replies.select().where(replies.c.id == reply_id)).one_or_none()
        return ReplyRow.of(row) if row is not None else None

    # --- counters ---------------------------------------------------------------------------------

    @translated
    def incoming_since(self, now: datetime, first: timedelta) -> datetime:
        """From when replies are read: as stored, or ``first`` before now the first time."""
        # Reads, then may write: on SQLite the write lock is taken from the first statement.
        with begin_immediate(self.engine) as conn:
            since = conn.execute(
                sa.select(counters.c.since).where(counters.c.name == INCOMING_SINCE)
            ).scalar_one_or_none()
            if since is not None:
                return _utc(since) or now
            try:
                with conn.begin_nested():
                    conn.execute(counters.insert().values(name=INCOMING_SINCE, value=0, since=now - first))
            except IntegrityError:
                pass
            return (
                _utc(
                    conn.execute(
                        sa.select(counters.c.since).where(counters.c.name == INCOMING_SINCE)
                    ).scalar_one()
                )
                or now
            )

    @translated
    def move_incoming_since(self, since: datetime) -> None:
        """Read replies from ``since`` on (only ever forward)."""
        with self.engine.begin() as conn:
            conn.execute(
                counters.update()
                .where(counters.c.name == INCOMING_SINCE, counters.c.since < since)
                .values(since=since)
            )

    @translated
    def latest_credits(self) -> tuple[float, str | None] | None:
        """The credits left as OVH said after the latest send that told it, with its service."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(sends.c.credits_left, sends.c.ovh_service)
                .where(sends.c.credits_left.is_not(None))
                .order_by(sends.c.id.desc())
                .limit(1)
            ).one_or_none()
        return (float(row.credits_left), row.ovh_service) if row is not None else None

    @translated
    def credit_alert_due(self, now: datetime, below: bool, lease_seconds: float) -> bool:
        """Say whether this instance must post the credit alert now: the credits just crossed below the
        threshold (or an earlier post failed and its claim ran out). Credits back above re-arm it."""
        with begin_immediate(self.engine) as conn:
            row = conn.execute(
                sa.select(counters.c.value, counters.c.since)
                .where(counters.c.name == CREDIT_ALERT)
                .with_for_update()
            ).one_or_none()
            if row is None:
                conn.execute(counters.insert().values(name=CREDIT_ALERT, value=0, since=None))
                value, since = 0.0, None
            else:
                value, since = row.value, _utc(row.since)
            if not below:
                if value != 0:
                    conn.execute(
                        counters.update().where(counters.c.name == CREDIT_ALERT).values(value=0, since=None)
                    )
                return False
            claimable = value == 0 or (value == 1 and (since is None or since < now))
            if claimable:
                conn.execute(
                    counters.update()
                    .where(counters.c.name == CREDIT_ALERT)
                    .values(value=1, since=now + timedelta(seconds=lease_seconds))
                )
            return claimable

    @translated
    def credit_alert_posted(self, posted: bool) -> None:
        """The alert went out (or failed: another pass tries again once the claim runs out)."""
        if posted:
            with self.engine.begin() as conn:
                conn.execute(
                    counters.update()
                    .where(counters.c.name == CREDIT_ALERT, counters.c.value == 1)
                    .values(value=2)
                )
