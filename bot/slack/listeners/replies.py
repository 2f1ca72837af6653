"""The "Reply by SMS" button under a reply someone sent by SMS: it opens the form with their number.

Text written in a thread by people sends nothing; answering by SMS is this explicit button. Its value is
never trusted: it only names a row of the replies the bot read from OVH. The row says which number
answered and where the reply was posted (a click from any other message is refused), and the send it
answered: the person clicking must be allowed to send from that send's channel (told privately
otherwise), and the answer's audit goes into that send's thread, as a follow-up's does.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.errors import LedgerUnavailable, NotAllowed
from bot.i18n import N_
from bot.slack.blocks import display_number
from bot.slack.compose import compose_modal
from bot.slack.delivery_blocks import REPLY_ACTION_ID
from bot.slack.form_extras import with_initial
from bot.slack.listeners.actions import _click, followed
from bot.slack.listeners.requester import SendDeps, after_ack
from bot.storage.deliveries import DeliveryStore, ReplyRow
from bot.storage.ledger import Ledger

log = logging.getLogger(__name__)
NOT_THIS_MESSAGE = N_("This button does not belong to this message, so nothing was done.")
NO_NUMBER = N_("This reply did not come from a phone number, so it cannot be answered by SMS.")
NOT_OPENED = N_("The form could not be opened (Slack allows only 3 seconds for it). Click again.")


@dataclass(frozen=True)
class ReplyDeps:
    """What the button needs: the send path (who may send), the replies and the ledger (what it names)."""

    sends: SendDeps
    replies: DeliveryStore
    ledger: Ledger
    default_region: str | None


def register(app: App, deps: ReplyDeps) -> None:
    """Bind the "Reply by SMS" button."""
    app.action(REPLY_ACTION_ID)(partial(handle_reply_button, deps=deps))


def answered(deps: ReplyDeps, value: object, channel_id: str | None, message_ts: object) -> ReplyRow | str:
    """The reply a button names, if the click came from the message the bot posted for it; else why not."""
    if not (isinstance(value, str) and value.isdigit() and len(value) <= 12):
        return NOT_THIS_MESSAGE
    reply = deps.replies.get_reply(int(value))
    if reply is None or reply.posted_ts is None:
        return NOT_THIS_MESSAGE
    if reply.channel_id != channel_id or reply.posted_ts != message_ts:
        return NOT_THIS_MESSAGE
    if not reply.e164:
        return NO_NUMBER
    return reply


def handle_reply_button(ack: Ack, body: dict[str, Any], client: WebClient, *, deps: ReplyDeps) -> None:
    """Open the form to answer a reply by SMS, its number filled in; refused privately to anyone who may not
    send from the channel of the send it answered."""
    ack()
    requester, clicked = _click(body)
    if requester is None:
        log.warning("a button click without its user or trigger id was ignored")
        return
    message = body.get("message") if isinstance(body.get("message"), dict) else {}
    t = deps.sends.translator(requester.user_id)
    with after_ack(deps.sends.slack, requester, t):
        try:
            reply = answered(deps, clicked.get("value"), requester.channel_id, message.get("ts"))
            if isinstance(reply, str):
                requester.tell(deps.sends.slack, t._(reply))
                return
            # The click was checked against the reply's row; the send it answered comes from the ledger.
            send = followed(deps.ledger, reply.send_id, reply.channel_id, None) if reply.send_id else None
            if isinstance(send, str):
                send = None  # the send is gone: the answer is audited in the channel, on its own
            channel = send.channel_id if send is not None else reply.channel_id
            deps.sends.sending.authorize(requester.user_id, channel)
        except (NotAllowed, LedgerUnavailable) as refusal:
            requester.tell(deps.sends.slack, refusal.user_message_in(t))
            return
        view = compose_modal(
            channel_id=channel or "",
            response_url=requester.response_url,
            default_region=deps.default_region,
            t=t,
        )
        view = with_initial(view, receivers=display_number(reply.e164 or ""))
        if send is not None:
            view["private_metadata"] = json.dumps(json.loads(view["private_metadata"]) | {"follows": send.id})
        requester.open_view(client, deps.sends.slack, view, what="a reply's form", failed=t._(NOT_OPENED))
