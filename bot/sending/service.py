"""The send use case, free of Slack and OVH: check → record → post each job → record → report → finish.

Edges (Slack listeners, the CLI) parse what people typed into a :class:`SendRequest` and call
:meth:`SendService.send_and_report` with their :class:`~bot.sending.audit.AuditSink`; recovery calls
:meth:`SendService.report` for what it settled. The use case depends on protocols (:class:`Gateway`, the
audit sink, :class:`~bot.domain.access.Directory`), never on the OVH or Slack classes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.domain.access import Access, Directory, SendPolicy
from bot.domain.cost import CostEstimate, RateLookup, estimate
from bot.domain.destinations import DestinationPolicy
from bot.domain.errors import (
    ANSWER_NOT_RECORDED,
    NOT_RECORDED,
    OPT_OUTS_UNREADABLE,
    RECORDED_NOT_SENT,
    ConfigurationError,
    DeliveryError,
    LedgerUnavailable,
)
from bot.domain.limits import Limits
from bot.domain.receivers import Receiver, mask
from bot.domain.recipients import Skipped
from bot.domain.records import AuditStatus, JobOptions, JobResult, SendRecord, SendResult, SendStatus
from bot.domain.schedule import check_send_at
from bot.domain.sms_text import Segmentation, check_message
from bot.i18n import N_, T_, Translatable
from bot.sending.audit import AuditOutcome, AuditSink
from bot.sending.steps import StepFinisher
from bot.storage.ledger import Ledger
from bot.storage.opt_outs import OptOutList

log = logging.getLogger(__name__)
# OVHcloud suggests batches of about 500 receivers per job.
MAX_RECEIVERS_PER_JOB = 500


def _no_rates(_region: str) -> float | None:
    return None


class _LeaseLost(Exception):
    """This worker no longer holds the row: it must not call OVH for it."""


@dataclass
class _Progress:
    """How far an attempt went: once a job was posted, a lost database answer may hide a sent SMS."""

    posted: bool = False


class Gateway(Protocol):
    """What the use case needs from the SMS provider (see :class:`bot.ovh.gateway.OvhGateway`)."""

    sender_id: str | None
    no_stop_clause: bool

    def post(
        self, *, message: str, receivers: list[str], tag: str, options: JobOptions | None = None
    ) -> JobResult:
        """Post one job (``options``: sender, time, replies; None: the defaults); raise
        :class:`DeliveryError` or :class:`ConfigurationError`."""
        ...

    def credits_left(self) -> float | None:
        """The credits left, or None if the provider does not say or cannot be asked (never raises)."""
        ...


@dataclass(frozen=True)
class SendRequest:
    """One person's request to send one message, as parsed at the edge.

    ``request_key`` identifies the request across redeliveries (the command's trigger id, the modal's
    view id): a second request with the same key is never sent.
    """

    request_key: str
    source: str
    user_id: str
    channel_id: str | None
    team_id: str | None
    receivers: tuple[Receiver, ...]
    message: str
    # Members of a group named as receivers that the SMS does not go to (no usable phone): recorded, and
    # named in the audit.
    skipped: tuple[Skipped, ...] = ()
    # A follow-up: the send it follows (its ledger row, read again when the follow-up was submitted); this
    # send's audit goes into that send's thread.
    follows: SendRecord | None = None

    def recipients(self) -> list[dict[str, str]]:
        """Who the named receivers are, as the ledger keeps them (see SendRecord.recipients)."""
        entries: list[dict[str, str]] = []
        for receiver in self.receivers:
            if receiver.label is None:
                continue
            entry = {"e164": receiver.e164, "label": receiver.label}
            for key in ("user_id", "contact", "group"):
                if getattr(receiver, key):
                    entry[key] = getattr(receiver, key)
            entries.append(entry)
        entries.extend({"label": skip.label, "skipped": skip.reason} for skip in self.skipped)
        return entries

    sender: str | None = None  # None: the bot's default (OVH_SMS_SENDER, or the account's)
    send_at: datetime | None = None  # None: at once
    allow_replies: bool = False
    # The requester's language (bot.i18n), in which everything posted about the send is told; None: English.
    language: str | None = None
    # A Workflow Builder step waits for the outcome (recorded, so recovery can complete it).
    step: bool = False


@dataclass(frozen=True)
class Reported:
    """A send as it ended: its settled record and where its audit went.

    ``unrecorded`` is set when the database did not take where the audit went: the send itself is
    settled, but recovery may post its audit once more.
    """

    record: SendRecord
    audit: AuditOutcome
    unrecorded: LedgerUnavailable | None = None


@dataclass(frozen=True)
class Rules:
    """Everything that decides whether a send may go."""

    policy: SendPolicy
    destinations: DestinationPolicy
    limits: Limits


class SendService:
    """Checks, records and sends. Thread-safe; every step that matters is in the database."""

    def __init__(
        self,
        ledger: Ledger,
        gateway: Gateway,
        rules: Rules,
        directory: Directory,
        opt_outs: OptOutList,
        *,
        lease_seconds: float = 300,
        unknown_grace_seconds: float = 60,
        max_receivers_per_job: int = MAX_RECEIVERS_PER_JOB,
        rates: RateLookup = _no_rates,
    ) -> None:
        self.ledger = ledger
        self.gateway = gateway
        self.rules = rules
        self.directory = directory
        self.opt_outs = opt_outs
        self.lease_seconds = lease_seconds
        self.unknown_grace_seconds = unknown_grace_seconds
        self.max_receivers_per_job = max_receivers_per_job
        self.rates = rates
        # Called once a send is reported (the delivery follower starts following it soon after).
        self.after_report: Callable[[], None] | None = None

    @property
    def stop_clause(self) -> bool:
        """Whether OVH appends its STOP mention (it takes room in the message)."""
        return not self.gateway.no_stop_clause

    def authorize(self, user_id: str, channel_id: str | None) -> Access:
        """Raise :class:`~bot.domain.errors.NotAllowed` unless this person may send from this channel."""
        return self.rules.policy.check(user_id, channel_id, self.directory)

    def is_admin(self, user_id: str) -> bool:
        """Whether this person is an admin of the bot (beyond limits, manages opt-outs)."""
        return self.rules.policy.is_admin(user_id, self.directory)

    def check_content(
        self, receivers: Sequence[Receiver], message: str, *, opt_outs: bool = True
    ) -> Segmentation:
        """Check what would be sent, whoever sends it: length, destinations and (unless told not to, as
        before a slash command's ack, where only checks without I/O belong) opt-outs.

        Raises :class:`~bot.domain.errors.InvalidInput` naming the field to fix, or
        :class:`~bot.domain.errors.LedgerUnavailable` if the opt-out list cannot be read.
        """
        segmentation = check_message(message, stop_clause=self.stop_clause)
        if not opt_outs:
            self.rules.destinations.check(receivers)
            return segmentation
        try:
            opted_out = self.opt_outs.among(receiver.e164 for receiver in receivers)
        except LedgerUnavailable as error:
            raise error.told_as(OPT_OUTS_UNREADABLE) from error
        self.rules.destinations.check(receivers, opted_out)
        return segmentation

    def estimate(
        self,
        segmentation: Segmentation,
        receivers: Sequence[Receiver],
        *,
        unresolved: int = 0,
        unresolved_region: str | None = None,
    ) -> CostEstimate:
        """What a send should cost before OVH says: parts times receivers times OVH's credits per part to each
        receiver's country (one credit where OVH's rate cannot be read). It counts against credit limits
        until OVH's figure replaces it."""
        return estimate(
            segmentation, receivers, self.rates, unresolved=unresolved, unresolved_region=unresolved_region
        )

    def validate(self, request: SendRequest) -> tuple[Access, Segmentation]:
        """Every check that can be made before recording the send (the daily limits come at recording)."""
        access = self.authorize(request.user_id, request.channel_id)
        if request.send_at is not None:
            check_send_at(request.send_at, datetime.now(UTC))
        segmentation = self.check_content(request.receivers, request.message)
        if not access.admin:
            self.rules.limits.check_size(len(request.receivers))
        return access, segmentation

    def check_limits(self, request: SendRequest, access: Access, estimated_credits: float) -> None:
        """The daily limits on today's usage, as recording the send checks them, without recording it (a dry
        run). Raises :class:`~bot.domain.limits.LimitExceeded`, or :class:`LedgerUnavailable` as storage
        raised it (the caller words it: nothing is under way)."""
        if access.admin:
            return
        usage = self.ledger.usage(request.user_id, request.channel_id)
        self.rules.limits.guard(len(request.receivers), estimated_credits)(*usage)

    def send_and_report(
        self, request: SendRequest, audit: AuditSink, step: StepFinisher | None = None
    ) -> Reported:
        """The whole send: check, record, post each job, record OVH's answer, report it through ``audit``
        (and to the workflow ``step`` waiting for it, once settled) and let go of the row.

        Raises :class:`~bot.domain.errors.NotAllowed` (including a limit),
        :class:`~bot.domain.errors.InvalidInput` or :class:`~bot.domain.records.DuplicateRequest` (a
        redelivery), all with nothing sent, or :class:`~bot.domain.errors.LedgerUnavailable`, whose message
        says whether anything may have gone out. A failed delivery does not raise: it is recorded and
        reported like a success.
        """
        record, owner = self._send(request)
        return self.report(record, audit, owner=owner, step=step)

    def report(
        self,
        record: SendRecord,
        audit: AuditSink,
        *,
        owner: str | None,
        note: str | Translatable | None = None,
        update: bool = False,
        retry_after: float | None = None,
        step: StepFinisher | None = None,
    ) -> Reported:
        """Report a settled send (``update``: what recovery found, into its thread), complete the workflow
        ``step`` waiting for it if it is settled, and let go of its row if the caller's lease (token
        ``owner``, as taken when recording or claiming it) still holds it: the step is completed before
        the row is let go of, so no one else completes it meanwhile.

        Should reporting itself break, the audit counts as failed and recovery posts it later; one that
        failed is looked at again after ``retry_after`` seconds (by default at once, or after the grace
        period of an unknown outcome).
        """
        outcome = AuditOutcome(AuditStatus.FAILED)
        try:
            outcome = audit.report_update(record, note) if update else audit.report(record, note)
        finally:
            if step is not None and record.step_owed:
                record = step.finish(record)
            backoff = retry_after if outcome.status is AuditStatus.FAILED else None
            try:
                self._finish(
                    record, owner, outcome.status, outcome.channel_id, outcome.ts, release_after=backoff
                )
            except LedgerUnavailable as error:
                # What was sent is settled already; only where its audit went is not.
                log.warning("send #%d: where its audit went is not recorded (%s)", record.id, error.reason)
                unrecorded = error
            else:
                unrecorded = None
        if self.after_report is not None and record.status is SendStatus.SENT:
            self.after_report()
        return Reported(record, outcome, unrecorded)

    def _send(self, request: SendRequest) -> tuple[SendRecord, str | None]:
        """Send the request once and return its settled ledger row (reporting it is :meth:`report`'s),
        with the token of the lease taken when recording it (the row's may be another's by then).

        Raises :class:`~bot.domain.errors.NotAllowed` (including a limit), :class:`~bot.domain.errors.InvalidInput`
        (nothing recorded) or :class:`~bot.domain.records.DuplicateRequest` (a redelivery: nothing sent again).
        A failed delivery does not raise: it is recorded and returned, so it reaches the audit thread
        like a success.
        """
        access, segmentation = self.validate(request)
        receivers = [receiver.e164 for receiver in request.receivers]
        estimated_credits = self.estimate(segmentation, request.receivers).credits
        try:
            record = self._reserve(request, receivers, estimated_credits, access)
        except LedgerUnavailable as error:
            log.error("%s not recorded, so not sent: %s", request.request_key, error.reason)
            raise error.told_as(NOT_RECORDED) from error
        log.info(
            "send #%d: %s asked for %d receiver(s)%s: %s",
            record.id,
            request.user_id,
            len(receivers),
            " (admin)" if access.admin else "",
            ", ".join(mask(number) for number in receivers),
        )
        return self.attempt(record), record.lease_owner

    def _reserve(
        self, request: SendRequest, receivers: list[str], estimated_credits: float, access: Access
    ) -> SendRecord:
        return self.ledger.reserve(
            request_key=request.request_key,
            source=request.source,
            team_id=request.team_id,
            user_id=request.user_id,
            channel_id=request.channel_id,
            receivers=receivers,
            message=request.message,
            sender=request.sender or self.gateway.sender_id,
            estimated_credits=estimated_credits,
            send_at=request.send_at,
            allow_replies=request.allow_replies,
            step=request.step,
            lease_seconds=self.lease_seconds,
            guard=None if access.admin else self.rules.limits.guard(len(receivers), estimated_credits),
            recipients=request.recipients(),
            follows=request.follows,
            language=request.language,
        )

    def attempt(self, record: SendRecord) -> SendRecord:
        """Post the jobs of a recorded send whose lease ``record`` holds, and settle it with OVH's answer
        (also used by recovery).

        The lease is renewed just before each job is posted; if it was lost (it ran out and recovery took
        the row), nothing more is posted and the row is left to its new holder. If the database fails to
        take the answer, the row stays open: recovery settles it from OVH's records once the lease runs
        out, and the person is told whether anything may have gone out.
        """
        progress = _Progress()
        try:
            return self._attempt(record, progress)
        except _LeaseLost:
            log.warning("send #%d: its lease ran out before OVH was called; left to recovery", record.id)
            try:
                return self.ledger.get(record.id) or record
            except LedgerUnavailable:
                return record
        except LedgerUnavailable as error:
            log.error("send #%d: the ledger failed (%s)", record.id, error.reason)
            # Recorded either way: recovery takes the row once its lease runs out, and settles it from OVH's
            # records or sends it then. "Nothing was sent, try again" would have the person send it twice.
            raise error.told_as(ANSWER_NOT_RECORDED if progress.posted else RECORDED_NOT_SENT) from error

    def _attempt(self, record: SendRecord, progress: _Progress) -> SendRecord:
        try:
            result = self._post_jobs(record, progress)
        except DeliveryError as error:
            log.warning("send #%d failed: %s (maybe sent: %s)", record.id, error.code, error.maybe_sent)
            return self.ledger.record_failure(
                record.id, error.code, error.message, maybe_sent=error.maybe_sent
            )
        except ConfigurationError as error:
            log.error("send #%d not sent: %s", record.id, error.user_message)
            return self.ledger.record_failure(record.id, "configuration", error.message, maybe_sent=False)
        except (_LeaseLost, LedgerUnavailable):
            raise
        except Exception:
            # A bug after the request left: OVH may have sent it, so it must not look safe to retry.
            log.exception("send #%d: unexpected error while sending", record.id)
            return self.ledger.record_failure(
                record.id,
                "internal",
                N_(
                    "The bot hit an unexpected error while sending. The SMS may or may not have gone out: "
                    "check before sending it again, and tell an admin."
                ),
                maybe_sent=True,
            )
        settled = self.ledger.record_result(record.id, result)
        log.info(
            "send #%d %s: jobs %s, %d accepted, %d rejected, %s credit(s)",
            record.id,
            settled.status,
            result.job_ids,
            len(result.accepted),
            len(result.rejected),
            result.credits_used,
        )
        return settled

    def _post_jobs(self, record: SendRecord, progress: _Progress) -> SendResult:
        """Post the send in jobs of at most ``max_receivers_per_job`` receivers, renewing the lease before
        each. Raises :class:`DeliveryError` (or :class:`ConfigurationError`) if the first job fails. If a
        later one fails, the receivers already sent to are kept and the others are listed as rejected with
        the reason, so the ledger never loses a send that happened; if that job's answer was lost, the
        result says OVH may have sent it (``maybe_sent``), so the send is checked at OVH later.
        """
        size = self.max_receivers_per_job
        chunks = [record.receivers[i : i + size] for i in range(0, len(record.receivers), size)]
        jobs: list[JobResult] = []
        rejected: list[str] = []
        partial_error: tuple[str, str | Translatable] | None = None
        maybe_sent = False
        for index, chunk in enumerate(chunks):
            if not self.ledger.renew_lease(record, self.lease_seconds):
                raise _LeaseLost
            progress.posted = True
            try:
                job = self.gateway.post(
                    message=record.message, receivers=chunk, tag=record.tag, options=record.job_options
                )
            except (DeliveryError, ConfigurationError) as error:
                if index == 0:
                    raise
                # Earlier jobs went out whatever this one's failure: the send is partial, never failed.
                code = error.code if isinstance(error, DeliveryError) else "configuration"
                log.warning("send #%d: job %d of %d failed: %s", record.id, index + 1, len(chunks), code)
                rejected.extend(number for rest in chunks[index:] for number in rest)
                partial_error = (
                    code,
                    T_("Sent to part of the receivers only: {reason}", reason=error.message),
                )
                maybe_sent = isinstance(error, DeliveryError) and error.maybe_sent
                break
            jobs.append(job)
            rejected.extend(job.rejected)
        known_left = [job.credits_left for job in jobs if job.credits_left is not None]
        return SendResult(
            service=jobs[0].service,
            job_ids=[job_id for job in jobs for job_id in job.job_ids],
            accepted=[number for job in jobs for number in job.accepted],
            rejected=rejected,
            credits_used=sum(job.credits_used for job in jobs),
            # Older answers carry no creditsLeft: then the balance is asked for once, after the last job.
            credits_left=known_left[-1] if known_left else self.gateway.credits_left(),
            partial_error=partial_error,
            maybe_sent=maybe_sent,
        )

    def _grace(self, record: SendRecord) -> float:
        # An unknown outcome is checked with OVH after a grace period; anything else may be looked at now.
        return self.unknown_grace_seconds if record.status is SendStatus.UNKNOWN else 0

    def release(self, record: SendRecord, owner: str | None) -> None:
        """Done with a send for now, whatever happened to its audit (if lease ``owner`` still holds it)."""
        self.ledger.release(record.id, owner=owner, after_seconds=self._grace(record))

    def _finish(
        self,
        record: SendRecord,
        owner: str | None,
        audit: AuditStatus,
        channel_id: str | None = None,
        ts: str | None = None,
        *,
        release_after: float | None = None,
    ) -> None:
        """Record where the send's audit went and let go of its row, in one statement (recovery looks at it
        again after ``release_after`` seconds if it still needs work; by default at once, or after the grace
        period for an unknown outcome). A row another worker took meanwhile is left to it; a caller that
        holds no lease (``owner`` None: the Cancel button) lets go of nothing."""
        after = self._grace(record) if release_after is None else max(release_after, self._grace(record))
        self.ledger.record_audit(
            record.id, audit, channel_id, ts, owner=owner, release_after=None if owner is None else after
        )
