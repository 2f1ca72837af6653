"""The send ledger: one row per SMS request, written before OVH is called and settled after.

It is the audit's source of truth and the guard against sending twice: every request carries a key
(the slash command's trigger id, the modal's view id, ...) and a unique constraint on that key lets only
one delivery of a request through, across threads, processes and instances sharing one database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.errors import SmsBotError

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
    sa.UniqueConstraint("request_key", name="uq_sms_sends_request_key"),
    sa.Index("ix_sms_sends_status", "status"),
)


class SendStatus(StrEnum):
    """Where a send stands. Only ``pending`` rows can move on; the others are settled."""

    PENDING = "pending"  # written, OVH not (yet) answered
    SENT = "sent"  # OVH accepted the job for at least one receiver
    FAILED = "failed"  # OVH sent nothing: refused, or every receiver rejected
    UNKNOWN = "unknown"  # OVH's answer was lost (timeout, dropped connection): it may have been sent


class AuditStatus(StrEnum):
    """Where the audit trail of a send was written in Slack."""

    PENDING = "pending"  # not posted yet
    THREAD = "thread"  # parent message and thread in the channel
    PRIVATE = "private"  # the bot could not post in the channel: the person got it privately
    FAILED = "failed"  # Slack could not be reached at all


@dataclass(frozen=True)
class SendRecord:
    """One row of the ledger, as the rest of the code sees it."""

    id: int
    request_key: str
    source: str
    created_at: datetime
    updated_at: datetime
    team_id: str | None
    user_id: str
    channel_id: str | None
    receivers: list[str]
    message: str
    sender: str | None
    status: SendStatus
    ovh_service: str | None
    ovh_job_ids: list[int]
    credits_used: float | None
    credits_left: float | None
    accepted_receivers: list[str]
    rejected_receivers: list[str]
    error_code: str | None
    error_message: str | None
    audit_channel_id: str | None
    audit_ts: str | None
    audit_status: AuditStatus

    @property
    def tag(self) -> str:
        """The tag sent to OVH with the job, to find it again (OVH's old API capped tags at 20 chars)."""
        return f"smsbot-{self.id}"


@dataclass(frozen=True)
class SendResult:
    """What OVH answered for a send (all jobs of it together)."""

    service: str
    job_ids: list[int]
    accepted: list[str]
    rejected: list[str]
    credits_used: float
    credits_left: float | None


class DuplicateRequest(SmsBotError):
    """This request was already taken: a redelivery or a double submit. Nothing must be sent again."""

    def __init__(self, existing: SendRecord) -> None:
        super().__init__(
            f"This request was already received (send #{existing.id}, {existing.status}); "
            "it was not sent again."
        )
        self.existing = existing


def _now() -> datetime:
    return datetime.now(UTC)


def _record(row: Any) -> SendRecord:
    values = dict(row._mapping)
    values["status"] = SendStatus(values["status"])
    values["audit_status"] = AuditStatus(values["audit_status"])
    for column in ("created_at", "updated_at"):
        if values[column].tzinfo is None:  # SQLite keeps no zone; we always write UTC
            values[column] = values[column].replace(tzinfo=UTC)
    return SendRecord(**values)


class Ledger:
    """Reads and writes the ``sms_sends`` table. Thread-safe: each call runs in its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
    ) -> SendRecord:
        """Write a pending row for a request, before anything is sent.

        Raises :class:`DuplicateRequest` when a row with this key exists: the database's unique
        constraint decides, so two deliveries racing in two processes cannot both pass.
        """
        now = _now()
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
        }
        try:
            with self.engine.begin() as conn:
                row = conn.execute(sends.insert().values(**values).returning(*sends.c)).one()
        except IntegrityError:
            existing = self.find_by_key(request_key)
            if existing is None:  # the constraint fired for another reason: do not hide it
                raise
            raise DuplicateRequest(existing) from None
        return _record(row)

    def _settle(self, send_id: int, values: dict[str, Any]) -> SendRecord:
        # Only a pending row may be settled: a late or repeated update never overwrites an outcome.
        with self.engine.begin() as conn:
            row = conn.execute(
                sends.update()
                .where(sends.c.id == send_id, sends.c.status == SendStatus.PENDING.value)
                .values(updated_at=_now(), **values)
                .returning(*sends.c)
            ).one_or_none()
            if row is None:
                row = conn.execute(sends.select().where(sends.c.id == send_id)).one()
        return _record(row)

    def record_result(self, send_id: int, result: SendResult) -> SendRecord:
        """Settle a send with OVH's answer: sent if any receiver was accepted, failed otherwise."""
        status = SendStatus.SENT if result.job_ids else SendStatus.FAILED
        values: dict[str, Any] = {
            "status": status.value,
            "ovh_service": result.service,
            "ovh_job_ids": result.job_ids,
            "accepted_receivers": result.accepted,
            "rejected_receivers": result.rejected,
            "credits_used": result.credits_used,
            "credits_left": result.credits_left,
        }
        if status is SendStatus.FAILED:
            values["error_code"] = "all_rejected"
            values["error_message"] = "OVH rejected every receiver."
        return self._settle(send_id, values)

    def record_failure(self, send_id: int, code: str, message: str, *, maybe_sent: bool) -> SendRecord:
        """Settle a send that OVH refused (failed), or whose answer was lost (unknown)."""
        status = SendStatus.UNKNOWN if maybe_sent else SendStatus.FAILED
        return self._settle(send_id, {"status": status.value, "error_code": code, "error_message": message})

    def record_audit(
        self, send_id: int, status: AuditStatus, channel_id: str | None = None, ts: str | None = None
    ) -> None:
        """Remember where the audit trail of a send was posted in Slack."""
        with self.engine.begin() as conn:
            conn.execute(
                sends.update()
                .where(sends.c.id == send_id)
                .values(
                    audit_status=status.value, audit_channel_id=channel_id, audit_ts=ts, updated_at=_now()
                )
            )

    def get(self, send_id: int) -> SendRecord | None:
        """The row with this id, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(sends.select().where(sends.c.id == send_id)).one_or_none()
        return _record(row) if row else None

    def find_by_key(self, request_key: str) -> SendRecord | None:
        """The row of this request, if it was received."""
        with self.engine.connect() as conn:
            row = conn.execute(sends.select().where(sends.c.request_key == request_key)).one_or_none()
        return _record(row) if row else None

    def all(self) -> list[SendRecord]:
        """Every row, oldest first (for tools and tests; the table is an audit log, not a hot path)."""
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(sends.select().order_by(sends.c.id))]
