"""Slack I/O beyond Bolt's own: user group lookups and posting a send's audit trail (with fallbacks).

Nothing here writes to the database: the reporter says where an audit went, and the caller records it.

The audit trail goes in the channel as a parent message plus a thread reply. Where the bot cannot post
(not a member of a private channel, a DM, an archived channel), the person still gets the whole result
privately: through the command's response_url, an ephemeral message, or a DM from the app.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.webhook import WebhookClient

from bot.blocks import SlackMessage, audit_parent, private_result, update_note
from bot.ledger import AuditStatus, SendRecord

log = logging.getLogger(__name__)


def retry_handlers() -> list[RetryHandler]:
    """Retry Slack's rate limits (honouring Retry-After), its 500/503 answers and dropped connections."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=1),  # an outage is left to recovery, not waited out
        ConnectionErrorRetryHandler(max_retry_count=2),
    ]


def make_web_client(token: str, base_url: str) -> WebClient:
    """The Web API client the bot uses everywhere."""
    return WebClient(token=token, base_url=base_url, timeout=10, retry_handlers=retry_handlers())


class SlackDirectory:
    """:class:`bot.policy.Directory` backed by ``usergroups.users.list`` and ``users.info``."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def members(self, usergroup_id: str) -> frozenset[str]:
        """The ids of the group's members."""
        response = self._client.usergroups_users_list(usergroup=usergroup_id)
        return frozenset(response.get("users", []))

    def is_workspace_admin(self, user_id: str) -> bool:
        """Whether the user is an admin or owner of the workspace."""
        user = self._client.users_info(user=user_id).get("user") or {}
        if user.get("deleted"):
            return False
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


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

        When Slack itself fails (an outage, not a closed channel), the audit is left for recovery to post
        in the channel once Slack is back.
        """
        if record.channel_id:
            try:
                parent = self._post(record.channel_id, audit_parent(record))
            except SlackApiError as error:
                if _code(error) not in CHANNEL_ERRORS:
                    return self._slack_failed(record, error)
                log.info("send #%d: cannot post in %s (%s)", record.id, record.channel_id, _code(error))
            except SlackClientError as error:
                return self._slack_failed(record, error)
            else:
                return self._reply_in_thread(record, parent, note)
        return self._report_privately(record, response_url)

    def report_update(self, record: SendRecord, note: str | None = None) -> AuditOutcome:
        """Post what recovery found, or an audit Slack could not take earlier.

        With a thread already there, the details (and ``note``) go into it and the parent message is
        brought up to date; otherwise the whole audit is posted as for a new send.
        """
        if not record.audit_ts:
            return self.report(record, response_url=None, note=note)
        channel = record.audit_channel_id or record.channel_id or ""
        try:
            self._post(channel, update_note(record, note), thread_ts=record.audit_ts)
        except SlackClientError as error:
            return self._slack_failed(record, error)
        try:
            parent = audit_parent(record)
            self._client.chat_update(
                channel=channel, ts=record.audit_ts, text=parent.text, blocks=parent.blocks
            )
        except SlackClientError as error:  # the thread holds the truth; a stale headline is a nuisance only
            log.warning("send #%d: the parent message could not be updated: %s", record.id, error)
        return AuditOutcome(AuditStatus.THREAD, channel, record.audit_ts)

    @staticmethod
    def _slack_failed(record: SendRecord, error: Exception) -> AuditOutcome:
        log.warning("send #%d: Slack failed, the audit will be posted later: %s", record.id, error)
        return AuditOutcome(AuditStatus.FAILED)

    def _reply_in_thread(self, record: SendRecord, parent_ts: str, note: str | None = None) -> AuditOutcome:
        status = AuditStatus.THREAD
        try:
            self._post(record.channel_id or "", update_note(record, note), thread_ts=parent_ts)
        except SlackClientError as error:
            # The parent holds who, to whom and what; recovery posts the details once Slack answers.
            log.warning("send #%d: the thread reply could not be posted: %s", record.id, error)
            status = AuditStatus.FAILED
        return AuditOutcome(status, record.channel_id, parent_ts)

    def _report_privately(self, record: SendRecord, response_url: str | None) -> AuditOutcome:
        message = private_result(record)
        attempts = []
        if response_url:
            attempts.append(("response_url", lambda: self._respond(response_url, message)))
        if record.channel_id:
            attempts.append(
                (
                    "ephemeral",
                    lambda: self._client.chat_postEphemeral(
                        channel=record.channel_id,
                        user=record.user_id,
                        text=message.text,
                        blocks=message.blocks,
                    ),
                )
            )
        attempts.append(("direct message", lambda: self._post(record.user_id, message)))
        for name, attempt in attempts:
            try:
                attempt()
            except SlackClientError as error:
                log.info("send #%d: private report by %s failed: %s", record.id, name, error)
                continue
            return AuditOutcome(AuditStatus.PRIVATE)
        log.error("send #%d: the result could not be shown in Slack at all", record.id)
        return AuditOutcome(AuditStatus.FAILED)

    def _post(self, channel: str, message: SlackMessage, thread_ts: str | None = None) -> str:
        response = self._client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread_ts, unfurl_links=False
        )
        return str(response["ts"])

    @staticmethod
    def _respond(response_url: str, message: SlackMessage) -> None:
        response = WebhookClient(response_url, timeout=10, retry_handlers=retry_handlers()).send(
            text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False
        )
        if response.status_code != 200:
            raise SlackApiError(f"response_url answered {response.status_code}", response)  # type: ignore[arg-type]


def _code(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error"))
    except (AttributeError, TypeError):
        return str(error)
