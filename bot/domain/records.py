"""What the ledger holds about a send, as plain values: its record, its statuses, OVH's result.

Storage reads and writes these; the use case, Slack and the CLI read them. No SQL here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.errors import SmsBotError
from bot.i18n import Translatable


class SendStatus(StrEnum):
    """Where a send stands. Only ``pending`` and ``unknown`` sends can move on; the others are settled."""

    PENDING = "pending"  # written, OVH not (yet) answered
    SENT = "sent"  # OVH accepted the job for at least one receiver
    FAILED = "failed"  # OVH sent nothing: refused, or every receiver rejected
    UNKNOWN = "unknown"  # OVH's answer was lost (timeout, dropped connection): it may have been sent
    CANCELLED = "cancelled"  # a scheduled send whose jobs were all taken back from OVH before it went


class AuditStatus(StrEnum):
    """Where the audit trail of a send was written in Slack."""

    PENDING = "pending"  # not posted yet
    THREAD = "thread"  # parent message and thread in the channel
    PRIVATE = "private"  # the bot could not post in the channel: the person got it privately
    FAILED = "failed"  # Slack could not be reached at all


class StepStatus(StrEnum):
    """Where the Workflow Builder step a send was made for stands (a send from elsewhere has none)."""

    OPEN = "open"  # the step waits for the send's outcome: whoever settles the send completes it
    COMPLETED = "completed"  # Slack took the outcome (success with the outputs, or the error)
    REFUSED = "refused"  # Slack refused it for good (completed already, gone, timed out): not tried again


# The SMS service of OVH_ENDPOINT=simulator (real ones are named like sms-xx12345-1): a send recorded with it
# was simulated, and nothing left the machine.
SIMULATED_SERVICE = "simulator"


@dataclass(frozen=True)
class SendRecord:
    """One send as the ledger holds it."""

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
    attempts: int
    last_attempt_at: datetime | None
    lease_until: datetime | None
    lease_owner: str | None
    receiver_count: int
    estimated_credits: float | None
    # Who the named receivers are (see bot.domain.recipients): {"e164", "label", and "user_id", "contact" or
    # "group"} for a number reached through a person or a contact, {"label", "skipped"} for a group member
    # the SMS did not go to, and why. Typed numbers have no entry.
    recipients: list[dict[str, str]] = field(default_factory=list)
    # A follow-up (the "Follow up" button of an audit thread): the send it follows, and the ts of that
    # send's thread, where this send's audit goes too.
    follows: int | None = None
    thread_ts: str | None = None
    send_at: datetime | None = None  # a scheduled send: when OVH is to send it
    allow_replies: bool = False  # sent from OVH's short number that receivers can answer
    cancelled_at: datetime | None = None  # someone asked to cancel this scheduled send then
    cancelled_by: str | None = None  # who (a Slack user id)
    cancel_note: str | None = None  # what the cancellation came to, when not all of it was taken back
    # The language of the person who asked (bot.i18n: "es", "en"): the audit thread, its updates, delivery
    # status and replies are told in it, whenever they are posted. None: English (the command line).
    language: str | None = None
    # error_message and cancel_note (kept in English, for export and logs) as messages to tell in the
    # send's language; None for rows written before they were kept.
    error_text: str | Translatable | None = None
    cancel_note_text: str | Translatable | None = None
    step_status: StepStatus | None = None  # a send made by a Workflow Builder step: whether it was completed

    def labels(self) -> dict[str, str]:
        """How the audit names each number reached through a person or a contact: ``{e164: "@alice"}``."""
        return {entry["e164"]: entry["label"] for entry in self.recipients if entry.get("e164")}

    def skipped(self) -> list[tuple[str, str]]:
        """Group members the SMS did not go to: (who, why)."""
        return [(entry["label"], entry["skipped"]) for entry in self.recipients if entry.get("skipped")]

    @property
    def settled(self) -> bool:
        """Whether the send's outcome is final (OVH accepted it, refused it, or it was cancelled)."""
        return self.status not in (SendStatus.PENDING, SendStatus.UNKNOWN)

    @property
    def step_owed(self) -> bool:
        """Whether a Workflow Builder step still waits to be completed with this send's final outcome."""
        return self.step_status is StepStatus.OPEN and self.settled

    @property
    def cancel_unfinished(self) -> bool:
        """Whether someone asked to cancel this scheduled send and no outcome is recorded yet (a live
        cancellation, or one cut short that recovery completes)."""
        return self.status is SendStatus.SENT and self.cancelled_at is not None and self.cancel_note is None

    def scheduled(self, now: datetime) -> bool:
        """Whether OVH holds this send until a time still to come."""
        return self.send_at is not None and self.send_at > now

    @property
    def job_options(self) -> JobOptions:
        """How this send's jobs are posted (sender, time, replies), as recorded."""
        return JobOptions(sender=self.sender, send_at=self.send_at, allow_replies=self.allow_replies)

    @property
    def simulated(self) -> bool:
        """Whether the send went to OVH_ENDPOINT=simulator: no SMS was sent, OVH's answers are made up."""
        return self.ovh_service == SIMULATED_SERVICE

    @property
    def tag(self) -> str:
        """The tag sent to OVH with the job, to find it again (OVH's old API capped tags at 20 chars)."""
        return f"smsbot-{self.id}"


@dataclass(frozen=True)
class JobOptions:
    """How a job is posted beyond its text and receivers."""

    sender: str | None = None  # None: the account's default sender
    send_at: datetime | None = None  # None: at once
    allow_replies: bool = False  # OVH's short number, which receivers can answer (no sender then)


@dataclass(frozen=True)
class SendResult:
    """What OVH answered for a send (all jobs of it together)."""

    service: str
    job_ids: list[int]
    accepted: list[str]
    rejected: list[str]
    credits_used: float
    credits_left: float | None
    # A later job of a split send failed: (code, message); its receivers are in ``rejected``.
    partial_error: tuple[str, str | Translatable] | None = None
    # That later job's answer was lost: OVH may have sent it, so the send must be checked at OVH.
    maybe_sent: bool = False


@dataclass(frozen=True)
class JobResult:
    """What OVH answered for one job of a send."""

    service: str
    job_ids: list[int]
    accepted: list[str]
    rejected: list[str]
    credits_used: float
    credits_left: float | None


@dataclass(frozen=True)
class OvhTrace:
    """What OVH holds of a send whose answer was lost: the SMS it sent under the send's tag, or the jobs
    still in its queue for it."""

    service: str
    sms_ids: list[int]
    receivers: list[str]
    credits: float
    pending_job_ids: list[int] = field(default_factory=list)
    # OVH holds more pending jobs than were read: a job of this send may be among the others.
    incomplete: bool = False

    @property
    def found(self) -> bool:
        """Whether OVH sent, or still holds in its queue, anything of the send."""
        return bool(self.sms_ids or self.pending_job_ids)


class DuplicateRequest(SmsBotError):
    """This request was already taken: a redelivery or a double submit. Nothing must be sent again."""

    def __init__(self, existing: SendRecord) -> None:
        super().__init__(
            f"This request was already received (send #{existing.id}, {existing.status}); "
            "it was not sent again."
        )
        self.existing = existing
