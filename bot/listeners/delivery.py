"""What a command and a modal submission share once the request is parsed: send, then report."""

from __future__ import annotations

import logging

from slack_sdk.webhook import WebhookClient

from bot.blocks import error_message
from bot.errors import InvalidInput, LedgerUnavailable, NotAllowed
from bot.ledger import DuplicateRequest
from bot.sending import SendRequest
from bot.services import Services

log = logging.getLogger(__name__)


def tell_privately(
    response_url: str | None, services: Services, user_id: str, channel_id: str, text: str
) -> None:
    """Show the person alone an error they can act on (response_url, else an ephemeral message)."""
    message = error_message(text)
    if response_url:
        WebhookClient(response_url, timeout=10).send(
            text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False
        )
    else:
        services.slack.chat_postEphemeral(
            channel=channel_id, user=user_id, text=message.text, blocks=message.blocks
        )


def send_and_report(services: Services, request: SendRequest, response_url: str | None) -> None:
    """Run the send use case after the request was acknowledged, then post its audit trail."""
    try:
        record = services.sender.send(request)
    except DuplicateRequest as duplicate:
        log.info("%s was delivered again; send #%d not repeated", request.request_key, duplicate.existing.id)
        return
    except (NotAllowed, InvalidInput, LedgerUnavailable) as refusal:
        log.info("%s refused for %s: %s", request.request_key, request.user_id, type(refusal).__name__)
        tell_privately(
            response_url, services, request.user_id, request.channel_id or "", refusal.user_message
        )
        return
    try:
        services.reporter.report(record, response_url=response_url)
    finally:
        services.sender.release(services.ledger.get(record.id) or record)
