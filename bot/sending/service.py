"""The send use case: policy → checks → ledger → gateway → ledger, free of Slack.

Edges (Slack listeners, the CLI) parse what people typed into a :class:`SendRequest`, call
:meth:`SendService.send`, present the settled :class:`~bot.domain.records.SendRecord` it returns, then
:meth:`SendService.release` it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.domain.access import Access, Directory, SendPolicy
from bot.domain.destinations import DestinationPolicy
from bot.domain.errors import (
    ANSWER_NOT_RECORDED,
    NOT_RECORDED,
    OPT_OUTS_UNREADABLE,
    ConfigurationError,
    DeliveryError,
    LedgerUnavailable,
)
from bot.domain.limits import Limits
from bot.domain.receivers import Receiver, mask
from bot.domain.records import AuditStatus, SendRecord, SendResult, SendStatus
from bot.domain.sms_text import Segmentation, check_message
from bot.storage.ledger import Ledger
from bot.storage.opt_outs import OptOutList

log = logging.getLogger(__name__)


class _LeaseLost(Exception):
    """This worker no longer holds the row: it must not call OVH for it."""


class Gateway(Protocol):
    """What the use case needs from the SMS provider (see :class:`bot.ovh.gateway.OvhGateway`)."""

    sender: str | None
    no_stop_clause: bool

    def send(
        self, *, message: str, receivers: list[str], tag: str, before_post: Callable[[], None] | None = None
    ) -> SendResult:
        """Send one message, calling ``before_post`` before each job; raise :class:`DeliveryError`."""
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
    ) -> None:
        self.ledger = ledger
        self.gateway = gateway
        self.rules = rules
        self.directory = directory
        self.opt_outs = opt_outs
        self.lease_seconds = lease_seconds
        self.unknown_grace_seconds = unknown_grace_seconds

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

    def validate(self, request: SendRequest) -> tuple[Access, Segmentation]:
        """Every check that can be made before recording the send (the daily limits come at recording)."""
        access = self.authorize(request.user_id, request.channel_id)
        segmentation = self.check_content(request.receivers, request.message)
        if not access.admin:
            self.rules.limits.check_size(len(request.receivers))
        return access, segmentation

    def send(self, request: SendRequest) -> SendRecord:
        """Send the request once and return its settled ledger row.

        Raises :class:`~bot.domain.errors.NotAllowed` (including a limit), :class:`~bot.domain.errors.InvalidInput`
        (nothing recorded) or :class:`~bot.domain.records.DuplicateRequest` (a redelivery: nothing sent again).
        A failed delivery does not raise: it is recorded and returned, so it reaches the audit thread
        like a success.
        """
        access, segmentation = self.validate(request)
        receivers = [receiver.e164 for receiver in request.receivers]
        # One credit per SMS part and receiver is OVH's price for France; other countries cost more or
        # less. The estimate only counts against credit limits until OVH's real figure replaces it.
        estimated_credits = float(segmentation.parts * len(receivers))
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
        return self.attempt(record)

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
            sender=self.gateway.sender,
            estimated_credits=estimated_credits,
            lease_seconds=self.lease_seconds,
            guard=None if access.admin else self.rules.limits.guard(len(receivers), estimated_credits),
        )

    def attempt(self, record: SendRecord) -> SendRecord:
        """Call OVH for a recorded send whose lease ``record`` holds, and settle it with the answer (also
        used by recovery).

        The lease is renewed just before each job is posted; if it was lost (it ran out and recovery took
        the row), nothing is posted and the row is left to its new holder. If the database fails to take
        the answer, the row stays open: recovery settles it from OVH's records once the lease runs out,
        and the person is told whether anything may have gone out.
        """
        posted = False

        def before_post() -> None:
            nonlocal posted
            if not self.ledger.renew_lease(record, self.lease_seconds):
                raise _LeaseLost
            posted = True

        try:
            return self._attempt(record, before_post)
        except _LeaseLost:
            log.warning("send #%d: its lease ran out before OVH was called; left to recovery", record.id)
            try:
                return self.ledger.get(record.id) or record
            except LedgerUnavailable:
                return record
        except LedgerUnavailable as error:
            log.error("send #%d: the ledger failed (%s)", record.id, error.reason)
            raise error.told_as(ANSWER_NOT_RECORDED if posted else NOT_RECORDED) from error

    def _attempt(self, record: SendRecord, before_post: Callable[[], None]) -> SendRecord:
        try:
            result = self.gateway.send(
                message=record.message, receivers=record.receivers, tag=record.tag, before_post=before_post
            )
        except DeliveryError as error:
            log.warning("send #%d failed: %s (maybe sent: %s)", record.id, error.code, error.maybe_sent)
            return self.ledger.record_failure(
                record.id, error.code, error.user_message, maybe_sent=error.maybe_sent
            )
        except ConfigurationError as error:
            log.error("send #%d not sent: %s", record.id, error.user_message)
            return self.ledger.record_failure(
                record.id, "configuration", error.user_message, maybe_sent=False
            )
        except (_LeaseLost, LedgerUnavailable):
            raise
        except Exception:
            # A bug after the request left: OVH may have sent it, so it must not look safe to retry.
            log.exception("send #%d: unexpected error while sending", record.id)
            return self.ledger.record_failure(
                record.id,
                "internal",
                "The bot hit an unexpected error while sending. The SMS may or may not have gone out: "
                "check before sending it again, and tell an admin.",
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

    def _grace(self, record: SendRecord) -> float:
        # An unknown outcome is checked with OVH after a grace period; anything else may be looked at now.
        return self.unknown_grace_seconds if record.status is SendStatus.UNKNOWN else 0

    def release(self, record: SendRecord) -> None:
        """Done with a send for now, whatever happened to its audit."""
        self.ledger.release(record.id, after_seconds=self._grace(record))

    def finish(
        self,
        record: SendRecord,
        audit: AuditStatus,
        channel_id: str | None = None,
        ts: str | None = None,
        *,
        release_after: float | None = None,
    ) -> None:
        """Record where the send's audit went and let go of its row, in one statement (recovery looks at it
        again after ``release_after`` seconds if it still needs work; by default at once, or after the grace
        period for an unknown outcome)."""
        after = self._grace(record) if release_after is None else max(release_after, self._grace(record))
        self.ledger.record_audit(record.id, audit, channel_id, ts, release_after=after)
