"""Recovery: every send settles exactly once, and every audit reaches Slack, whatever crashed.

A send whose process died (its row still ``pending`` after its lease ran out) or whose OVH answer was
lost (``unknown``) is looked up at OVH by its tag. Found: it is settled as sent, never sent again. Not
found: it is sent once more (at most ``max_attempts`` in all), and only then given up as failed. An audit
Slack could not take (an outage) is posted once Slack answers. A Workflow Builder step waiting for a send
is completed once the send is settled (or once Slack answers again), and the person's Home tab refreshed.
A cancellation of a scheduled send that was cut short is completed, and its thread told. Each instance runs this at start-up and
every ``SMS_RECOVERY_INTERVAL_SECONDS``; rows are claimed with a lease in the database, so instances
never work on the same row at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.domain.errors import ConfigurationError, DeliveryError
from bot.domain.records import OvhTrace, SendRecord, SendResult, SendStatus
from bot.i18n import T_, Text, Tn_
from bot.periodic import PeriodicLoop
from bot.sending.audit import AuditSink
from bot.sending.cancel import RESUMED_NOTES, ScheduledSends
from bot.sending.service import SendService
from bot.sending.steps import StepFinisher
from bot.storage.ledger import Ledger

log = logging.getLogger(__name__)
MAX_PER_PASS = 50
# A send is not sent late: past this, one OVH has no trace of is given up (the person is told).
RESEND_MAX_AGE = timedelta(hours=1)


class Tracer(Protocol):
    """Where recovery asks what became of a send (see :meth:`bot.ovh.account.OvhAccount.trace`)."""

    def trace(self, tag: str, receivers: list[str], message: str, since: datetime) -> OvhTrace:
        """What the provider sent, or holds in its queue, of this send; raise DeliveryError."""
        ...


@dataclass
class RecoveryReport:
    """What one pass did (for logs and tests)."""

    found_at_ovh: list[int] = field(default_factory=list)
    sent_again: list[int] = field(default_factory=list)
    given_up: list[int] = field(default_factory=list)
    reported: list[int] = field(default_factory=list)
    postponed: list[int] = field(default_factory=list)
    steps_finished: list[int] = field(default_factory=list)  # workflow steps told the settled outcome
    cancels_completed: list[int] = field(default_factory=list)  # cancellations cut short, completed


class Recovery:
    """One pass over the ledger rows that need work; see the module docstring."""

    def __init__(
        self,
        ledger: Ledger,
        sending: SendService,
        tracer: Tracer,
        audit: AuditSink,
        *,
        lease_seconds: float,
        retry_after_seconds: float,
        max_attempts: int = 2,
        steps: StepFinisher | None = None,
        cancels: ScheduledSends | None = None,
    ) -> None:
        self.ledger = ledger
        self.sending = sending
        self.tracer = tracer
        self.audit = audit
        self.lease_seconds = lease_seconds
        self.retry_after_seconds = retry_after_seconds
        self.max_attempts = max_attempts
        self.steps = steps  # completes the Workflow Builder step a settled send was made for
        self.cancels = cancels  # completes the cancellations cut short
        # Called with each send this recovery settled, once reported (the person's Home tab); never raises.
        self.after_settle: Callable[[SendRecord], object] | None = None

    def run_once(self) -> RecoveryReport:
        """Recover the rows that need it now, one claimed at a time (at most ``MAX_PER_PASS``)."""
        report = RecoveryReport()
        done: set[int] = set()
        for _ in range(MAX_PER_PASS):
            record = self.ledger.claim_next(lease_seconds=self.lease_seconds, skip=frozenset(done))
            if record is None:
                break
            done.add(record.id)
            try:
                self._recover(record, report)
            except Exception:
                log.exception("recovery of send #%d failed; it will be tried again", record.id)
        if any(vars(report).values()):
            log.info("recovery: %s", report)
        return report

    def _postpone(self, record: SendRecord, report: RecoveryReport, why: str) -> None:
        log.warning("send #%d: %s; asked again later", record.id, why)
        report.postponed.append(record.id)
        self.ledger.release(record.id, owner=record.lease_owner, after_seconds=self.retry_after_seconds)

    def _recover(self, record: SendRecord, report: RecoveryReport) -> None:
        # The token of this pass's lease: the rows written back below may carry another worker's by then.
        owner = record.lease_owner
        note: Text | str | None = None
        if record.cancel_unfinished and self.cancels is not None:
            cancelled = self.cancels.resume(record)
            if cancelled.outcome not in RESUMED_NOTES or cancelled.record is None:
                self._postpone(
                    record, report, f"its cancellation could not be completed ({cancelled.reason})"
                )
                return
            record, note = cancelled.record, RESUMED_NOTES[cancelled.outcome]
            report.cancels_completed.append(record.id)
        elif record.status in (SendStatus.PENDING, SendStatus.UNKNOWN):
            try:
                trace = self.tracer.trace(
                    record.tag, record.receivers, record.message, since=record.created_at
                )
            except (DeliveryError, ConfigurationError) as error:
                self._postpone(record, report, f"OVH cannot be asked about it ({error.user_message})")
                return
            if trace.incomplete:
                self._postpone(
                    record, report, "OVH holds more pending jobs than can be read, this one may be among them"
                )
                return
            if trace.found:
                record, note = self._settle_from_trace(record, trace), _found_note(trace)
                report.found_at_ovh.append(record.id)
            else:
                refusal = self._why_not_again(record)
                if refusal is None:
                    attempt = self.ledger.begin_attempt(record, self.lease_seconds)
                    if attempt is None:  # another worker took the row, or it was settled meanwhile
                        log.warning("send #%d: lost its lease before sending again; left alone", record.id)
                        return
                    record = self.sending.attempt(attempt)
                    note = T_(
                        "OVH had no trace of this send, so it was sent again (attempt {attempt}).",
                        attempt=record.attempts,
                    )
                    report.sent_again.append(record.id)
                else:
                    given_up = self.ledger.give_up(record, "not_sent", refusal)
                    if given_up is None:  # another worker took the row (it may be sending it), or it settled
                        log.warning("send #%d: lost its lease before giving it up; left alone", record.id)
                        return
                    record = given_up
                    note = T_("OVH has no trace of this send: it is marked as not sent. {why}", why=refusal)
                    report.given_up.append(record.id)
        owed = record.step_owed
        if note is not None or record.audit_status.value in ("pending", "failed"):
            # An audit Slack still refuses is tried again after a while, not at every pass.
            record = self.sending.report(
                record,
                self.audit,
                owner=owner,
                note=note,
                update=True,
                retry_after=self.retry_after_seconds,
                step=self.steps,
            ).record
            report.reported.append(record.id)
        elif owed and self.steps is not None:
            record = self.steps.finish(record)
            # A step Slack could not take now is asked again after a while, not at every pass.
            after = self.retry_after_seconds if record.step_owed else 0
            self.ledger.release(record.id, owner=owner, after_seconds=after)
        else:
            self.sending.release(record, owner)
        if owed and not record.step_owed:
            report.steps_finished.append(record.id)
        if note is not None and self.after_settle is not None and record.settled:
            self.after_settle(record)

    def _settle_from_trace(self, record: SendRecord, trace: OvhTrace) -> SendRecord:
        accepted = set(trace.receivers)
        ids = trace.sms_ids or trace.pending_job_ids
        complete = len(ids) == len(trace.receivers)
        return self.ledger.record_result(
            record.id,
            SendResult(
                service=trace.service,
                job_ids=ids,
                accepted=trace.receivers,
                # Receivers OVH has no trace of did not get it; beyond what was read, nothing is claimed.
                rejected=[r for r in record.receivers if r not in accepted] if complete else [],
                credits_used=trace.credits,
                credits_left=None,
            ),
        )

    def _why_not_again(self, record: SendRecord) -> Text | None:
        """Why a send OVH has no trace of must not be sent again now, if it must not (kept as the send's
        error: in English in the ledger, and told in the thread's language)."""
        if record.attempts >= self.max_attempts:
            return Tn_(
                "OVH has no trace of this send after {count} attempt, so it was not sent. "
                "Send it again if it is still needed.",
                "OVH has no trace of this send after {count} attempts, so it was not sent. "
                "Send it again if it is still needed.",
                record.attempts,
            )
        if datetime.now(UTC) - record.created_at > RESEND_MAX_AGE:
            return T_(
                "It was asked for more than an hour ago and OVH has no trace of it, so it was not sent late. "
                "Send it again if it is still needed."
            )
        opted_out = self.sending.opt_outs.among(record.receivers)
        if opted_out:
            return Tn_(
                "{count} of its numbers opted out since it was asked for, so it was not sent again. "
                "Send it again to the others if it is still needed.",
                "{count} of its numbers opted out since it was asked for, so it was not sent again. "
                "Send it again to the others if it is still needed.",
                len(opted_out),
            )
        return None


def _found_note(trace: OvhTrace) -> Text:
    if trace.sms_ids:
        return T_(
            "OVH did take this send (found by its tag, the ids are OVH's SMS ids); it was not sent again."
        )
    return T_("OVH has this send in its queue (found among its pending jobs); it was not sent again.")


class RecoveryLoop(PeriodicLoop):
    """Runs :meth:`Recovery.run_once` at start and then every ``interval`` seconds, on its own thread."""

    def __init__(self, recovery: Recovery, interval: float) -> None:
        super().__init__("recovery", recovery.run_once, interval, "recovery pass failed")
