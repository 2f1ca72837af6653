"""The send use case: policy → ledger → gateway → ledger, free of Slack.

Edges (Slack listeners, later the CLI) parse what people typed into a :class:`SendRequest`, call
:meth:`SendService.send`, and present the settled :class:`~bot.ledger.SendRecord` it returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from bot.errors import ConfigurationError, DeliveryError
from bot.ledger import Ledger, SendRecord, SendResult
from bot.policy import MembershipLookup, SendPolicy
from bot.receivers import Receiver, mask
from bot.sms_text import check_message

log = logging.getLogger(__name__)


class Gateway(Protocol):
    """What the use case needs from the SMS provider (see :class:`bot.ovh_gateway.OvhGateway`)."""

    sender: str | None
    no_stop_clause: bool

    def send(self, *, message: str, receivers: list[str], tag: str) -> SendResult:
        """Send one message; raise :class:`DeliveryError` on failure."""
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


class SendService:
    """Checks, records and sends. Thread-safe; every step that matters is in the database."""

    def __init__(
        self, ledger: Ledger, gateway: Gateway, policy: SendPolicy, memberships: MembershipLookup
    ) -> None:
        self.ledger = ledger
        self.gateway = gateway
        self.policy = policy
        self.memberships = memberships

    @property
    def stop_clause(self) -> bool:
        """Whether OVH appends its STOP mention (it takes room in the message)."""
        return not self.gateway.no_stop_clause

    def authorize(self, user_id: str, channel_id: str | None) -> None:
        """Raise :class:`~bot.errors.NotAllowed` unless this person may send from this channel."""
        self.policy.check(user_id, channel_id, self.memberships)

    def send(self, request: SendRequest) -> SendRecord:
        """Send the request once and return its settled ledger row.

        Raises :class:`~bot.errors.NotAllowed`, :class:`~bot.errors.InvalidInput` (nothing recorded) or
        :class:`~bot.ledger.DuplicateRequest` (a redelivery: nothing sent again). A failed delivery does
        not raise: it is recorded and returned, so it reaches the audit thread like a success.
        """
        self.authorize(request.user_id, request.channel_id)
        check_message(request.message, stop_clause=self.stop_clause)
        receivers = [receiver.e164 for receiver in request.receivers]
        record = self.ledger.reserve(
            request_key=request.request_key,
            source=request.source,
            team_id=request.team_id,
            user_id=request.user_id,
            channel_id=request.channel_id,
            receivers=receivers,
            message=request.message,
            sender=self.gateway.sender,
        )
        log.info(
            "send #%d: %s asked for %d receiver(s): %s",
            record.id,
            request.user_id,
            len(receivers),
            ", ".join(mask(number) for number in receivers),
        )
        try:
            result = self.gateway.send(message=request.message, receivers=receivers, tag=record.tag)
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
