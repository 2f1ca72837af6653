"""The send ledger: one row per SMS request, written before OVH is called and settled after.

It is the audit's source of truth and the guard against sending twice: every request carries a key
(the slash command's trigger id, the modal's view id, ...) and a unique constraint on that key lets only
one delivery of a request through, across threads, processes and instances sharing one database.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.domain.limits import Usage, UsageGuard
from bot.domain.records import AuditStatus, DuplicateRequest, SendRecord, SendResult, SendStatus, StepStatus
from bot.i18n import ENGLISH, N_, Translatable, in_
from bot.i18n.stored import from_json, to_json
from bot.storage.db import begin_immediate, translated

log = logging.getLogger(__name__)
metadata = sa.MetaData()

sends = sa.Table(
    "sms_sends",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_key", sa.String(255), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("team_id", sa.String(32), nullable=True),
    sa.Column("user_id", sa.String(32), nullable=False),
    sa.Column("channel_id", sa.String(32), nullable=True),
    sa.Column("receivers", sa.JSON, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("sender", sa.String(64), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("ovh_service", sa.String(64), nullable=True),
    sa.Column("ovh_job_ids", sa.JSON, nullable=False),
    sa.Column("credits_used", sa.Float, nullable=True),
    sa.Column("credits_left", sa.Float, nullable=True),
    sa.Column("accepted_receivers", sa.JSON, nullable=False),
    sa.Column("rejected_receivers", sa.JSON, nullable=False),
    sa.Column("error_code", sa.String(32), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("audit_channel_id", sa.String(32), nullable=True),
    sa.Column("audit_ts", sa.String(32), nullable=True),
    sa.Column("audit_status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
    sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
    # Whoever works on a row (the live send, or recovery) holds it until then; an expired lease means the
    # worker died and recovery may take over.
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    # A token of whoever holds the lease: only its holder may send the row again or renew the lease.
    sa.Column("lease_owner", sa.String(36), nullable=True),
    sa.Column("receiver_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("estimated_credits", sa.Float, nullable=True),
    # Who the named receivers are: the Slack id (or contact) beside the number actually sent to.
    sa.Column("recipients", sa.JSON, nullable=True),
    # A follow-up: the send it follows up, and that send's audit thread, where this one's audit goes.
    sa.Column("follows", sa.Integer, nullable=True),
    sa.Column("thread_ts", sa.String(32), nullable=True),
    sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("allow_replies", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("cancelled_by", sa.String(32), nullable=True),
    sa.Column("cancel_note", sa.Text, nullable=True),
    # The requester's language, and the error and cancellation note as messages to tell in it.
    sa.Column("language", sa.String(16), nullable=True),
    sa.Column("error_text", sa.JSON, nullable=True),
    sa.Column("cancel_note_text", sa.JSON, nullable=True),
    # A send made by a Workflow Builder step (source "workflow"): "open" until the step is completed.
    sa.Column("step_status", sa.String(16), nullable=True),
    sa.UniqueConstraint("request_key", name="uq_sms_sends_request_key"),
    sa.Index("ix_sms_sends_status", "status"),
    sa.Index("ix_sms_sends_user_created", "user_id", "created_at"),
    sa.Index("ix_sms_sends_channel_created", "channel_id", "created_at"),
)


def _now() -> datetime:
    return datetime.now(UTC)


def _record(row: Any) -> SendRecord:
    values = dict(row._mapping)
    values["status"] = SendStatus(values["status"])
    values["audit_status"] = AuditStatus(values["audit_status"])
    values["recipients"] = values.get("recipients") or []
    for column in ("error_text", "cancel_note_text"):
        values[column] = from_json(values.get(column))
    values["step_status"] = StepStatus(values["step_status"]) if values.get("step_status") else None
    for column in ("created_at", "updated_at", "last_attempt_at", "lease_until", "send_at", "cancelled_at"):
        if values[column] is not None and values[column].tzinfo is None:  # SQLite keeps no zone; we write UTC
            values[column] = values[column].replace(tzinfo=UTC)
    return SendRecord(**values)


def _error(message: str | Translatable | None) -> dict[str, Any]:
    """The error columns of a message: in English (export, logs), and as itself (the audit tells it in the
    send's language)."""
    return {
        "error_message": None if message is None else in_(message, ENGLISH),
        "error_text": to_json(message),
    }


ALL_REJECTED = N_("OVH rejected every receiver.")
LIMIT_WINDOW = timedelta(hours=24)
# Recovery keeps trying to post an audit Slack did not take for this long, then leaves it in the ledger.
AUDIT_RETRY_WINDOW = timedelta(days=7)
# A cancellation begun this long ago with no outcome recorded was cut short (its process died, or the
# database failed before the outcome was written): recovery completes it. A live one takes seconds.
CANCEL_TAKEOVER = timedelta(minutes=10)
# Statuses that count towards limits: a failed send sent nothing; an unknown one may have.
_COUNTED = (SendStatus.PENDING.value, SendStatus.SENT.value, SendStatus.UNKNOWN.value)
_NEEDS_WORK = sa.or_(
    sends.c.status.in_([SendStatus.PENDING.value, SendStatus.UNKNOWN.value]),
    sends.c.audit_status.in_([AuditStatus.PENDING.value, AuditStatus.FAILED.value]),
    # A workflow step that still waits for its settled send's outcome (a crash, or Slack down, kept it open).
    sends.c.step_status == StepStatus.OPEN.value,
)


def _interrupted_cancel(now: datetime) -> sa.ColumnElement[bool]:
    """A scheduled send someone asked to cancel, whose cancellation never came to an outcome."""
    return sa.and_(
        sends.c.status == SendStatus.SENT.value,
        sends.c.cancelled_at < now - CANCEL_TAKEOVER,
        sends.c.cancel_note.is_(None),
    )


class Ledger:
    """Reads and writes the ``sms_sends`` table. Thread-safe: each call runs in its own transaction.

    Every public method raises :class:`~bot.domain.errors.LedgerUnavailable` when the database fails.
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _now) -> None:
        self.engine = engine
        self._clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        # On SQLite the reservation's transaction starts with BEGIN IMMEDIATE (it reads usage, then inserts),
        # which serialises it against other processes on the file; threads of this process also queue on a
        # lock rather than on SQLite's busy timeout. PostgreSQL uses advisory locks instead (see reserve).
        self._sqlite_lock = threading.Lock() if not self._postgres else None

    @translated
    def reserve(
        self,
        *,
        request_key: str,
        source: str,
        team_id: str | None,
        user_id: str,
        channel_id: str | None,
        receivers: list[str],
        message: str,
        sender: str | None,
        estimated_credits: float | None = None,
        lease_seconds: float = 300,
        guard: UsageGuard | None = None,
        recipients: list[dict[str, str]] | None = None,
        follows: SendRecord | None = None,
        send_at: datetime | None = None,
        allow_replies: bool = False,
        language: str | None = None,
        step: bool = False,
    ) -> SendRecord:
        """Write a pending row for a request, before anything is sent, and hold it for ``lease_seconds``.

        Raises :class:`DuplicateRequest` when a row with this key exists: the database's unique
        constraint decides, so two deliveries racing in two processes cannot both pass. ``guard`` sees the
        user's and the channel's usage over the last 24 hours in the same transaction, so limits hold
        across instances; whatever it raises refuses the send and nothing is written. ``step``: a Workflow
        Builder step waits for this send's outcome (its step is "open" until completed).
        """
        now = self._clock()
        values = {
            "request_key": request_key,
            "source": source,
            "created_at": now,
            "updated_at": now,
            "team_id": team_id,
            "user_id": user_id,
            "channel_id": channel_id,
            "receivers": receivers,
            "message": message,
            "sender": sender,
            "status": SendStatus.PENDING.value,
            "ovh_job_ids": [],
            "accepted_receivers": [],
            "rejected_receivers": [],
            "audit_status": AuditStatus.PENDING.value,
            "attempts": 1,
            "last_attempt_at": now,
            "lease_until": now + timedelta(seconds=lease_seconds),
            "lease_owner": str(uuid.uuid4()),
            "receiver_count": len(receivers),
            "estimated_credits": estimated_credits,
            "recipients": recipients or None,
            "follows": follows.id if follows else None,
            # The thread of the send followed (its own, or the one it followed in turn): one thread per story.
            "thread_ts": (follows.thread_ts or follows.audit_ts) if follows else None,
            "send_at": send_at,
            "allow_replies": allow_replies,
            "language": language,
            "step_status": StepStatus.OPEN.value if step else None,
        }
        try:
            with self._sqlite_lock or nullcontext(), begin_immediate(self.engine) as conn:
                if guard is not None:
                    self._lock_usage(conn, user_id, channel_id)
                    # A redelivery is a duplicate, whatever the usage says by now.
                    existing = conn.execute(
                        sends.select().where(sends.c.request_key == request_key)
                    ).one_or_none()
                    if existing is not None:
                        raise DuplicateRequest(_record(existing))
                    guard(*self._usages(conn, user_id, channel_id, now))
                row = conn.execute(sends.insert().values(**values).returning(*sends.c)).one()
        except IntegrityError:
            existing = self.find_by_key(request_key)
            if existing is None:  # the constraint fired for another reason: do not hide it
                raise
            raise DuplicateRequest(existing) from None
        return _record(row)

    def _lock_usage(self, conn: sa.Connection, user_id: str, channel_id: str | None) -> None:
        if not self._postgres:
            return
        # Transaction-scoped advisory locks, taken in a fixed order so two sends cannot deadlock.
        first, second = sorted([f"user:{user_id}", f"channel:{channel_id}"])
        conn.execute(
            sa.text(
                "SELECT pg_advisory_xact_lock(hashtext(:first)), pg_advisory_xact_lock(hashtext(:second))"
            ),
            {"first": first, "second": second},
        )

    @staticmethod
    def _usages(
        conn: sa.Connection, user_id: str, channel_id: str | None, now: datetime
    ) -> tuple[Usage, Usage]:
        """The user's and the channel's usage over the window, in one query."""
        credits = sa.func.coalesce(sends.c.credits_used, sends.c.estimated_credits, 0)
        mine = sends.c.user_id == user_id
        here = sends.c.channel_id == channel_id if channel_id else sa.false()

        def total(value: sa.ColumnElement[Any], who: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
            return sa.func.coalesce(sa.func.sum(sa.case((who, value), else_=0)), 0)

        row = conn.execute(
            sa.select(
                total(sends.c.receiver_count, mine),
                total(credits, mine),
                total(sends.c.receiver_count, here),
                total(credits, here),
            ).where(sa.or_(mine, here), sends.c.created_at > now - LIMIT_WINDOW, sends.c.status.in_(_COUNTED))
        ).one()
        return Usage(sms=int(row[0]), credits=float(row[1])), Usage(sms=int(row[2]), credits=float(row[3]))

    @translated
    def usage(self, user_id: str, channel_id: str | None = None) -> tuple[Usage, Usage]:
        """A user's and a channel's usage over the last 24 hours (the channel's is empty without one)."""
        with self.engine.connect() as conn:
            return self._usages(conn, user_id, channel_id, self._clock())

    def _update(
        self,
        send_id: int,
        values: dict[str, Any],
        *,
        only_from: tuple[SendStatus, ...] = (),
        conditions: tuple[sa.ColumnElement[bool], ...] = (),
    ) -> tuple[SendRecord, bool]:
        """Update a row (if its status is in ``only_from`` and ``conditions`` hold) and return it as it now
        is, with whether the update applied."""
        where = [sends.c.id == send_id, *conditions]
        if only_from:
            where.append(sends.c.status.in_([status.value for status in only_from]))
        with self.engine.begin() as conn:
            row = conn.execute(
                sends.update().where(*where).values(updated_at=self._clock(), **values).returning(*sends.c)
            ).one_or_none()
            if row is not None:
                return _record(row), True
            row = conn.execute(sends.select().where(sends.c.id == send_id)).one()
        return _record(row), False

    # A settled outcome is never overwritten: only a pending or unknown send can still change.
    _OPEN = (SendStatus.PENDING, SendStatus.UNKNOWN)

    @translated
    def record_result(self, send_id: int, result: SendResult) -> SendRecord:
        """Settle a send with OVH's answer: sent if any receiver was accepted, failed otherwise."""
        if result.maybe_sent:
            status = SendStatus.UNKNOWN
        else:
            status = SendStatus.SENT if result.job_ids else SendStatus.FAILED
        values: dict[str, Any] = {
            "status": status.value,
            "ovh_service": result.service,
            "ovh_job_ids": result.job_ids,
            "accepted_receivers": result.accepted,
            "rejected_receivers": result.rejected,
            "credits_used": result.credits_used,
            "credits_left": result.credits_left,
            "error_code": None,
            **_error(None),
        }
        if status is SendStatus.FAILED:
            values |= {"error_code": "all_rejected", **_error(ALL_REJECTED)}
        elif result.partial_error:
            values |= {"error_code": result.partial_error[0], **_error(result.partial_error[1])}
        record, applied = self._update(send_id, values, only_from=self._OPEN)
        if not applied:
            log.error(
                "send #%d was already %s: OVH's later answer (jobs %s) is not recorded over it",
                send_id,
                record.status,
                result.job_ids,
            )
        return record

    @translated
    def record_failure(
        self, send_id: int, code: str, message: str | Translatable, *, maybe_sent: bool
    ) -> SendRecord:
        """Settle a send that OVH refused (failed), or mark one whose answer was lost (unknown).
        ``message`` is kept in English and as itself, to be told in the send's language."""
        status = SendStatus.UNKNOWN if maybe_sent else SendStatus.FAILED
        return self._update(
            send_id,
            {"status": status.value, "error_code": code, **_error(message)},
            only_from=self._OPEN,
        )[0]

    @translated
    def give_up(self, record: SendRecord, code: str, message: str | Translatable) -> SendRecord | None:
        """Settle as failed (not sent) an open send whose lease ``record`` holds (recovery, once OVH showed
        no trace of it and it may not be sent again). None if the lease was taken over meanwhile: the new
        holder may be posting it, and its answer must not be refused over a "not sent"."""
        failed, applied = self._update(
            record.id,
            {"status": SendStatus.FAILED.value, "error_code": code, **_error(message)},
            only_from=self._OPEN,
            conditions=(sends.c.lease_owner == record.lease_owner,),
        )
        return failed if applied else None

    @translated
    def begin_attempt(self, record: SendRecord, lease_seconds: float) -> SendRecord | None:
        """Take a new attempt at an open send whose lease ``record`` holds (recovery, once OVH showed no
        trace of it). None if the lease was lost or the send settled meanwhile: then nothing may be sent."""
        now = self._clock()
        attempt, applied = self._update(
            record.id,
            {
                "status": SendStatus.PENDING.value,
                "attempts": sends.c.attempts + 1,
                "last_attempt_at": now,
                "lease_until": now + timedelta(seconds=lease_seconds),
            },
            only_from=self._OPEN,
            conditions=(sends.c.lease_owner == record.lease_owner, sends.c.lease_until > now),
        )
        return attempt if applied else None

    @translated
    def renew_lease(self, record: SendRecord, lease_seconds: float) -> bool:
        """Extend the lease ``record`` holds on a pending send, just before a call to OVH. False if the
        lease was lost (it ran out and recovery took the row): the holder must not call OVH then."""
        now = self._clock()
        return self._update(
            record.id,
            {"lease_until": now + timedelta(seconds=lease_seconds)},
            only_from=(SendStatus.PENDING,),
            conditions=(sends.c.lease_owner == record.lease_owner, sends.c.lease_until > now),
        )[1]

    @translated
    def record_step(self, send_id: int, status: StepStatus) -> SendRecord:
        """What became of the open Workflow Builder step of a send (completed, or refused by Slack for good).
        A step no longer open is left as it is: the first outcome recorded stands."""
        return self._update(
            send_id, {"step_status": status.value}, conditions=(sends.c.step_status == StepStatus.OPEN.value,)
        )[0]

    @translated
    def record_audit(
        self,
        send_id: int,
        status: AuditStatus,
        channel_id: str | None = None,
        ts: str | None = None,
        *,
        owner: str | None,
        release_after: float | None = None,
    ) -> SendRecord:
        """Remember where the audit trail of a send was posted in Slack (a known thread is kept).

        With ``release_after``, the row is let go of in the same statement if ``owner`` (the token of the
        lease the caller took) still holds it (see :meth:`release`).
        """
        values: dict[str, Any] = {"audit_status": status.value}
        if ts is not None:
            values |= {"audit_channel_id": channel_id, "audit_ts": ts}
        if release_after is not None:
            values["lease_until"] = self._released_lease(owner, release_after)
        record = self._update(send_id, values)[0]
        if release_after is not None and record.lease_owner != owner:
            log.warning("send #%d: another worker holds it now; its lease is left to that worker", send_id)
        return record

    def _released_lease(self, owner: str | None, after_seconds: float) -> sa.ColumnElement[Any]:
        """The new ``lease_until`` of a row let go of by ``owner``: unchanged unless ``owner`` holds it.

        A worker whose lease ran out while it worked (a slow OVH, a long pause) has lost the row to another
        (recovery claimed it): ending its lease would let a third worker take the row from under that one.
        """
        end = self._lease_end(after_seconds)
        return sa.case(
            (
                sends.c.lease_owner == owner,
                sa.null() if end is None else sa.literal(end, sends.c.lease_until.type),
            ),
            else_=sends.c.lease_until,
        )

    def _lease_end(self, after_seconds: float) -> datetime | None:
        return self._clock() + timedelta(seconds=after_seconds) if after_seconds else None

    @translated
    def release(self, send_id: int, *, owner: str | None, after_seconds: float = 0) -> None:
        """Let go of a row that ``owner`` (the token of the caller's lease) holds; recovery may look at it
        again after ``after_seconds`` if it still needs work. A row another worker took meanwhile is left
        to it."""
        with self.engine.begin() as conn:
            conn.execute(
                sends.update()
                .where(sends.c.id == send_id, sends.c.lease_owner == owner)
                .values(lease_until=self._lease_end(after_seconds))
            )

    @translated
    def claim_next(self, *, lease_seconds: float, skip: frozenset[int] = frozenset()) -> SendRecord | None:
        """Take one row that needs recovery and whose lease ran out, under a new lease and owner token.

        Unsettled sends come first, then audits to post (a week back at most) and cancellations cut short
        (see ``CANCEL_TAKEOVER``). The row is taken with a
        conditional update, so among several instances only one gets it; one row at a time, so that no
        lease runs out while its row waits its turn. Rows in ``skip`` (done earlier in the pass) are left.
        """
        now = self._clock()
        free = sa.or_(sends.c.lease_until.is_(None), sends.c.lease_until < now)
        open_send = sends.c.status.in_([SendStatus.PENDING.value, SendStatus.UNKNOWN.value])
        cut_short = _interrupted_cancel(now)
        wanted = sa.and_(
            sa.or_(_NEEDS_WORK, cut_short),
            free,
            sa.or_(open_send, cut_short, sends.c.created_at > now - AUDIT_RETRY_WINDOW),
            sends.c.id.not_in(skip) if skip else sa.true(),
        )
        with self.engine.connect() as conn:
            candidates = list(
                conn.execute(
                    sa.select(sends.c.id)
                    .where(wanted)
                    .order_by(sa.case((open_send, 0), else_=1), sends.c.lease_until.nulls_first(), sends.c.id)
                    .limit(10)
                ).scalars()
            )
        for send_id in candidates:
            with self.engine.begin() as conn:
                row = conn.execute(
                    sends.update()
                    .where(sends.c.id == send_id, wanted)
                    .values(lease_until=now + timedelta(seconds=lease_seconds), lease_owner=str(uuid.uuid4()))
                    .returning(*sends.c)
                ).one_or_none()
            if row is not None:
                return _record(row)
        return None

    @translated
    def get(self, send_id: int) -> SendRecord | None:
        """The row with this id, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(sends.select().where(sends.c.id == send_id)).one_or_none()
        return _record(row) if row else None

    @translated
    def find_by_key(self, request_key: str) -> SendRecord | None:
        """The row of this request, if it was received."""
        with self.engine.connect() as conn:
            row = conn.execute(sends.select().where(sends.c.request_key == request_key)).one_or_none()
        return _record(row) if row else None

    @translated
    def begin_cancel(self, send_id: int, user_id: str) -> tuple[SendRecord | None, bool]:
        """Mark a scheduled send as being cancelled by ``user_id``, if it was sent to OVH, is still to go and
        nobody asked before: the row (None if there is none) and whether this call is the one that did."""
        now = self._clock()
        with self.engine.begin() as conn:
            row = conn.execute(
                sends.update()
                .where(
                    sends.c.id == send_id,
                    sends.c.status == SendStatus.SENT.value,
                    sends.c.send_at > now,
                    sends.c.cancelled_at.is_(None),
                )
                .values(cancelled_at=now, cancelled_by=user_id, updated_at=now)
                .returning(*sends.c)
            ).one_or_none()
            if row is not None:
                return _record(row), True
            row = conn.execute(sends.select().where(sends.c.id == send_id)).one_or_none()
        return (_record(row) if row else None), False

    @translated
    def record_cancellation(
        self, send_id: int, *, cancelled: bool, note: str | Translatable | None
    ) -> SendRecord:
        """What a cancellation came to: every job taken back (the send is cancelled), or ``note`` saying
        what went out anyway (kept in English and as itself, to be told in the send's language)."""
        values: dict[str, Any] = {
            "cancel_note": None if note is None else in_(note, ENGLISH),
            "cancel_note_text": to_json(note),
        }
        if cancelled:
            values["status"] = SendStatus.CANCELLED.value
        return self._update(send_id, values, only_from=(SendStatus.SENT,))[0]

    @translated
    def undo_cancel(self, send_id: int) -> SendRecord:
        """Forget a cancellation OVH could not carry out (nothing was taken back), so it can be asked again."""
        values = {"cancelled_at": None, "cancelled_by": None}
        return self._update(send_id, values, only_from=(SendStatus.SENT,))[0]
