"""Links to audit threads (`chat.getPermalink`), remembered: a message's permalink never changes."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient

from bot.domain.records import SendRecord
from bot.slack.client import SLACK_FAILURES

log = logging.getLogger(__name__)
PERMALINKS_KEPT = 10_000  # remembered at most; past it the memory starts again


class Permalinks:
    """`chat.getPermalink` for audit threads, remembered (a permalink never changes)."""

    def __init__(self, slack: WebClient) -> None:
        self._slack = slack
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], str] = {}

    def of(self, record: SendRecord) -> str | None:
        """The link to a send's audit message, or None when it has none or Slack would not say."""
        if not (record.audit_channel_id and record.audit_ts):
            return None
        key = (record.audit_channel_id, record.audit_ts)
        with self._lock:
            known = self._known.get(key)
        if known is not None:
            return known
        try:
            answer = self._slack.chat_getPermalink(channel=key[0], message_ts=key[1])
        except SLACK_FAILURES as error:
            log.info("no permalink for send #%d: %s", record.id, error)
            return None
        link = answer.get("permalink")
        if not isinstance(link, str) or not link.startswith("https://"):
            return None
        with self._lock:
            if len(self._known) >= PERMALINKS_KEPT:
                self._known.clear()
            self._known[key] = link
        return link
