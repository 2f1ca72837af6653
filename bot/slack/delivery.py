"""Posting what the delivery follower learnt: the status message of a send's thread (posted once, then
updated in place with ``chat.update``), the parent's summary, replies and the credit alert.

Implements :class:`bot.sending.delivery.DeliverySink`: nothing here raises for Slack's failures, and
nothing writes to the database. ``chat.postMessage`` is not idempotent, so posts go through a client that
retries rate limits only, carry metadata naming what they are, and a post whose answer may have been lost
is looked for in the thread before it is posted again.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import DEFAULT_LANGUAGE, translator
from bot.sending.delivery import Posted, ReplyView, StatusView
from bot.slack.audit import CHANNEL_ERRORS, PARENT_EVENT, parent_metadata
from bot.slack.blocks import audit_parent, told_in
from bot.slack.client import SLACK_FAILURES, MessagePoster
from bot.slack.delivery_blocks import credit_alert, reply_message, status_message, with_summary

log = logging.getLogger(__name__)

STATUS_EVENT = "smsbot_delivery_status"
REPLY_EVENT = "smsbot_sms_reply"
# chat.update's refusals that mean the message will never take an update (deleted, archived, ...).
_GONE = CHANNEL_ERRORS | {
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
    "thread_not_found",
}
LOOKUP_PAGES = 10


def _code(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or "")
    return ""


class DeliveryPoster:
    """The Slack :class:`~bot.sending.delivery.DeliverySink`."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._poster = MessagePoster(client)  # a post whose answer is lost is looked for (_find), not retried

    def show_status(
        self,
        view: StatusView,
        channel: str,
        thread_ts: str,
        parent_ts: str,
        status_ts: str | None,
        *,
        look_first: bool,
    ) -> Posted:
        """Post or update the status message, then the parent's summary (its failure is only logged)."""
        message = status_message(view.record.id, view.statuses, view.validity, told_in(view.record))
        metadata = {"event_type": STATUS_EVENT, "event_payload": {"send_id": view.record.id}}
        if status_ts is None and look_first:
            status_ts = self._find(channel, thread_ts, STATUS_EVENT, "send_id", view.record.id)
        try:
            if status_ts is None:
                status_ts = self._poster.post(channel, message, thread_ts, metadata)
            else:
                self._client.chat_update(
                    channel=channel, ts=status_ts, text=message.text, blocks=message.blocks, metadata=metadata
                )
        except SLACK_FAILURES as error:
            return self._failed(f"send #{view.record.id}: its status message", error)
        self._update_parent(view, channel, parent_ts)
        return Posted(ts=status_ts)

    def _update_parent(self, view: StatusView, channel: str, parent_ts: str) -> None:
        own: str | None = parent_ts
        if view.record.thread_ts and parent_ts == view.record.thread_ts:
            # A follow-up's audit names the thread it shares with the send it follows: the thread's parent is
            # that send's, and the follow-up's own parent is the reply carrying its send id.
            own = self._find(channel, parent_ts, PARENT_EVENT, "send_id", view.record.id)
            if own is None:
                return
        parent = with_summary(audit_parent(view.record), view.statuses, told_in(view.record))
        try:
            self._client.chat_update(
                channel=channel,
                ts=own,
                text=parent.text,
                blocks=parent.blocks,
                metadata=parent_metadata(view.record),
            )
        except SLACK_FAILURES as error:  # the thread's status message holds the truth
            log.warning(
                "send #%d: the parent's delivery summary could not be updated: %s", view.record.id, error
            )

    def post_reply(self, view: ReplyView, channel: str, thread_ts: str | None, *, look_first: bool) -> Posted:
        """Post a reply in a send's thread, or on its own in SMS_REPLIES_CHANNEL (``thread_ts`` None)."""
        message = reply_message(
            view.reply_id,
            view.number,
            view.message,
            who=view.who,
            stopped=view.stopped,
            matched=view.thread is not None,
            t=translator(view.language or DEFAULT_LANGUAGE),
        )
        metadata = {"event_type": REPLY_EVENT, "event_payload": {"reply_id": view.reply_id}}
        if look_first:
            found = self._find(channel, thread_ts, REPLY_EVENT, "reply_id", view.reply_id)
            if found is not None:
                log.info("reply %d: Slack already had it (%s); not posted again", view.reply_id, found)
                return Posted(ts=found)
        try:
            return Posted(ts=self._poster.post(channel, message, thread_ts, metadata))
        except SLACK_FAILURES as error:
            return self._failed(f"reply {view.reply_id}", error)

    def post_credit_alert(
        self,
        channel: str,
        credits_left: float,
        threshold: float,
        service: str | None,
        language: str | None = None,
    ) -> bool:
        """Post the credit alert in SMS_ALERT_CHANNEL, in ``language`` (SMS_LANGUAGE); False when Slack did
        not take it."""
        message = credit_alert(credits_left, threshold, service, translator(language or DEFAULT_LANGUAGE))
        try:
            self._poster.post(channel, message)
        except SLACK_FAILURES as error:
            log.warning("the credit alert could not be posted in %s: %s", channel, error)
            return False
        return True

    @staticmethod
    def _failed(what: str, error: Exception) -> Posted:
        code = _code(error)
        if code in _GONE:
            return Posted(closed=code)
        log.warning("%s could not be posted now (%s); tried again later", what, code or error)
        return Posted(retry=True)

    def _find(self, channel: str, thread_ts: str | None, event: str, key: str, value: int) -> str | None:
        """The ts of a message the bot posted with this metadata, in the thread (or the channel's latest
        messages), if Slack holds one; None when it does not or cannot be read (then a second copy is
        possible, and the log says so). The bot posts in public channels without joining them, but only a
        member may read one: it joins and reads again."""
        try:
            try:
                return self._look(channel, thread_ts, event, key, value)
            except SlackApiError as error:
                if _code(error) != "not_in_channel" or not channel.startswith("C"):
                    raise
            self._client.conversations_join(channel=channel)
            return self._look(channel, thread_ts, event, key, value)
        except SLACK_FAILURES as error:
            log.warning(
                "could not look in %s for a message posted before (%s): a second copy is possible",
                channel,
                _code(error) or error,
            )
        return None

    def _look(self, channel: str, thread_ts: str | None, event: str, key: str, value: int) -> str | None:
        cursor = None
        for _ in range(LOOKUP_PAGES):
            if thread_ts is not None:
                page = self._client.conversations_replies(
                    channel=channel, ts=thread_ts, include_all_metadata=True, limit=200, cursor=cursor
                )
            else:
                page = self._client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=200, cursor=cursor
                )
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
                if (
                    metadata.get("event_type") == event
                    and isinstance(payload, dict)
                    and payload.get(key) == value
                ):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None
        return None
