"""The `/sms` slash command: help, the compose modal, sub-commands, or a send straight from the text."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.receivers import parse_command
from bot.sending.service import SendRequest
from bot.slack.blocks import compose_modal, error_message, help_message, unescape
from bot.slack.client import SLACK_FAILURES
from bot.slack.listeners import subcommands
from bot.slack.listeners.requester import Requester, SendDeps, after_ack, send_in_background

log = logging.getLogger(__name__)
HELP_WORDS = {"help", "-h", "--help", "?"}


@dataclass(frozen=True)
class CommandDeps:
    """What `/sms` needs: the send path, the sub-commands', and what the help and the form show."""

    sends: SendDeps
    subcommands: subcommands.SubcommandDeps
    default_region: str | None
    sender_id: str | None  # the OVH sender the help names


def register(app: App, deps: CommandDeps) -> None:
    """Bind `/sms`."""
    app.command("/sms")(partial(handle_sms, deps=deps))


def handle_sms(ack: Ack, command: dict[str, Any], client: WebClient, *, deps: CommandDeps) -> None:
    """`/sms`: help, the form, a sub-command, or a send straight from the text (checked before the ack)."""
    requester = Requester.from_command(command)
    if requester is None:  # Slack always sends these; without them nothing can be checked or deduplicated
        message = error_message("This request lacks who sent it or its trigger id, so it was ignored.")
        ack(text=message.text, blocks=message.blocks)
        return
    # Slack escapes &, < and > in command text; the SMS must carry exactly what was typed.
    text = unescape(str(command.get("text") or "")).strip()
    if text.lower() in HELP_WORDS:
        message = help_message(deps.default_region, deps.sender_id)
        ack(text=message.text, blocks=message.blocks)
        return
    if not text:
        ack()
        with after_ack(deps.sends.slack, requester):
            open_compose_modal(deps, requester, client)
        return
    word, _, rest = text.partition(" ")
    if word.lower() in subcommands.WORDS:
        ack()
        with after_ack(deps.sends.slack, requester):
            subcommands.handle(word.lower(), rest.strip(), requester, deps.sends.slack, deps.subcommands)
        return
    try:
        parsed = parse_command(text, deps.default_region)
        deps.sends.sending.check_content(parsed.receivers, parsed.message, opt_outs=False)
    except InvalidInput as error:
        message = error_message(error.user_message)
        ack(text=message.text, blocks=message.blocks)
        return
    ack()
    request = SendRequest(
        request_key=f"command:{requester.trigger_id}",
        source="command",
        user_id=requester.user_id,
        channel_id=requester.channel_id,
        team_id=requester.team_id,
        receivers=parsed.receivers,
        message=parsed.message,
    )
    send_in_background(deps.sends, request, requester.response_url)


def open_compose_modal(deps: CommandDeps, requester: Requester, client: WebClient) -> None:
    """Open the form, unless this person may not send from here (then say why, and open nothing)."""
    try:
        deps.sends.sending.authorize(requester.user_id, requester.channel_id)
    except NotAllowed as refusal:
        requester.tell(deps.sends.slack, refusal.user_message)
        return
    view = compose_modal(
        channel_id=requester.channel_id or "",
        response_url=requester.response_url,
        default_region=deps.default_region,
    )
    try:
        client.views_open(trigger_id=requester.trigger_id, view=view)
    except SLACK_FAILURES as error:
        log.warning("views.open failed: %s", error)
        requester.tell(
            deps.sends.slack,
            "The form could not be opened (Slack allows only 3 seconds for it). Type `/sms` again, "
            "or send directly with `/sms +34600000001 Your message`.",
        )
