"""Shortcuts: the global one opens the form anywhere; the message one opens it with a message's text."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.errors import NotAllowed
from bot.i18n import N_, Translator
from bot.slack.compose import ComposeOptions, ComposeValues, compose_modal, with_summary
from bot.slack.form_extras import with_channel_picker, with_initial, with_people_picker
from bot.slack.listeners.requester import Requester, SendDeps, after_ack
from bot.slack.listeners.summary import SummaryDeps, live_summary
from bot.slack.locales import lazy_translator
from bot.slack.markup import plain_text

log = logging.getLogger(__name__)
GLOBAL_CALLBACK_ID = "sms_compose"
MESSAGE_CALLBACK_ID = "sms_from_message"
NO_TEXT = N_(
    "This message has no text to send as an SMS (only files, images or attachments). Use the shortcut on a "
    "message with text, or type `/sms` to write one."
)
NOT_OPENED = N_(
    "The form could not be opened (Slack allows only 3 seconds for it). Try the shortcut again, or type "
    "`/sms` in the channel."
)


@dataclass(frozen=True)
class ShortcutDeps:
    """What the shortcuts need: the send path (who may send), and what the form shows."""

    sends: SendDeps
    default_region: str | None
    form_options: Callable[[], ComposeOptions] = ComposeOptions  # what the account offers the form now


def register(app: App, deps: ShortcutDeps) -> None:
    """Bind the global shortcut and the message shortcut."""
    app.shortcut(GLOBAL_CALLBACK_ID)(partial(handle_global, deps=deps))
    app.shortcut(MESSAGE_CALLBACK_ID)(partial(handle_message, deps=deps))


def _requester(body: dict[str, Any]) -> Requester | None:
    user, channel, team = (
        body.get(key) if isinstance(body.get(key), dict) else {} for key in ("user", "channel", "team")
    )
    user_id, trigger_id = user.get("id"), body.get("trigger_id")
    if not (isinstance(user_id, str) and user_id and isinstance(trigger_id, str) and trigger_id):
        return None
    response_url = body.get("response_url")
    return Requester(
        user_id=user_id,
        trigger_id=trigger_id,
        channel_id=channel.get("id") if isinstance(channel.get("id"), str) else None,
        team_id=team.get("id") if isinstance(team.get("id"), str) else None,
        response_url=response_url if isinstance(response_url, str) and response_url else None,
    )


def handle_global(ack: Ack, body: dict[str, Any], client: WebClient, *, deps: ShortcutDeps) -> None:
    """The global shortcut: the form, with a channel picker for where its audit goes (a global shortcut
    comes from no channel; the picked channel's access rules apply when it is sent)."""
    ack()
    requester = _requester(body)
    if requester is None:
        log.warning("a global shortcut without its user or trigger id was ignored")
        return
    t = lazy_translator(deps.sends.translator, requester.user_id)
    with after_ack(deps.sends.slack, requester, t):
        view = compose_modal(
            channel_id="",
            response_url=None,
            default_region=deps.default_region,
            options=deps.form_options(),
            t=t,
        )
        _open(client, requester, deps, with_people_picker(with_channel_picker(view, t), t=t), t)


def handle_message(ack: Ack, body: dict[str, Any], client: WebClient, *, deps: ShortcutDeps) -> None:
    """The message shortcut: the form, its message the message's text as a phone shows it, to send from
    the message's channel (whose access rules apply: a refusal is told at once, and no form opens)."""
    ack()
    requester = _requester(body)
    if requester is None:
        log.warning("a message shortcut without its user or trigger id was ignored")
        return
    t = lazy_translator(deps.sends.translator, requester.user_id)
    with after_ack(deps.sends.slack, requester, t):
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        text = plain_text(str(message.get("text") or ""), emoji_codes=True).strip()
        try:
            deps.sends.sending.authorize(requester.user_id, requester.channel_id)
        except NotAllowed as refusal:
            requester.tell(deps.sends.slack, refusal.user_message_in(t))
            return
        if not text:
            requester.tell(deps.sends.slack, t._(NO_TEXT))
            return
        view = compose_modal(
            channel_id=requester.channel_id or "",
            response_url=requester.response_url,
            default_region=deps.default_region,
            options=deps.form_options(),
            t=t,
        )
        summary = SummaryDeps(deps.sends.sending, deps.default_region)
        view = with_summary(view, live_summary(ComposeValues(message=text), summary, t))
        _open(client, requester, deps, with_people_picker(with_initial(view, message=text), t=t), t)


def _open(
    client: WebClient, requester: Requester, deps: ShortcutDeps, view: dict[str, Any], t: Translator
) -> None:
    requester.open_view(client, deps.sends.slack, view, what="a shortcut's form", failed=t._(NOT_OPENED))
