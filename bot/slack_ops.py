"""Slack I/O beyond Bolt's own: user group lookups and posting a send's audit trail (with fallbacks).

The audit trail goes in the channel as a parent message plus a thread reply. Where the bot cannot post
(not a member of a private channel, a DM, an archived channel), the person still gets the whole result
privately: through the command's response_url, an ephemeral message, or a DM from the app.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.webhook import WebhookClient

from bot.blocks import SlackMessage, audit_details, audit_parent, private_result
from bot.ledger import AuditStatus, Ledger, SendRecord

log = logging.getLogger(__name__)


def retry_handlers() -> list[RetryHandler]:
    """Retry Slack's rate limits (honouring Retry-After) and dropped connections, as the SDK offers."""
    return [RateLimitErrorRetryHandler(max_retry_count=3), ConnectionErrorRetryHandler(max_retry_count=2)]


def make_web_client(token: str, base_url: str) -> WebClient:
    """The Web API client the bot uses everywhere."""
    return WebClient(token=token, base_url=base_url, timeout=10, retry_handlers=retry_handlers())


class SlackUsergroups:
    """:class:`bot.policy.MembershipLookup` backed by ``usergroups.users.list``."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def members(self, usergroup_id: str) -> frozenset[str]:
        """The ids of the group's members."""
        response = self._client.usergroups_users_list(usergroup=usergroup_id)
        return frozenset(response.get("users", []))


class AuditReporter:
    """Posts a settled send to Slack and remembers in the ledger where it went."""

    def __init__(self, client: WebClient, ledger: Ledger) -> None:
        self._client = client
        self._ledger = ledger

    def report(self, record: SendRecord, *, response_url: str | None) -> AuditStatus:
        """Post the audit trail of ``record``: in its channel if possible, else privately to its author."""
        if record.channel_id:
            try:
                parent = self._post(record.channel_id, audit_parent(record))
            except SlackApiError as error:
                log.info("send #%d: cannot post in %s (%s)", record.id, record.channel_id, _code(error))
            except SlackClientError as error:
                log.warning("send #%d: Slack unreachable for the audit post: %s", record.id, error)
            else:
                return self._reply_in_thread(record, parent)
        return self._report_privately(record, response_url)

    def _reply_in_thread(self, record: SendRecord, parent_ts: str) -> AuditStatus:
        status = AuditStatus.THREAD
        try:
            self._post(record.channel_id or "", audit_details(record), thread_ts=parent_ts)
        except SlackClientError as error:
            # The parent message holds who, to whom and what; the details stay in the ledger.
            log.error("send #%d: the thread reply could not be posted: %s", record.id, error)
            status = AuditStatus.FAILED
        self._ledger.record_audit(record.id, status, record.channel_id, parent_ts)
        return status

    def _report_privately(self, record: SendRecord, response_url: str | None) -> AuditStatus:
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
            self._ledger.record_audit(record.id, AuditStatus.PRIVATE)
            return AuditStatus.PRIVATE
        log.error("send #%d: the result could not be shown in Slack at all", record.id)
        self._ledger.record_audit(record.id, AuditStatus.FAILED)
        return AuditStatus.FAILED

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
