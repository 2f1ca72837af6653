"""Costly sends wait for their author's confirmation.

Above SMS_CONFIRM_ABOVE_CREDITS estimated credits or SMS_CONFIRM_ABOVE_RECEIVERS receivers, a form's
submission pushes a confirmation view instead of sending, and a slash command opens one (with its own
trigger id). The request waits in the database (:mod:`bot.storage.drafts`) under its own request key;
confirming sends it under that key, so a confirmation delivered or clicked twice still sends once.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.domain.cost import CostEstimate, needs_confirmation
from bot.domain.errors import LedgerUnavailable
from bot.domain.receivers import Receiver
from bot.domain.recipients import Skipped
from bot.domain.sms_text import Segmentation, encoding_label
from bot.i18n import ENGLISH, Translator
from bot.sending.service import SendRequest
from bot.slack.compose import CONFIRM_CALLBACK_ID, ConfirmationView, confirmation_view, expired_view
from bot.slack.listeners.requester import SendDeps, send_in_background
from bot.slack.locales import lazy_translator
from bot.storage.drafts import DraftStore
from bot.storage.ledger import Ledger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfirmDeps:
    """When a send needs confirming, where it waits, and how it is sent once confirmed."""

    sends: SendDeps
    drafts: DraftStore
    above_credits: float
    above_receivers: int

    def needed(self, cost: CostEstimate) -> bool:
        """Whether a send of this cost waits for its author's confirmation."""
        return needs_confirmation(
            cost, above_credits=self.above_credits, above_receivers=self.above_receivers
        )

    def draft(
        self,
        request: SendRequest,
        segmentation: Segmentation,
        cost: CostEstimate,
        response_url: str | None,
        t: Translator = ENGLISH,
    ) -> dict[str, Any]:
        """Keep ``request`` until it is confirmed, and return the view that asks for it, in ``t``'s
        language. Raises :class:`LedgerUnavailable` when the database does not take it (nothing is sent
        then)."""
        self.drafts.put(request.request_key, request.user_id, to_draft(request, response_url))
        sender = self.sends.sending.gateway.sender_id
        if request.allow_replies:
            shown_sender = t._("OVH's short number (receivers can reply)")
        else:
            chosen = request.sender or sender
            shown_sender = f"`{chosen}`" if chosen else t._("the account's default sender")
        estimate = t.ngettext(
            "*Estimated cost:* {credits} credits ({count} SMS part, {encoding}, to each receiver)",
            "*Estimated cost:* {credits} credits ({count} SMS parts, {encoding}, to each receiver)",
            segmentation.parts,
        ).format(
            credits=t.number(cost.credits, 2),
            count=segmentation.parts,
            encoding=encoding_label(segmentation.encoding),
        )
        if cost.assumed:
            estimate += ". " + t._("OVH's rates could not be read: it assumes 1 credit per part")
        return confirmation_view(
            ConfirmationView(
                request_key=request.request_key,
                receivers=tuple(receiver.e164 for receiver in request.receivers),
                message=request.message,
                stop_mention=self.sends.sending.stop_clause,
                estimate=estimate,
                sender=shown_sender,
                send_at=request.send_at,
            ),
            t,
        )


def register(app: App, deps: ConfirmDeps) -> None:
    """Bind the confirmation's submission."""
    app.view(CONFIRM_CALLBACK_ID)(partial(handle_confirmation, deps=deps))


def handle_confirmation(ack: Ack, body: dict[str, Any], view: dict[str, Any], *, deps: ConfirmDeps) -> None:
    """Confirmed: close every view and send the kept request (once, whatever the number of clicks)."""
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    user_id = user.get("id")
    t = lazy_translator(deps.sends.translator, user_id) if isinstance(user_id, str) and user_id else ENGLISH
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
        key = metadata.get("request_key") if isinstance(metadata, dict) else None
    except ValueError:
        key = None
    if not (isinstance(user_id, str) and isinstance(key, str)):
        ack(response_action="update", view=expired_view(t))
        return
    try:
        draft = deps.drafts.get(key, user_id)
        request, response_url = from_draft(draft, deps.sends.sending.ledger) if draft else (None, None)
    except LedgerUnavailable as error:
        log.warning("a confirmation could not be read: %s", error.reason)
        ack(response_action="update", view=expired_view(t))
        return
    except (KeyError, TypeError, ValueError):
        log.exception("a kept send could not be read back")
        request, response_url = None, None
    if request is None:
        ack(response_action="update", view=expired_view(t))
        return
    ack(response_action="clear")
    send_in_background(deps.sends, request, response_url)


def to_draft(request: SendRequest, response_url: str | None) -> dict[str, Any]:
    """A request as the database keeps it while it waits (plain JSON)."""
    return {
        "request_key": request.request_key,
        "source": request.source,
        "user_id": request.user_id,
        "channel_id": request.channel_id,
        "team_id": request.team_id,
        "receivers": [dataclasses.asdict(receiver) for receiver in request.receivers],
        "skipped": [dataclasses.asdict(skip) for skip in request.skipped],
        "message": request.message,
        "sender": request.sender,
        "send_at": request.send_at.isoformat() if request.send_at else None,
        "allow_replies": request.allow_replies,
        "follows": request.follows.id if request.follows else None,
        "response_url": response_url,
    }


def from_draft(draft: dict[str, Any], ledger: Ledger) -> tuple[SendRequest, str | None]:
    """The request a draft keeps (a follow-up's send read again from ``ledger``), and where to answer its
    author. Raises :class:`LedgerUnavailable`."""
    receivers = tuple(Receiver(**receiver) for receiver in draft["receivers"])
    send_at = datetime.fromisoformat(draft["send_at"]) if draft.get("send_at") else None
    request = SendRequest(
        request_key=draft["request_key"],
        source=draft["source"],
        user_id=draft["user_id"],
        channel_id=draft.get("channel_id"),
        team_id=draft.get("team_id"),
        receivers=receivers,
        message=draft["message"],
        sender=draft.get("sender"),
        send_at=send_at,
        allow_replies=bool(draft.get("allow_replies")),
        skipped=tuple(Skipped(**skip) for skip in draft.get("skipped") or ()),
        follows=ledger.get(int(draft["follows"])) if draft.get("follows") else None,
    )
    return request, draft.get("response_url")
