"""Buttons in the bot's messages: "Follow up" on a send's audit thread opens the form for the same people.

A button's value is never trusted: it only names a ledger row. The row says which thread it belongs to
(a click from any other message is refused), who it went to, and the channel whose access rules decide
whether the person clicking may send; a click from anyone else is refused privately.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.errors import LedgerUnavailable, NotAllowed
from bot.domain.records import AuditStatus, SendRecord
from bot.i18n import N_
from bot.slack.blocks import FOLLOW_UP_ACTION_ID, display_number
from bot.slack.compose import ComposeOptions, compose_modal
from bot.slack.form_extras import MAX_PICKED, with_initial, with_people_picker
from bot.slack.listeners.requester import Requester, SendDeps, after_ack
from bot.slack.locales import lazy_translator
from bot.storage.ledger import Ledger

log = logging.getLogger(__name__)
# Why a follow-up cannot be: marked, so that each edge tells it in its reader's language (``t._(why)``).
NOT_THIS_THREAD = N_("This button does not belong to this thread, so nothing was done.")
GONE = N_("That send is no longer in the bot's ledger, so it cannot be followed up. Type `/sms` instead.")


@dataclass(frozen=True)
class ActionDeps:
    """What the buttons need: the send path (who may send), the ledger (what a button names)."""

    sends: SendDeps
    ledger: Ledger
    default_region: str | None
    form_options: Callable[[], ComposeOptions] = ComposeOptions  # what the account offers the form now


def register(app: App, deps: ActionDeps) -> None:
    """Bind the audit thread's "Follow up" button."""
    app.action(FOLLOW_UP_ACTION_ID)(partial(handle_follow_up, deps=deps))


def handle_follow_up(ack: Ack, body: dict[str, Any], client: WebClient, *, deps: ActionDeps) -> None:
    """Open the form for the same receivers as the send this thread is about; its audit joins the thread."""
    ack()
    requester, clicked = _click(body)
    if requester is None:
        log.warning("a button click without its user or trigger id was ignored")
        return
    t = lazy_translator(deps.sends.translator, requester.user_id)
    with after_ack(deps.sends.slack, requester, t):
        try:
            record = followed(deps.ledger, clicked.get("value"), requester.channel_id, clicked.get("thread"))
            if isinstance(record, str):
                requester.tell(deps.sends.slack, t._(record))
                return
            deps.sends.sending.authorize(requester.user_id, record.channel_id)
        except (NotAllowed, LedgerUnavailable) as refusal:
            requester.tell(deps.sends.slack, refusal.user_message_in(t))
            return
        numbers, people = follow_up_receivers(record)
        view = compose_modal(
            channel_id=record.channel_id or "",
            response_url=requester.response_url,
            default_region=deps.default_region,
            options=deps.form_options(),
            t=t,
        )
        view = with_people_picker(with_initial(view, receivers=numbers), initial_users=people, t=t)
        metadata = json.loads(view["private_metadata"]) | {"follows": record.id}
        view["private_metadata"] = json.dumps(metadata)
        requester.open_view(
            client,
            deps.sends.slack,
            view,
            what="a follow-up",
            failed=t._("The form could not be opened (Slack allows only 3 seconds for it). Click again."),
        )


def followed(ledger: Ledger, value: object, channel_id: str | None, thread: object) -> SendRecord | str:
    """The send a follow-up names, if the button's thread is that send's: its row, or why not (to tell, as
    ``t._(why)``).

    ``value`` is the button's, ``channel_id`` and ``thread`` (the thread's ts) where it was clicked (for a
    submitted form, its channel and None: the form carries no thread, the row says it). Raises
    ``LedgerUnavailable``.
    """
    if not (isinstance(value, str | int) and str(value).isdigit()):
        return NOT_THIS_THREAD
    record = ledger.get(int(value))
    if record is None:
        return GONE
    # The row must say that its audit thread is where the click came from: a value copied into another
    # message (or made up) names nothing there.
    if record.audit_status is not AuditStatus.THREAD or not record.audit_ts:
        return NOT_THIS_THREAD
    if record.audit_channel_id != channel_id or (thread is not None and record.audit_ts != thread):
        return NOT_THIS_THREAD
    return record


def follow_up_receivers(record: SendRecord) -> tuple[str, list[str]]:
    """What the follow-up form starts with: typed numbers and contacts (by name) for its To field, and the
    people (by user id) for its picker, as the send named them."""
    reached = {entry["e164"]: entry for entry in record.recipients if entry.get("e164")}
    typed: list[str] = []
    people: list[str] = []
    for e164 in record.receivers:
        entry = reached.get(e164)
        if entry is None:
            typed.append(display_number(e164))
        elif entry.get("user_id"):
            people.append(entry["user_id"])
        else:
            typed.append(f"@{entry.get('contact') or entry['label']}")
    return ", ".join(typed), people[:MAX_PICKED]


def _click(body: dict[str, Any]) -> tuple[Requester | None, dict[str, Any]]:
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    channel = body.get("channel") if isinstance(body.get("channel"), dict) else {}
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    message = body.get("message") if isinstance(body.get("message"), dict) else {}
    actions = body.get("actions") if isinstance(body.get("actions"), list) else []
    action = actions[0] if actions and isinstance(actions[0], dict) else {}
    user_id, trigger_id = user.get("id"), body.get("trigger_id")
    if not (isinstance(user_id, str) and user_id and isinstance(trigger_id, str) and trigger_id):
        return None, {}
    response_url = body.get("response_url")
    requester = Requester(
        user_id=user_id,
        trigger_id=trigger_id,
        channel_id=channel.get("id") if isinstance(channel.get("id"), str) else None,
        team_id=team.get("id") if isinstance(team.get("id"), str) else None,
        response_url=response_url if isinstance(response_url, str) and response_url else None,
    )
    # The thread a reply belongs to is its thread_ts (the parent's ts).
    return requester, {"value": action.get("value"), "thread": message.get("thread_ts") or message.get("ts")}


def follow_up_of(
    ledger: Ledger | None, metadata: dict[str, Any], channel_id: str | None
) -> SendRecord | str | None:
    """The send a submitted form follows up (None for a form that follows nothing), or why it cannot (to
    show inline). The row is read again: its thread is where the follow-up's audit goes. Raises
    ``LedgerUnavailable``."""
    value = metadata.get("follows")
    if value is None:
        return None
    if ledger is None:
        return GONE
    return followed(ledger, value, channel_id, None)
