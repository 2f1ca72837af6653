"""The `/sms` slash command: help, the compose modal, sub-commands, or a send straight from the text."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.command_syntax import find_subcommand
from bot.domain.cost import CostEstimate
from bot.domain.errors import InvalidInput, LedgerUnavailable, NotAllowed
from bot.domain.receivers import ParsedCommand, parse_command
from bot.domain.recipients import DirectoryUnavailable, Recipients
from bot.domain.sms_text import Segmentation, check_message
from bot.i18n import ENGLISH, Translator
from bot.sending.service import SendRequest
from bot.slack.blocks import error_message, unescape
from bot.slack.compose import ComposeOptions, compose_modal
from bot.slack.form_extras import with_people_picker
from bot.slack.help import help_message
from bot.slack.listeners import reports, subcommands
from bot.slack.listeners.confirm import ConfirmDeps
from bot.slack.listeners.requester import Requester, SendDeps, after_ack, send_in_background
from bot.slack.locales import lazy_translator
from bot.slack.markup import CommandText

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommandDeps:
    """What `/sms` needs: the send path, the sub-commands', and what the help and the form show."""

    sends: SendDeps
    subcommands: subcommands.SubcommandDeps
    reports: reports.ReportDeps
    default_region: str | None
    sender_id: str | None  # the OVH sender the help names
    recipients: Recipients  # people, user groups and contacts named as receivers
    stop_clause: bool = False  # OVH appends its STOP mention: the help's lengths keep room for it
    translator: Callable[[str], Translator] = lambda _user_id: ENGLISH  # the person's language
    form_options: Callable[[], ComposeOptions] = ComposeOptions  # what the account offers the form now
    confirm: ConfirmDeps | None = None  # None: every send goes at once


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
    # Slack escapes &, < and > in command text, and sends mentions and links as <…> tokens; the SMS must
    # carry exactly what was typed, with mentions and links as a phone shows them.
    raw = str(command.get("text") or "").strip()
    text = unescape(raw)
    word, _, rest = text.partition(" ")
    subcommand = find_subcommand(word)
    if subcommand is not None and subcommand.name == "help" and not rest.strip():
        message = help_message(
            deps.default_region,
            deps.sender_id,
            stop_clause=deps.stop_clause,
            t=deps.translator(requester.user_id),
        )
        ack(text=message.text, blocks=message.blocks)
        return
    t = lazy_translator(deps.translator, requester.user_id)  # asked of Slack only if something is told
    if not text:
        ack()
        with after_ack(deps.sends.slack, requester, t):
            open_compose_modal(deps, requester, client)
        return
    if subcommand is not None and subcommand.name != "help":
        ack()
        with after_ack(deps.sends.slack, requester, t):
            if subcommand.name in reports.NAMES:
                reports.handle(subcommand.name, rest.strip(), requester, deps.reports)
            else:
                subcommands.handle(subcommand, rest.strip(), requester, deps.sends.slack, deps.subcommands)
        return
    typed = CommandText.read(raw)
    try:
        parsed = parse_command(typed.text, deps.default_region, typed.reference)
        parsed = ParsedCommand(parsed.receivers, typed.plain(parsed.message), parsed.targets)
        deps.sends.sending.check_content(parsed.receivers, parsed.message, opt_outs=False)
    except InvalidInput as error:
        # A word the parser quotes may hold a mention or a link: quoted as the person saw it.
        message = error_message(typed.plain(error.user_message_in(t)))
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
    if Recipients.named(parsed.targets):
        with after_ack(deps.sends.slack, requester, t):
            named = resolve_named(deps, requester, request, parsed)
            if named is not None:
                send_or_confirm(deps, requester, named, client)
        return
    with after_ack(deps.sends.slack, requester, t):
        send_or_confirm(deps, requester, request, client)


def resolve_named(
    deps: CommandDeps, requester: Requester, request: SendRequest, parsed: ParsedCommand
) -> SendRequest | None:
    """The request with the people, groups and contacts it names turned into numbers (after the ack: it
    asks Slack and the database), or None once the person was told why it cannot go."""
    t = lazy_translator(deps.translator, requester.user_id)
    try:
        # Nobody's profile is read for someone who may not send from here.
        deps.sends.sending.authorize(requester.user_id, requester.channel_id)
        resolved = deps.recipients.resolve(parsed.targets)
    except (NotAllowed, InvalidInput, LedgerUnavailable) as refusal:
        requester.tell(deps.sends.slack, refusal.user_message_in(t))
        return None
    except DirectoryUnavailable as failure:
        log.warning("%s: people could not be looked up: %s", request.request_key, failure.reason)
        requester.tell(deps.sends.slack, failure.user_message_in(t))
        return None
    return dataclasses.replace(request, receivers=resolved.receivers, skipped=resolved.skipped)


def send_or_confirm(deps: CommandDeps, requester: Requester, request: SendRequest, client: WebClient) -> None:
    """Send at once; or, above the confirmation thresholds (a user group counts by its members), open the
    same confirmation as the form's, and send nothing yet."""
    if deps.confirm is not None:
        segmentation = check_message(request.message, stop_clause=deps.sends.sending.stop_clause)
        cost = deps.sends.sending.estimate(segmentation, request.receivers)
        if deps.confirm.needed(cost):
            open_confirmation(deps.confirm, requester, request, segmentation, cost, client)
            return
    send_in_background(deps.sends, request, requester.response_url)


def open_confirmation(
    confirm: ConfirmDeps,
    requester: Requester,
    request: SendRequest,
    segmentation: Segmentation,
    cost: CostEstimate,
    client: WebClient,
) -> None:
    """Ask the person to confirm a costly send in a view opened with the command's trigger id."""
    t = lazy_translator(confirm.sends.translator, requester.user_id)
    try:
        confirm.sends.sending.authorize(requester.user_id, requester.channel_id)
        view = confirm.draft(request, segmentation, cost, requester.response_url, t)
    except (NotAllowed, LedgerUnavailable) as refusal:
        requester.tell(confirm.sends.slack, refusal.user_message_in(t))
        return
    requester.open_view(
        client,
        confirm.sends.slack,
        view,
        what="a confirmation",
        failed=t._(
            "This send needs your confirmation, but the confirmation could not be opened (Slack allows "
            "only 3 seconds for it). Nothing was sent: type the command again."
        ),
    )


def open_compose_modal(deps: CommandDeps, requester: Requester, client: WebClient) -> None:
    """Open the form in the person's language, unless they may not send from here (then say why, and open
    nothing)."""
    t = lazy_translator(deps.translator, requester.user_id)
    try:
        deps.sends.sending.authorize(requester.user_id, requester.channel_id)
    except NotAllowed as refusal:
        requester.tell(deps.sends.slack, refusal.user_message_in(t))
        return
    view = with_people_picker(
        compose_modal(
            channel_id=requester.channel_id or "",
            response_url=requester.response_url,
            default_region=deps.default_region,
            options=deps.form_options(),
            t=t,
        ),
        t=t,
    )
    requester.open_view(
        client,
        deps.sends.slack,
        view,
        failed=t._(
            "The form could not be opened (Slack allows only 3 seconds for it). Type `/sms` again, "
            "or send directly with `/sms +34600000001 Your message`."
        ),
    )
