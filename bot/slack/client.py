"""The Slack Web API client the bot uses, what its failures look like, and the user directory."""

from __future__ import annotations

import logging
import ssl
from http.client import HTTPException
from typing import TYPE_CHECKING, Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

if TYPE_CHECKING:
    from bot.slack.blocks import SlackMessage

log = logging.getLogger(__name__)

# What a failed Slack call raises. The SDK turns Slack's answers into SlackClientError (SlackApiError
# for `ok: false`), but lets the network's own errors through as they are: urllib's URLError, a
# TimeoutError or another OSError, and http.client's HTTPException for an answer cut short.
SLACK_FAILURES: tuple[type[Exception], ...] = (SlackClientError, OSError, HTTPException)


def failure_reason(error: BaseException) -> str:
    """What a Slack call that did not get an answer met, in a few words: "Connection refused",
    "Name or service not known", "TLS: WRONG_VERSION_NUMBER", "timed out"."""
    reason: object = error.reason if isinstance(error, URLError) else error
    if isinstance(reason, ssl.SSLError):
        return f"TLS: {reason.reason or reason}"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def retry_handlers(*, rate_limits: bool = True) -> list[RetryHandler]:
    """Retry Slack's rate limits (honouring Retry-After), its 500/503 answers and dropped connections.

    Without ``rate_limits``, a rate-limited call fails at once instead of sleeping for Retry-After.
    """
    handlers: list[RetryHandler] = [RateLimitErrorRetryHandler(max_retry_count=3)] if rate_limits else []
    return [
        *handlers,
        ServerErrorRetryHandler(max_retry_count=1),  # an outage is left to recovery, not waited out
        ConnectionErrorRetryHandler(max_retry_count=1),
    ]


def make_web_client(
    token: str, base_url: str, *, timeout: int = 10, rate_limit_retries: bool = True
) -> WebClient:
    """The Web API client the bot uses.

    ``rate_limit_retries=False`` makes a client for calls made before an ack (user group and admin
    lookups): Slack allows 3 seconds for the ack, so a rate limit must fail the call, not wait it out.
    """
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=retry_handlers(rate_limits=rate_limit_retries),
    )


class MessagePoster:
    """Posts the bot's own messages (audit threads, delivery status, replies, alerts), never twice by a retry.

    chat.postMessage is not idempotent: the client's retries after a dropped connection or a 5xx could post a
    message twice. Posts go through a copy of the client that retries rate limits only (Slack refused those
    untouched); a caller that meets another failure looks for the message before posting it again.
    """

    def __init__(self, client: WebClient) -> None:
        self._client = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=client.headers,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)],
        )

    def post(
        self,
        channel: str,
        message: SlackMessage,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Post ``message`` (links not unfurled: a number or a URL in an SMS is not a preview); its ``ts``."""
        response = self._client.chat_postMessage(
            channel=channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=thread_ts,
            unfurl_links=False,
            metadata=metadata,
        )
        return str(response["ts"])


class SlackDirectory:
    """:class:`bot.domain.access.Directory` backed by ``usergroups.users.list`` and ``users.info``."""

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
