"""The `/sms` slash command: help, the compose modal, sub-commands, or a send straight from the text."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.receivers import parse_command
from bot.sending.service import SendRequest
from bot.services import Services
from bot.slack.blocks import compose_modal, error_message, help_message, unescape
from bot.slack.client import SLACK_FAILURES
from bot.slack.listeners import subcommands
from bot.slack.listeners.requester import Requester, after_ack, send_in_background

log = logging.getLogger(__name__)
HELP_WORDS = {"help", "-h", "--help", "?"}


def register(app: App, services: Services) -> None:
    """Bind `/sms`."""

    def handle_sms(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        requester = Requester.from_command(command)
        if requester is None:  # Slack always sends these; without them nothing can be checked or deduplicated
            message = error_message("This request lacks who sent it or its trigger id, so it was ignored.")
            ack(text=message.text, blocks=message.blocks)
            return
        # Slack escapes &, < and > in command text; the SMS must carry exactly what was typed.
        text = unescape(str(command.get("text") or "")).strip()
        settings = services.settings
        if text.lower() in HELP_WORDS:
            message = help_message(settings.sms_default_region, settings.ovh_sms_sender)
            ack(text=message.text, blocks=message.blocks)
            return
        if not text:
            ack()
            with after_ack(services, requester):
                open_compose_modal(services, requester, client)
            return
        word, _, rest = text.partition(" ")
        if word.lower() in subcommands.WORDS:
            ack()
            with after_ack(services, requester):
                subcommands.handle(word.lower(), rest.strip(), requester, services)
            return
        try:
            parsed = parse_command(text, settings.sms_default_region)
            services.sending.check_content(parsed.receivers, parsed.message, opt_outs=False)
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
        send_in_background(services, request, requester.response_url)

    app.command("/sms")(handle_sms)


def open_compose_modal(services: Services, requester: Requester, client: WebClient) -> None:
    """Open the form, unless this person may not send from here (then say why, and open nothing)."""
    try:
        services.sending.authorize(requester.user_id, requester.channel_id)
    except NotAllowed as refusal:
        requester.tell(services, refusal.user_message)
        return
    view = compose_modal(
        channel_id=requester.channel_id or "",
        response_url=requester.response_url,
        default_region=services.settings.sms_default_region,
    )
    try:
        client.views_open(trigger_id=requester.trigger_id, view=view)
    except SLACK_FAILURES as error:
        log.warning("views.open failed: %s", error)
        requester.tell(
            services,
            "The form could not be opened (Slack allows only 3 seconds for it). Type `/sms` again, "
            "or send directly with `/sms +34600000001 Your message`.",
        )
