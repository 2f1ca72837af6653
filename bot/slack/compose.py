"""Block Kit of the compose form: the form itself, its live summary, what a submission holds, and the
confirmation shown before a costly send. Pure functions from values to Slack JSON and back.

The form is built from a :class:`ComposeForm`: what the account offers (senders, replies), what the form
opens with (:class:`ComposeInitial`: a shortcut's text, a follow-up's receivers) and any extra blocks a
caller slots in after the receivers field (a people picker). The live summary replaces one block of the
view Slack returned, so whatever else the view holds is kept as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.cost import CostEstimate, UnicodeCulprit
from bot.domain.sms_text import MAX_PARTS, Segmentation, encoding_label, show_char
from bot.i18n import ENGLISH, N_, Translator
from bot.slack.blocks import display_number, escape, slack_date, sms_sections

COMPOSE_CALLBACK_ID = "sms_compose"
INPUT_ACTION_ID = "value"
RECEIVERS_BLOCK = "receivers"
MESSAGE_BLOCK = "message"
SUMMARY_BLOCK = "summary"
SENDER_BLOCK = "sender"
SEND_AT_BLOCK = "send_at"
REPLIES_BLOCK = "allow_replies"
ACCOUNT_DEFAULT_SENDER = "-"  # the select's value for "the account's default sender" (no `sender` sent)
EMPTY_SUMMARY = N_("Type a message to see its length and what it will cost.")
# What views.update takes of a view (Slack returns more: id, hash, state, team_id, ...).
_VIEW_FIELDS = (
    "type",
    "title",
    "blocks",
    "close",
    "submit",
    "private_metadata",
    "callback_id",
    "clear_on_close",
    "notify_on_close",
    "external_id",
    "submit_disabled",
)


@dataclass(frozen=True)
class ComposeOptions:
    """What the OVH account offers the form: its enabled senders, and whether receivers can reply."""

    senders: tuple[str, ...] = ()
    default_sender: str | None = None  # OVH_SMS_SENDER; None: the account's default
    replies: bool = False
    schedule: bool = False  # whether "send later" is offered

    def sender_choices(self, t: Translator = ENGLISH) -> list[tuple[str, str]]:
        """(value, label) of each sender one may pick: the account's default first when no sender is set."""
        choices = [] if self.default_sender else [(ACCOUNT_DEFAULT_SENDER, t._("The account's default"))]
        names = list(self.senders)
        if self.default_sender and self.default_sender not in names:
            names.insert(0, self.default_sender)
        return choices + [(name, name) for name in names]


@dataclass(frozen=True)
class ComposeInitial:
    """What the form opens with (a message shortcut's text, a follow-up's receivers)."""

    receivers: str = ""
    message: str = ""


@dataclass(frozen=True)
class ComposeForm:
    """Everything the form is built from."""

    metadata: dict[str, Any]  # context for the submission: channel_id, response_url, and any caller's keys
    default_region: str | None
    options: ComposeOptions = ComposeOptions()
    initial: ComposeInitial = ComposeInitial()
    extra_blocks: Sequence[dict[str, Any]] = ()  # placed right after the receivers field
    summary: str | None = None  # None: what an empty form says, in the reader's language
    t: Translator = ENGLISH  # the language of the person the form is for


@dataclass(frozen=True)
class ComposeValues:
    """What a submitted (or live) form holds. Extensions read ``state`` for their own blocks."""

    receivers: str = ""
    message: str = ""
    sender: str | None = None  # None: not picked (the field is hidden, or the account's default)
    send_at: int | None = None  # Unix seconds
    allow_replies: bool = False
    state: dict[str, Any] = field(default_factory=dict)


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def compose_view(form: ComposeForm) -> dict[str, Any]:
    """The `/sms` form, in the language of ``form.t``. Context for the submission travels in
    ``private_metadata``."""
    t = form.t
    hint = (
        t._(
            "One or more numbers, separated by commas; numbers without a country code are read as {region} numbers."
        )
        if form.default_region
        else t._(
            "One or more numbers, separated by commas; write numbers with their country code, e.g. {example}."
        )
    )
    receivers_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": INPUT_ACTION_ID,
        "max_length": 3000,
        "placeholder": _plain("+34600000001, +34600000002"),
        "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]},
    }
    message_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": INPUT_ACTION_ID,
        "multiline": True,
        "max_length": 3000,
        "placeholder": _plain(t._("Your message")),
        "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]},
    }
    if form.initial.receivers:
        receivers_input["initial_value"] = form.initial.receivers[:3000]
    if form.initial.message:
        message_input["initial_value"] = form.initial.message[:3000]
    blocks: list[dict[str, Any]] = [
        {
            "type": "input",
            "block_id": RECEIVERS_BLOCK,
            "dispatch_action": True,
            "label": _plain(t._("To")),
            "hint": _plain(hint.format(region=form.default_region, example="+34600000001")),
            "element": receivers_input,
        },
        *form.extra_blocks,
        {
            "type": "input",
            "block_id": MESSAGE_BLOCK,
            "dispatch_action": True,
            "label": _plain(t._("Message")),
            "hint": _plain(
                t._(
                    "Up to {parts} SMS: {plain} plain characters, or {unicode} with emoji or other characters "
                    "outside the SMS alphabet."
                ).format(parts=MAX_PARTS, plain=918, unicode=402)
            ),
            "element": message_input,
        },
        summary_block(form.summary if form.summary is not None else t._(EMPTY_SUMMARY)),
        *_option_blocks(form.options, t),
        _context(t._("The send and OVH's answer are posted in the channel where you typed `/sms`.")),
    ]
    return {
        "type": "modal",
        "callback_id": COMPOSE_CALLBACK_ID,
        "private_metadata": json.dumps(form.metadata),
        "title": _plain(t._("Send an SMS")),
        "submit": _plain(t._("Send")),
        "close": _plain(t._("Cancel")),
        "blocks": blocks,
    }


def compose_modal(
    *,
    channel_id: str,
    response_url: str | None,
    default_region: str | None,
    options: ComposeOptions = ComposeOptions(),
    initial: ComposeInitial = ComposeInitial(),
    t: Translator = ENGLISH,
) -> dict[str, Any]:
    """The form as `/sms` alone opens it, for a channel (and the command's response URL), in ``t``'s
    language."""
    metadata = {"channel_id": channel_id, "response_url": response_url}
    return compose_view(ComposeForm(metadata, default_region, options, initial, t=t))


def _option_blocks(options: ComposeOptions, t: Translator) -> list[dict[str, Any]]:
    """The sender (when there is a choice), "send later", and "allow replies" (where the account can)."""
    blocks: list[dict[str, Any]] = []
    choices = options.sender_choices(t)
    if len(choices) > 1:
        shown = [{"text": _plain(label[:75]), "value": value} for value, label in choices[:100]]
        blocks.append(
            {
                "type": "input",
                "block_id": SENDER_BLOCK,
                "label": _plain(t._("From")),
                "hint": _plain(t._("The name or number the SMS shows as its sender.")),
                "element": {
                    "type": "static_select",
                    "action_id": INPUT_ACTION_ID,
                    "options": shown,
                    "initial_option": shown[0],
                },
            }
        )
    if options.schedule:
        blocks.append(_send_at_block(t))
    if options.replies:
        blocks.append(_replies_block(t))
    return blocks


def _send_at_block(t: Translator) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": SEND_AT_BLOCK,
        "optional": True,
        "label": _plain(t._("Send later")),
        "hint": _plain(t._("Leave empty to send now. OVH holds the SMS until then; you can cancel it.")),
        "element": {"type": "datetimepicker", "action_id": INPUT_ACTION_ID},
    }


def _replies_block(t: Translator) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": REPLIES_BLOCK,
        "optional": True,
        "label": _plain(t._("Replies")),
        "element": {
            "type": "checkboxes",
            "action_id": INPUT_ACTION_ID,
            "options": [
                {
                    "text": _plain(t._("Allow replies")),
                    # Slack takes up to 75 characters here, in every language.
                    "description": _plain(
                        t._("Receivers can answer for 48 h (sent from OVH's short number). No links.")
                    ),
                    "value": "yes",
                }
            ],
        },
    }


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def summary_block(text: str) -> dict[str, Any]:
    """The live summary under the message."""
    return {
        "type": "context",
        "block_id": SUMMARY_BLOCK,
        "elements": [{"type": "mrkdwn", "text": text[:3000]}],
    }


def with_summary(view: dict[str, Any], text: str) -> dict[str, Any]:
    """``view`` as Slack returned it, ready for views.update, with its summary replaced by ``text``."""
    updated = {key: view[key] for key in _VIEW_FIELDS if key in view}
    updated["blocks"] = [
        summary_block(text) if block.get("block_id") == SUMMARY_BLOCK else block for block in view["blocks"]
    ]
    return updated


def summary_text(
    segmentation: Segmentation,
    cost: CostEstimate,
    culprit: UnicodeCulprit | None,
    *,
    bad_receivers: int = 0,
    people: int = 0,
    t: Translator = ENGLISH,
) -> str:
    """The live summary, in ``t``'s language: characters, encoding, parts, receivers, estimated credits;
    and, when a few characters make the text Unicode and so cost more parts, which ones and what keeping
    them costs."""
    length = segmentation.units - segmentation.reserved
    characters = (
        t.ngettext("{count} character + STOP mention", "{count} characters + STOP mention", length)
        if segmentation.reserved
        else t.ngettext("{count} character", "{count} characters", length)
    ).format(count=t.number(length))
    receivers = t.ngettext("{count} receiver", "{count} receivers", cost.receivers).format(
        count=t.number(cost.receivers)
    )
    if bad_receivers:
        receivers += " " + t.ngettext(
            "(+{count} not valid yet)", "(+{count} not valid yet)", bad_receivers
        ).format(count=t.number(bad_receivers))
    if people:
        receivers += " " + t.ngettext(
            "({count} picked: priced as a local number until their phone is read)",
            "({count} picked: priced as local numbers until their phones are read)",
            people,
        ).format(count=t.number(people))
    parts = t.ngettext("{count} SMS", "{count} SMS parts", segmentation.parts).format(
        count=t.number(segmentation.parts)
    )
    estimate = t._("≈ *{credits} credits*").format(credits=t.number(cost.credits, 2))
    lines = [" · ".join((characters, encoding_label(segmentation.encoding), parts, receivers, estimate))]
    if culprit is not None and culprit.parts_with > culprit.parts_without:
        names = ", ".join(escape(show_char(char)) for char in culprit.characters)
        many = len(culprit.characters)
        fields = {"names": names, "parts_with": culprit.parts_with, "parts_without": culprit.parts_without}
        if cost.receivers:
            tip = t.ngettext(
                "{names} makes the text Unicode: {parts_with} SMS parts instead of {parts_without}. "
                "Keeping it costs {credits} more credits.",
                "{names} make the text Unicode: {parts_with} SMS parts instead of {parts_without}. "
                "Keeping them costs {credits} more credits.",
                many,
            ).format(credits=t.number(culprit.extra_credits, 2), **fields)
        else:
            tip = t.ngettext(
                "{names} makes the text Unicode: {parts_with} SMS parts instead of {parts_without}. "
                "Keeping it costs {extra} more SMS parts per receiver.",
                "{names} make the text Unicode: {parts_with} SMS parts instead of {parts_without}. "
                "Keeping them costs {extra} more SMS parts per receiver.",
                many,
            ).format(extra=culprit.parts_with - culprit.parts_without, **fields)
        lines.append(f":bulb: {tip}")
    if cost.assumed:
        lines.append(
            "_" + t._("OVH's rates could not be read: the estimate assumes 1 credit per SMS part.") + "_"
        )
    return "\n".join(lines)


def compose_values(view: dict[str, Any]) -> ComposeValues:
    """What a compose form holds (by block id), whatever Slack sent: anything malformed reads as empty."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return ComposeValues()

    def action(block_id: str) -> dict[str, Any]:
        actions = values.get(block_id)
        found = actions.get(INPUT_ACTION_ID) if isinstance(actions, dict) else None
        return found if isinstance(found, dict) else {}

    def text(block_id: str) -> str:
        value = action(block_id).get("value")
        return value if isinstance(value, str) else ""

    selected = action(SENDER_BLOCK).get("selected_option")
    sender = selected.get("value") if isinstance(selected, dict) else None
    when = action(SEND_AT_BLOCK).get("selected_date_time")
    checked = action(REPLIES_BLOCK).get("selected_options")
    return ComposeValues(
        receivers=text(RECEIVERS_BLOCK),
        message=text(MESSAGE_BLOCK),
        sender=sender if isinstance(sender, str) and sender != ACCOUNT_DEFAULT_SENDER else None,
        send_at=when if isinstance(when, int) and not isinstance(when, bool) else None,
        allow_replies=isinstance(checked, list)
        and any(isinstance(option, dict) and option.get("value") == "yes" for option in checked),
        state=values,
    )


CONFIRM_CALLBACK_ID = "sms_confirm"
_SHOWN_RECEIVERS = 50


@dataclass(frozen=True)
class ConfirmationView:
    """What the confirmation of a costly send shows."""

    request_key: str
    receivers: tuple[str, ...]  # E.164
    message: str
    stop_mention: bool  # OVH appends its STOP mention
    estimate: str  # mrkdwn: parts, encoding, credits
    sender: str  # mrkdwn: who it comes from
    send_at: datetime | None


def confirmation_view(confirm: ConfirmationView, t: Translator = ENGLISH) -> dict[str, Any]:
    """The view that asks the author to confirm a costly send, in ``t``'s language: receivers, the text as
    the phone will show it, the estimate, the sender and the time. Nothing is sent unless it is submitted."""
    count = len(confirm.receivers)
    shown = ", ".join(display_number(number) for number in confirm.receivers[:_SHOWN_RECEIVERS])
    if count > _SHOWN_RECEIVERS:
        shown = t._("{numbers} and {count} more").format(
            numbers=shown, count=t.number(count - _SHOWN_RECEIVERS)
        )
    when = t._("at {date}").format(date=slack_date(confirm.send_at, t)) if confirm.send_at else t._("now")
    stop = "\n_" + t._("OVH adds its STOP mention at the end.") + "_" if confirm.stop_mention else ""
    goes_to = t.ngettext(
        "*This SMS goes to {count} receiver:*", "*This SMS goes to {count} receivers:*", count
    )
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f":warning: {goes_to.format(count=t.number(count))} {shown}"[:3000],
            },
        },
        _context(t._("*The text, as the phone will show it:*")),
        *sms_sections(confirm.message),
        _context(f"{confirm.estimate}{stop}"),
        _context(t._("*From:* {sender}   *Sent:* {when}").format(sender=confirm.sender, when=when)),
    ]
    return {
        "type": "modal",
        "callback_id": CONFIRM_CALLBACK_ID,
        "private_metadata": json.dumps({"request_key": confirm.request_key}),
        "title": _plain(t._("Confirm the SMS")),
        "submit": _plain(t._("Schedule it") if confirm.send_at else t._("Send it")),
        "close": _plain(t._("Back")),
        "blocks": blocks[:100],
    }


def expired_view(t: Translator = ENGLISH) -> dict[str, Any]:
    """What a confirmation shows when the send it confirms is no longer kept (a day passed)."""
    return {
        "type": "modal",
        "title": _plain(t._("Confirm the SMS")),
        "close": _plain(t._("Close")),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": t._("This confirmation is out of date, so nothing was sent. Type `/sms` again."),
                },
            }
        ],
    }
