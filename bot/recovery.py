"""Recovery: every send settles exactly once, and every audit reaches Slack, whatever crashed.

A send whose process died (its row still ``pending`` after its lease ran out) or whose OVH answer was
lost (``unknown``) is looked up at OVH by its tag. Found: it is settled as sent, never sent again. Not
found: it is sent once more (at most ``max_attempts`` in all), and only then given up as failed. An audit
Slack could not take (an outage) is posted once Slack answers. Each instance runs this at start-up and
every ``SMS_RECOVERY_INTERVAL_SECONDS``; rows are claimed with a lease in the database, so instances
never work on the same row at once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from bot.errors import ConfigurationError, DeliveryError
from bot.ledger import Ledger, SendRecord, SendResult, SendStatus
from bot.ovh_gateway import OvhGateway
from bot.sending import SendService
from bot.slack_ops import AuditReporter

log = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    """What one pass did (for logs and tests)."""

    found_at_ovh: list[int] = field(default_factory=list)
    sent_again: list[int] = field(default_factory=list)
    given_up: list[int] = field(default_factory=list)
    reported: list[int] = field(default_factory=list)
    postponed: list[int] = field(default_factory=list)


class Recovery:
    """One pass over the ledger rows that need work; see the module docstring."""

    def __init__(
        self,
        ledger: Ledger,
        sender: SendService,
        gateway: OvhGateway,
        reporter: AuditReporter,
        *,
        lease_seconds: float,
        retry_after_seconds: float,
        max_attempts: int = 2,
    ) -> None:
        self.ledger = ledger
        self.sender = sender
        self.gateway = gateway
        self.reporter = reporter
        self.lease_seconds = lease_seconds
        self.retry_after_seconds = retry_after_seconds
        self.max_attempts = max_attempts

    def run_once(self) -> RecoveryReport:
        """Recover every row that needs it now."""
        report = RecoveryReport()
        for record in self.ledger.claim_work(lease_seconds=self.lease_seconds):
            try:
                self._recover(record, report)
            except Exception:
                log.exception("recovery of send #%d failed; it will be tried again", record.id)
        if any(vars(report).values()):
            log.info("recovery: %s", report)
        return report

    def _recover(self, record: SendRecord, report: RecoveryReport) -> None:
        note = None
        if record.status in (SendStatus.PENDING, SendStatus.UNKNOWN):
            try:
                trace = self.gateway.trace(record.tag, record.receivers, record.message)
            except (DeliveryError, ConfigurationError) as error:
                log.warning("send #%d: OVH cannot be asked about it yet: %s", record.id, error)
                report.postponed.append(record.id)
                self.ledger.release(record.id, after_seconds=self.retry_after_seconds)
                return
            if trace.found:
                accepted = set(trace.receivers)
                ids = trace.sms_ids or trace.pending_job_ids
                complete = len(ids) == len(trace.receivers)
                record = self.ledger.record_result(
                    record.id,
                    SendResult(
                        service=trace.service,
                        job_ids=ids,
                        accepted=trace.receivers,
                        rejected=[r for r in record.receivers if r not in accepted] if complete else [],
                        credits_used=trace.credits,
                        credits_left=None,
                    ),
                )
                note = (
                    "OVH did take this send (found by its tag, the ids are OVH's SMS ids); it was not sent again."
                    if trace.sms_ids
                    else "OVH has this send in its queue (found among its pending jobs); it was not sent again."
                )
                report.found_at_ovh.append(record.id)
            elif record.attempts < self.max_attempts:
                record = self.sender.attempt(self.ledger.begin_attempt(record.id))
                note = f"OVH had no trace of this send, so it was sent again (attempt {record.attempts})."
                report.sent_again.append(record.id)
            else:
                record = self.ledger.record_failure(
                    record.id,
                    "not_sent",
                    f"OVH has no trace of this send after {record.attempts} attempts, so it was not sent. "
                    "Send it again if it is still needed.",
                    maybe_sent=False,
                )
                note = "OVH has no trace of this send: it is marked as not sent."
                report.given_up.append(record.id)
        if note is not None or record.audit_status.value in ("pending", "failed"):
            audit = self.reporter.report_update(record, note)
            self.sender.finish(record, audit.status, audit.channel_id, audit.ts)
            report.reported.append(record.id)
        else:
            self.sender.release(record)


class RecoveryLoop:
    """Runs :meth:`Recovery.run_once` at start and then every ``interval`` seconds, on its own thread."""

    def __init__(self, recovery: Recovery, interval: float) -> None:
        self._recovery = recovery
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smsbot-recovery", daemon=True)

    def start(self) -> None:
        """Start the loop."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current pass."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._recovery.run_once()
            except Exception:
                log.exception("recovery pass failed")
            self._stop.wait(self._interval)
