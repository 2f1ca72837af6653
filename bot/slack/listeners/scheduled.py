"""The "Cancel" button of a scheduled send's audit thread.

The button's value names a ledger row and nothing more: the row says what there is to cancel and who may
(its author and the bot's admins). Anyone else is told so privately, and nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.errors import LedgerUnavailable
from bot.i18n import ENGLISH, N_, Translator, in_
from bot.sending.audit import AuditSink
from bot.sending.cancel import CancelOutcome, ScheduledSends
from bot.sending.service import SendService
from bot.slack.blocks import CANCEL_ACTION_ID, audit_details
from bot.slack.client import SLACK_FAILURES
from bot.slack.listeners.requester import Requester, after_ack
from bot.slack.locales import lazy_translator

log = logging.getLogger(__name__)

_REFUSALS = {
    CancelOutcome.NOT_FOUND: N_("This send is not in the bot's records, so there is nothing to cancel."),
    CancelOutcome.NOT_ALLOWED: N_(
        "Only the person who scheduled this SMS, or an admin of the bot, can cancel it."
    ),
    CancelOutcome.NOT_SCHEDULED: N_(
        "This SMS is not waiting to be sent any more, so it cannot be cancelled."
    ),
    CancelOutcome.ALREADY: N_("Someone already cancelled this SMS."),
}
# The note in the audit thread, for everyone there (marked, so the thread's language can be used for it).
_NOTES = {
    CancelOutcome.CANCELLED: N_("Cancelled: OVH will not send it."),
    CancelOutcome.TOO_LATE: N_("Cancel asked too late: OVH had sent it already."),
    CancelOutcome.PARTIAL: N_("Cancelled, but OVH had sent part of it already."),
}


@dataclass(frozen=True)
class ScheduledDeps:
    """What the Cancel button needs: the cancellation use case, the send use case and its audit sink (for
    the thread), a client to answer, and the language of whoever clicks."""

    scheduled: ScheduledSends
    sending: SendService  # records where the thread's update went: recovery posts one Slack did not take
    audit: AuditSink
    slack: WebClient
    translator: Callable[[str], Translator] = lambda _user_id: ENGLISH


def register(app: App, deps: ScheduledDeps) -> None:
    """Bind the Cancel button."""
    app.block_action(CANCEL_ACTION_ID)(partial(handle_cancel, deps=deps))


def handle_cancel(ack: Ack, body: dict[str, Any], *, deps: ScheduledDeps) -> None:
    """Acknowledge, then cancel for whoever clicked, if the ledger says they may."""
    ack()
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    user_id = user.get("id") if isinstance(user.get("id"), str) else None
    channel = body.get("channel") if isinstance(body.get("channel"), dict) else {}
    actions = body.get("actions") if isinstance(body.get("actions"), list) else []
    value = actions[0].get("value") if actions and isinstance(actions[0], dict) else None
    if not user_id:
        return
    requester = Requester(
        user_id=user_id,
        trigger_id=None,
        channel_id=channel.get("id") if isinstance(channel.get("id"), str) else None,
        team_id=None,
        response_url=body.get("response_url") if isinstance(body.get("response_url"), str) else None,
    )
    t = lazy_translator(deps.translator, user_id)
    if not (isinstance(value, str) and value.isdigit()):
        requester.tell(deps.slack, t._(_REFUSALS[CancelOutcome.NOT_FOUND]))
        return
    with after_ack(deps.slack, requester, t):
        try:
            result = deps.scheduled.cancel(int(value), user_id)
        except LedgerUnavailable as error:
            requester.tell(deps.slack, error.user_message_in(t))
            return
        if result.outcome in _REFUSALS:
            log.info("cancel of send #%s by %s refused: %s", value, user_id, result.outcome)
            requester.tell(deps.slack, t._(_REFUSALS[result.outcome]))
            return
        if result.outcome is CancelOutcome.FAILED:
            why = t._("OVH did not cancel the SMS, so it will still go: {reason}")
            requester.tell(deps.slack, why.format(reason=in_(result.reason or "", t)))
            return
        if result.record is None:  # a cancellation always has its row; nothing to show without it
            return
        _replace_button(deps.slack, body, result.record)
        # Who cancelled it is in the details, as a mention. An update Slack does not take is recorded as a
        # failed audit, which recovery posts once Slack answers.
        deps.sending.report(result.record, deps.audit, owner=None, note=_NOTES[result.outcome], update=True)


def _replace_button(slack: WebClient, body: dict[str, Any], record: Any) -> None:
    """Show the clicked message as the ledger now has it: the Cancel button goes."""
    container = body.get("container") if isinstance(body.get("container"), dict) else {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if not (isinstance(channel, str) and isinstance(ts, str)):
        return
    message = audit_details(record, follow_up=True)[-1]  # the buttons are in the last part
    try:
        slack.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
    except SLACK_FAILURES as error:
        log.warning(
            "send #%d: the audit message was not updated after its cancellation: %s", record.id, error
        )
