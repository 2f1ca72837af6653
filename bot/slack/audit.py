"""Posting a send's audit trail in Slack, and showing a person a message privately (with fallbacks).

Nothing here writes to the database: the reporter says where an audit went, and the caller records it.

The audit trail goes in the channel as a parent message plus a thread reply. Where the bot cannot post
(not a member of a private channel, a DM, an archived channel), the person still gets the whole result
privately: through the command's response_url, an ephemeral message, or a DM from the app.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.domain.records import AuditStatus, SendRecord, SendStatus
from bot.i18n import Translatable
from bot.sending.audit import AuditOutcome
from bot.slack.blocks import PrivateReason, SlackMessage, audit_details, audit_parent, private_result
from bot.slack.client import SLACK_FAILURES, MessagePoster, retry_handlers

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


# Each parent and thread reply carries Slack message metadata naming its send: Slack has no idempotency key,
# so before posting an audit again (after a crash, or an answer lost on the way back) the bot looks for
# what it may already have posted, and reuses it.
PARENT_EVENT = "smsbot_send"
REPLY_EVENT = "smsbot_send_reply"
# How far back from the send's creation a parent is looked for (clocks differ), and how many messages at most.
LOOKUP_SKEW_SECONDS = 60
LOOKUP_PAGE = 200
LOOKUP_MAX_PAGES = 20
# Slack failures after which a lookup is tried again later; any other refusal means it cannot be done.
_TRANSIENT = {"ratelimited", "internal_error", "service_unavailable", "fatal_error", "request_timeout"}


class AuditReporter:
    """The Slack :class:`~bot.sending.audit.AuditSink`: posts a settled send and says where it went (the
    use case records that in the ledger).

    One parent per send, and one copy of each thread reply, whatever the crash point: see PARENT_EVENT.
    """

    def __init__(
        self, client: WebClient, *, response_url: str | None = None, poster: MessagePoster | None = None
    ) -> None:
        self._client = client
        self._response_url = response_url
        # Posts are never retried blindly: a failure other than a rate limit is looked into (see _post_once).
        self._poster = poster or MessagePoster(client)

    def answering(self, response_url: str | None) -> AuditReporter:
        """This reporter for one command: where the channel is closed to the bot, the person is answered
        through the command's ``response_url`` first."""
        return AuditReporter(self._client, response_url=response_url, poster=self._poster)

    def report(self, record: SendRecord, note: str | Translatable | None = None) -> AuditOutcome:
        """Post the audit trail of ``record``: in its channel if possible, else privately to its author.

        When Slack itself fails (an outage or the network, not a closed channel), the audit is left for
        recovery to post in the channel once Slack is back.
        """
        return self._report(record, self._response_url, note, late=False)

    def report_update(self, record: SendRecord, note: str | Translatable | None = None) -> AuditOutcome:
        """Post what recovery found, or an audit Slack could not take earlier.

        With a thread already there, the details (and ``note``) go into it and the parent message is
        brought up to date; otherwise the whole audit is posted as for a new send, unless Slack already
        holds its parent (posted before a crash, its answer lost), which is then used.
        """
        if not record.audit_ts:
            return self._report(record, None, note, late=True)
        channel = record.audit_channel_id or record.channel_id or ""
        return self._complete_thread(record, channel, record.audit_ts, note)

    def _report(
        self, record: SendRecord, response_url: str | None, note: str | Translatable | None, *, late: bool
    ) -> AuditOutcome:
        if not record.channel_id:
            return self._report_privately(record, response_url, PrivateReason.NO_CHANNEL, late, note)
        try:
            # A live send is reported once, by the process that sent it; only a late report may find that
            # an earlier attempt reached Slack.
            found = self._find_parent(record) if late else None
            if found is not None:
                log.info(
                    "send #%d: its parent message was already in Slack (%s); not posted again",
                    record.id,
                    found,
                )
                return self._complete_thread(record, record.channel_id, record.thread_ts or found, note)
            # A follow-up's parent goes into the thread of the send it follows; so do its details.
            parent = self._post_once(
                record,
                record.channel_id,
                audit_parent(record),
                thread_ts=record.thread_ts,
                metadata=_parent_metadata(record),
                find=lambda: self._find_parent(record),
            )
        except SlackApiError as error:
            if _code(error) == "thread_not_found" and record.thread_ts:
                # The thread a follow-up was to join was deleted: its audit starts a thread of its own.
                log.info("send #%d: the thread it follows is gone; posting its own", record.id)
                return self._report(
                    dataclasses.replace(record, thread_ts=None), response_url, note, late=late
                )
            if _code(error) not in CHANNEL_ERRORS:
                return self._slack_failed(record, error)
            log.info("send #%d: cannot post in %s (%s)", record.id, record.channel_id, _code(error))
        except SLACK_FAILURES as error:
            return self._slack_failed(record, error)
        else:
            return self._reply_in_thread(record, record.thread_ts or parent, note, posted_before=set())
        return self._report_privately(record, response_url, PrivateReason.CHANNEL_CLOSED, late, note)

    def _complete_thread(
        self, record: SendRecord, channel: str, parent_ts: str, note: str | Translatable | None
    ) -> AuditOutcome:
        """Post what the thread of an existing parent lacks, then bring the parent up to date."""
        try:
            posted_before = self._replies_posted(record, channel, parent_ts)
        except SLACK_FAILURES as error:
            log.warning("send #%d: Slack failed, the audit will be posted later: %s", record.id, error)
            return AuditOutcome(AuditStatus.FAILED, channel, parent_ts)
        outcome = self._reply_in_thread(record, parent_ts, note, posted_before, channel=channel)
        if outcome.status is AuditStatus.THREAD:
            try:
                # A follow-up's thread is the send's it follows: its own parent is a reply in it.
                own_parent = self._find_parent(record) if record.thread_ts else parent_ts
                if own_parent is None:
                    return outcome
                parent = audit_parent(record)
                self._client.chat_update(
                    channel=channel,
                    ts=own_parent,
                    text=parent.text,
                    blocks=parent.blocks,
                    metadata=_parent_metadata(record),
                )
            except SLACK_FAILURES as error:  # the thread holds the truth; a stale headline is a nuisance only
                log.warning("send #%d: the parent message could not be updated: %s", record.id, error)
        return outcome

    @staticmethod
    def _slack_failed(record: SendRecord, error: Exception) -> AuditOutcome:
        log.warning("send #%d: Slack failed, the audit will be posted later: %s", record.id, error)
        return AuditOutcome(AuditStatus.FAILED)

    def _reply_in_thread(
        self,
        record: SendRecord,
        parent_ts: str,
        note: str | Translatable | None,
        posted_before: set[int],
        *,
        channel: str | None = None,
    ) -> AuditOutcome:
        channel = channel or record.channel_id or ""
        messages = audit_details(record, note, follow_up=True)
        state = _state(record)
        try:
            # In order: a reply split over several messages reads top to bottom in the thread.
            for part, message in enumerate(messages, start=1):
                if part in posted_before:
                    continue
                metadata = _reply_metadata(record, state, part, len(messages))
                self._post_once(
                    record,
                    channel,
                    message,
                    thread_ts=parent_ts,
                    metadata=metadata,
                    find=lambda part=part: (
                        "" if part in self._replies_posted(record, channel, parent_ts) else None
                    ),
                )
        except SLACK_FAILURES as error:
            # The parent holds who, to whom and what; recovery posts the details once Slack answers.
            log.warning("send #%d: the thread reply could not be posted: %s", record.id, error)
            return AuditOutcome(AuditStatus.FAILED, channel, parent_ts)
        return AuditOutcome(AuditStatus.THREAD, channel, parent_ts)

    def _find_parent(self, record: SendRecord) -> str | None:
        """The ts of the parent message Slack already holds for ``record``, if it holds one.

        Raises what a Slack call raises when Slack fails; where the channel's history cannot be read
        (a missing scope, a private channel), it says so in the log and answers None: a second parent is
        a lesser harm than none.
        """
        channel = record.channel_id or ""
        oldest = f"{record.created_at.timestamp() - LOOKUP_SKEW_SECONDS:.6f}"
        thread = record.thread_ts
        pages = self._messages(
            record,
            channel,
            lambda cursor: (
                self._client.conversations_replies(  # a follow-up's parent is in the thread it follows
                    channel=channel, ts=thread, include_all_metadata=True, limit=LOOKUP_PAGE, cursor=cursor
                )
                if thread
                else self._client.conversations_history(
                    channel=channel,
                    oldest=oldest,
                    inclusive=True,
                    include_all_metadata=True,
                    limit=LOOKUP_PAGE,
                    cursor=cursor,
                )
            ),
        )
        for message in pages:
            if _names(message, PARENT_EVENT, record):
                return str(message["ts"])
        return None

    def _replies_posted(self, record: SendRecord, channel: str, parent_ts: str) -> set[int]:
        """Which parts of the reply for the send's present state the thread already holds."""
        state, parts = _state(record), set()
        pages = self._messages(
            record,
            channel,
            lambda cursor: self._client.conversations_replies(
                channel=channel, ts=parent_ts, include_all_metadata=True, limit=LOOKUP_PAGE, cursor=cursor
            ),
        )
        for message in pages:
            payload = _payload(message, REPLY_EVENT, record)
            if payload is not None and payload.get("state") == state:
                parts.add(int(payload.get("part") or 1))
        return parts

    def _messages(
        self, record: SendRecord, channel: str, read_page: Callable[[str | None], Any]
    ) -> Iterator[dict[str, Any]]:
        """The messages ``read_page(cursor)`` returns, page after page, up to ``LOOKUP_MAX_PAGES`` pages.

        Stops early where Slack refuses the read (see :meth:`_read`); past the last page it reads, it logs
        that a second copy is possible.
        """
        cursor = None
        for _ in range(LOOKUP_MAX_PAGES):
            page = self._read(record, channel, lambda cursor=cursor: read_page(cursor))
            if page is None:
                return
            yield from page.get("messages") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return
        log.warning(
            "send #%d: its audit was not found in the last %d messages of %s; posting it (it may be a second)",
            record.id,
            LOOKUP_PAGE * LOOKUP_MAX_PAGES,
            channel,
        )

    def _read(
        self, record: SendRecord, channel: str, call: Callable[[], Any], *, may_join: bool = True
    ) -> Any:
        """Run a read of ``channel``'s messages: its answer, or None where Slack refuses it.

        The bot posts in public channels without joining them, but only a member may read one: it joins
        (scope channels:join) and reads again.
        """
        try:
            return call()
        except SlackApiError as error:
            if _transient(error):
                raise
            joinable = may_join and _code(error) == "not_in_channel" and channel.startswith("C")
            if joinable and self._join(record, channel):
                return self._read(record, channel, call, may_join=False)
            log.warning(
                "send #%d: cannot read %s to look for its audit (%s): posting it, a second copy is possible. "
                "Run `smsbot check` for the scopes the app needs.",
                record.id,
                channel,
                _code(error),
            )
            return None

    def _join(self, record: SendRecord, channel: str) -> bool:
        try:
            self._client.conversations_join(channel=channel)
        except SlackApiError as error:
            if _transient(error):
                raise
            log.info("send #%d: cannot join %s to read it (%s)", record.id, channel, _code(error))
            return False
        return True

    def _report_privately(
        self,
        record: SendRecord,
        response_url: str | None,
        reason: PrivateReason,
        late: bool,
        note: str | Translatable | None,
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

    def _post_once(
        self,
        record: SendRecord,
        channel: str,
        message: SlackMessage,
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any],
        find: Callable[[], str | None],
    ) -> str:
        """Post ``message`` unless Slack already has it: when a post fails in a way that Slack may have
        taken it anyway (the answer lost, a 5xx), ``find`` looks for it (its ts, or None) before posting
        again, once. A blind retry would post it twice."""
        try:
            return self._poster.post(channel, message, thread_ts=thread_ts, metadata=metadata)
        except SLACK_FAILURES as error:
            if not _maybe_taken(error):
                raise
            log.info(
                "send #%d: Slack may have taken a message before failing (%s); looking for it",
                record.id,
                error,
            )
        found = find()
        if found is not None:
            log.info("send #%d: Slack had taken it; not posted again", record.id)
            return found
        return self._poster.post(channel, message, thread_ts=thread_ts, metadata=metadata)


def _state(record: SendRecord) -> str:
    """What a thread reply describes: the send's status at an attempt, and a cancellation that came too
    late for all or part of it (the status stays ``sent``). A reply for it is posted once."""
    late_cancel = ":cancel" if record.status is SendStatus.SENT and record.cancel_note else ""
    return f"{record.status.value}:{record.attempts}{late_cancel}"


def _parent_metadata(record: SendRecord) -> dict[str, Any]:
    # The request key tells this send from one of the same number in another deployment's database.
    return {
        "event_type": PARENT_EVENT,
        "event_payload": {"send_id": record.id, "request_key": record.request_key},
    }


def parent_metadata(record: SendRecord) -> dict[str, Any]:
    """The metadata of a send's parent message (what an update of the parent must carry again)."""
    return _parent_metadata(record)


def _reply_metadata(record: SendRecord, state: str, part: int, parts: int) -> dict[str, Any]:
    payload = {
        "send_id": record.id,
        "request_key": record.request_key,
        "state": state,
        "part": part,
        "parts": parts,
    }
    return {"event_type": REPLY_EVENT, "event_payload": payload}


def _payload(message: dict[str, Any], event_type: str, record: SendRecord) -> dict[str, Any] | None:
    """The metadata payload of ``message`` if it is an ``event_type`` message of ``record``'s send."""
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != event_type:
        return None
    payload = metadata.get("event_payload")
    if not isinstance(payload, dict):
        return None
    if str(payload.get("send_id")) != str(record.id) or payload.get("request_key") != record.request_key:
        return None
    return payload


def _names(message: dict[str, Any], event_type: str, record: SendRecord) -> bool:
    return _payload(message, event_type, record) is not None


def _maybe_taken(error: Exception) -> bool:
    """Whether Slack may have acted on a request that failed this way: the network lost it on the way back,
    or Slack failed after acting on it ("It's possible some aspect of the operation succeeded")."""
    if isinstance(error, SlackApiError):
        return (
            _code(error) in _TRANSIENT - {"ratelimited"} or getattr(error.response, "status_code", 200) >= 500
        )
    return isinstance(error, OSError | HTTPException)


def _transient(error: SlackApiError) -> bool:
    status = getattr(error.response, "status_code", 200)
    return _code(error) in _TRANSIENT or status == 429 or status >= 500


def _code(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error"))
    except (AttributeError, TypeError):
        return str(error)
