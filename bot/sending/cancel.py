"""Cancelling a scheduled send: its author or an admin takes its jobs back from OVH before they go.

The request names a ledger row and nothing else; the row says whether there is anything to cancel and who
may. The ledger marks the cancellation before OVH is asked, so two clicks (or two instances) cannot both
go ahead; OVH's answer for each job then says what came of it, and the ledger records that.

A cancellation cut short between the two (the process died, or the database failed before the outcome was
written) is completed by recovery (:meth:`ScheduledSends.resume`): a job OVH still holds is taken back
then; of one it no longer holds, its list of sent SMS says whether it went out or was taken back before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from bot.domain.errors import ConfigurationError, DeliveryError
from bot.domain.records import SendRecord, SendStatus
from bot.i18n import N_, Text, Tn_, Translatable
from bot.storage.ledger import Ledger

log = logging.getLogger(__name__)
TOO_LATE = N_("OVH had sent it already: the cancellation came too late.")


class CancelOutcome(StrEnum):
    """What a request to cancel came to."""

    CANCELLED = "cancelled"  # every job taken back: nothing will be sent
    TOO_LATE = "too_late"  # OVH had sent it already
    PARTIAL = "partial"  # some jobs taken back, others had gone
    NOT_FOUND = "not_found"  # no such send
    NOT_ALLOWED = "not_allowed"  # not its author, nor an admin
    NOT_SCHEDULED = "not_scheduled"  # not a send OVH holds for later (any more)
    ALREADY = "already"  # someone asked before
    FAILED = "failed"  # OVH could not be asked: nothing changed, it may be tried again


@dataclass(frozen=True)
class Cancellation:
    """The outcome, the send as the ledger now holds it (None if there is none), and OVH's reason when
    it failed (``str()`` is the English; ``bot.i18n.in_(reason, t)`` the reader's language)."""

    outcome: CancelOutcome
    record: SendRecord | None
    reason: str | Translatable | None = None


class JobCanceller(Protocol):
    """What cancelling needs from the SMS provider (see :class:`bot.ovh.gateway.OvhGateway`)."""

    def cancel_job(self, service: str, job_id: int) -> bool:
        """Take back a queued job: False if it went out already; raise :class:`DeliveryError`."""
        ...

    def job_sent(self, service: str, job_id: int) -> bool:
        """Whether the provider sent this job; raise :class:`DeliveryError`."""
        ...


# What a cancellation completed by recovery came to, for the audit thread (told in the send's language).
RESUMED_NOTES = {
    CancelOutcome.CANCELLED: N_(
        "The cancellation asked for earlier had been cut short; it is done now: OVH will not send it."
    ),
    CancelOutcome.TOO_LATE: N_(
        "The cancellation asked for earlier had been cut short, and OVH had sent it by the time it was completed."
    ),
    CancelOutcome.PARTIAL: N_(
        "The cancellation asked for earlier had been cut short; when it was completed, OVH had sent part of it "
        "already."
    ),
}


class ScheduledSends:
    """Cancels scheduled sends. Thread-safe."""

    def __init__(self, ledger: Ledger, jobs: JobCanceller, is_admin: Callable[[str], bool]) -> None:
        self.ledger = ledger
        self.jobs = jobs
        self.is_admin = is_admin

    def cancel(self, send_id: int, user_id: str) -> Cancellation:
        """Cancel send ``send_id`` for ``user_id``, if they may and OVH still holds it."""
        record = self.ledger.get(send_id)
        if record is None:
            return Cancellation(CancelOutcome.NOT_FOUND, None)
        if user_id != record.user_id and not self.is_admin(user_id):
            return Cancellation(CancelOutcome.NOT_ALLOWED, record)
        if record.cancelled_at is not None or record.status is SendStatus.CANCELLED:
            return Cancellation(CancelOutcome.ALREADY, record)
        if record.status is not SendStatus.SENT or not record.scheduled(datetime.now(UTC)):
            return Cancellation(CancelOutcome.NOT_SCHEDULED, record)
        claimed, mine = self.ledger.begin_cancel(send_id, user_id)
        if not mine or claimed is None:
            # Another click got there first, or the time came meanwhile.
            outcome = (
                CancelOutcome.ALREADY if claimed and claimed.cancelled_at else CancelOutcome.NOT_SCHEDULED
            )
            return Cancellation(outcome, claimed)
        return self._take_back(claimed)

    def resume(self, record: SendRecord) -> Cancellation:
        """Complete a cancellation cut short (``record.cancel_unfinished``; recovery holds the row's lease).
        When OVH cannot be asked, the outcome is ``FAILED`` and the cancellation stays asked for: recovery
        tries again later, and nobody may cancel it a second time meanwhile."""
        return self._take_back(record, resumed=True)

    def _take_back(self, record: SendRecord, *, resumed: bool = False) -> Cancellation:
        taken, gone = [], []
        service = str(record.ovh_service)
        for job_id in record.ovh_job_ids:
            try:
                # Cut short, the first attempt may have taken it back already: then OVH has not sent it.
                back = self.jobs.cancel_job(service, job_id) or (
                    resumed and not self.jobs.job_sent(service, job_id)
                )
                (taken if back else gone).append(job_id)
            except (DeliveryError, ConfigurationError) as error:
                log.warning(
                    "send #%d: OVH did not take back job %d: %s", record.id, job_id, error.user_message
                )
                if resumed:  # every job is asked about again on the next try
                    return Cancellation(CancelOutcome.FAILED, record, error.message)
                if not taken:
                    return Cancellation(
                        CancelOutcome.FAILED, self.ledger.undo_cancel(record.id), error.message
                    )
                gone.extend(j for j in record.ovh_job_ids if j not in taken and j not in gone)
                break
        log.info("send #%d: %d job(s) taken back, %d gone already", record.id, len(taken), len(gone))
        if not gone:
            return Cancellation(
                CancelOutcome.CANCELLED, self.ledger.record_cancellation(record.id, cancelled=True, note=None)
            )
        # The ledger keeps the note in English and as itself, told later in the send's language.
        note: str | Text
        if not taken:
            note = TOO_LATE
            outcome = CancelOutcome.TOO_LATE
        else:
            note = Tn_(
                "Only {taken} of the {count} SMS was taken back: OVH had sent the others already.",
                "Only {taken} of the {count} SMS were taken back: OVH had sent the others already.",
                len(taken),  # "Only 1 of the 2 SMS was taken back"
                taken=len(taken),
                count=len(record.ovh_job_ids),
            )
            outcome = CancelOutcome.PARTIAL
        return Cancellation(outcome, self.ledger.record_cancellation(record.id, cancelled=False, note=note))
