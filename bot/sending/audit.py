"""Where the use case reports a settled send: the audit sink (Slack's thread, or the terminal and Slack)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.domain.records import AuditStatus, SendRecord
from bot.i18n import Translatable


@dataclass(frozen=True)
class AuditOutcome:
    """Where a send's audit went: its status, and the thread's channel and parent ts when there is one."""

    status: AuditStatus
    channel_id: str | None = None
    ts: str | None = None


class AuditSink(Protocol):
    """Tells people what became of a send (see :class:`bot.slack.audit.AuditReporter`).

    Neither method raises for a failure of the place it posts to: it says so in the outcome (``failed``:
    recovery posts the audit later). Neither writes to the ledger: the use case records the outcome.
    """

    def report(self, record: SendRecord, note: str | Translatable | None = None) -> AuditOutcome:
        """Report a send for the first time (a live send, or one whose audit was never posted)."""
        ...

    def report_update(self, record: SendRecord, note: str | Translatable | None = None) -> AuditOutcome:
        """Report what recovery found about a send, in its existing thread when it has one. ``note`` is
        told in the send's language: a Text, or a msgid (``N_``)."""
        ...
