"""Posting a send's audit trail in Slack, and showing a person a message privately (with fallbacks).

Nothing here writes to the database: the reporter says where an audit went, and the caller records it.

The audit trail goes in the channel as a parent message plus a thread reply. Where the bot cannot post
(not a member of a private channel, a DM, an archived channel), the person still gets the whole result
privately: through the command's response_url, an ephemeral message, or a DM from the app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.domain.records import AuditStatus, SendRecord
from bot.slack.blocks import PrivateReason, SlackMessage, audit_details, audit_parent, private_result
from bot.slack.client import SLACK_FAILURES, retry_handlers

log = logging.getLogger(__name__)


def respond(response_url: str, message: SlackMessage) -> None:
    """Show ``message`` to the person alone through a command's response URL.

    Raises what a Slack call raises (see SLACK_FAILURES); SlackApiError when the URL answers other than
    200, as an expired one (after 30 minutes or 5 uses) does.
    """
    response = WebhookClient(response_url, timeout=10, retry_handlers=retry_handlers()).send(
        text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False
    )
    if response.status_code != 200:
        raise SlackApiError(f"response_url answered {response.status_code}", response)  # type: ignore[arg-type]


def show_privately(
    client: WebClient,
    message: SlackMessage,
    *,
    user_id: str,
    channel_id: str | None,
    response_url: str | None,
) -> bool:
    """Show ``message`` to ``user_id`` alone: through the response URL, else ephemeral, else as a DM.

    Each way Slack does not take is logged and the next one tried; False when none worked.
    """
    attempts: list[tuple[str, Callable[[], object]]] = []
    if response_url:
        attempts.append(("response_url", lambda: respond(response_url, message)))
    if channel_id:
        attempts.append(
            (
                "ephemeral",
                lambda: client.chat_postEphemeral(
                    channel=channel_id, user=user_id, text=message.text, blocks=message.blocks
                ),
            )
        )
    attempts.append(
        (
            "direct message",
            lambda: client.chat_postMessage(
                channel=user_id, text=message.text, blocks=message.blocks, unfurl_links=False
            ),
        )
    )
    for name, attempt in attempts:
        try:
            attempt()
        except SLACK_FAILURES as error:
            log.info("showing %s a message by %s failed: %s", user_id, name, error)
            continue
        return True
    return False


# Errors that say this conversation is closed to the bot; anything else may pass, so it is retried later.
CHANNEL_ERRORS = {
    "not_in_channel",
    "channel_not_found",
    "is_archived",
    "restricted_action",
    "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel",
    "cannot_reply_to_message",
    "team_access_not_granted",
    "ekm_access_denied",
}


@dataclass(frozen=True)
class AuditOutcome:
    """Where a send's audit went: its status, and the thread's channel and parent ts when there is one."""

    status: AuditStatus
    channel_id: str | None = None
    ts: str | None = None


class AuditReporter:
    """Posts a settled send to Slack and says where it went (the caller records that in the ledger)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def report(
        self, record: SendRecord, *, response_url: str | None, note: str | None = None
    ) -> AuditOutcome:
        """Post the audit trail of ``record``: in its channel if possible, else privately to its author.

        When Slack itself fails (an outage or the network, not a closed channel), the audit is left for
        recovery to post in the channel once Slack is back.
        """
        return self._report(record, response_url, note, late=False)

    def report_update(self, record: SendRecord, note: str | None = None) -> AuditOutcome:
        """Post what recovery found, or an audit Slack could not take earlier.

        With a thread already there, the details (and ``note``) go into it and the parent message is
        brought up to date; otherwise the whole audit is posted as for a new send.
        """
        if not record.audit_ts:
            return self._report(record, None, note, late=True)
        channel = record.audit_channel_id or record.channel_id or ""
        try:
            self._post_replies(channel, audit_details(record, note), record.audit_ts)
        except SLACK_FAILURES as error:
            return self._slack_failed(record, error)
        try:
            parent = audit_parent(record)
            self._client.chat_update(
                channel=channel, ts=record.audit_ts, text=parent.text, blocks=parent.blocks
            )
        except SLACK_FAILURES as error:  # the thread holds the truth; a stale headline is a nuisance only
            log.warning("send #%d: the parent message could not be updated: %s", record.id, error)
        return AuditOutcome(AuditStatus.THREAD, channel, record.audit_ts)

    def _report(
        self, record: SendRecord, response_url: str | None, note: str | None, *, late: bool
    ) -> AuditOutcome:
        if not record.channel_id:
            return self._report_privately(record, response_url, PrivateReason.NO_CHANNEL, late, note)
        try:
            parent = self._post(record.channel_id, audit_parent(record))
        except SlackApiError as error:
            if _code(error) not in CHANNEL_ERRORS:
                return self._slack_failed(record, error)
            log.info("send #%d: cannot post in %s (%s)", record.id, record.channel_id, _code(error))
        except SLACK_FAILURES as error:
            return self._slack_failed(record, error)
        else:
            return self._reply_in_thread(record, parent, note)
        return self._report_privately(record, response_url, PrivateReason.CHANNEL_CLOSED, late, note)

    @staticmethod
    def _slack_failed(record: SendRecord, error: Exception) -> AuditOutcome:
        log.warning("send #%d: Slack failed, the audit will be posted later: %s", record.id, error)
        return AuditOutcome(AuditStatus.FAILED)

    def _reply_in_thread(self, record: SendRecord, parent_ts: str, note: str | None = None) -> AuditOutcome:
        status = AuditStatus.THREAD
        try:
            self._post_replies(record.channel_id or "", audit_details(record, note), parent_ts)
        except SLACK_FAILURES as error:
            # The parent holds who, to whom and what; recovery posts the details once Slack answers.
            log.warning("send #%d: the thread reply could not be posted: %s", record.id, error)
            status = AuditStatus.FAILED
        return AuditOutcome(status, record.channel_id, parent_ts)

    def _report_privately(
        self,
        record: SendRecord,
        response_url: str | None,
        reason: PrivateReason,
        late: bool,
        note: str | None,
    ) -> AuditOutcome:
        messages = private_result(record, reason, late=late, note=note)
        shown = [
            show_privately(
                self._client,
                message,
                user_id=record.user_id,
                channel_id=record.channel_id,
                response_url=response_url,
            )
            for message in messages
        ]
        if all(shown):
            return AuditOutcome(AuditStatus.PRIVATE)
        if shown[0]:  # the person has the headline and the first part; the log says what is missing
            log.error(
                "send #%d: %d of %d parts of the result were not shown",
                record.id,
                shown.count(False),
                len(shown),
            )
            return AuditOutcome(AuditStatus.PRIVATE)
        log.error("send #%d: the result could not be shown in Slack at all", record.id)
        return AuditOutcome(AuditStatus.FAILED)

    def _post_replies(self, channel: str, messages: list[SlackMessage], thread_ts: str) -> None:
        # In order: a reply split over several messages reads top to bottom in the thread.
        for message in messages:
            self._post(channel, message, thread_ts=thread_ts)

    def _post(self, channel: str, message: SlackMessage, thread_ts: str | None = None) -> str:
        response = self._client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread_ts, unfurl_links=False
        )
        return str(response["ts"])


def _code(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error"))
    except (AttributeError, TypeError):
        return str(error)
