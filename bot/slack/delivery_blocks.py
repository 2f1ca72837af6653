"""Block Kit for what happens after a send: the status message in the thread, the parent's one-glance
summary, replies (with their "Reply by SMS" button), STOP, and the credit alert. Pure functions.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.domain.deliveries import DeliveryState, ReceiverStatus, duration_words, summary
from bot.i18n import ENGLISH, Translator, in_
from bot.slack.blocks import (
    MAX_BLOCKS,
    SlackMessage,
    _context,
    _quote,
    _sections,
    display_number,
    escape,
    shorten,
)

REPLY_ACTION_ID = "sms_reply_by_sms"
# Receivers listed one per line in a status message; past this the others are counted (one Slack message
# is updated in place, so it cannot grow into several).
SHOWN_STATUSES = 200
# Where to buy credits: the OVHcloud Control Panel.
CREDITS_URL = "https://www.ovh.com/manager/#/telecom/sms"


def _hours(validity: timedelta, t: Translator) -> str:
    return f"{t.number(validity.total_seconds() / 3600, 2)} h"  # 1,5 h in Spanish


def _summary(statuses: list[ReceiverStatus], t: Translator) -> str:
    # The domain's one-glance line: a Text (told in the reader's language), or its English string.
    return in_(summary(statuses), t)


def status_line(status: ReceiverStatus, validity: timedelta, t: Translator = ENGLISH) -> str:
    """One receiver's line: its number, then what became of its SMS, in words."""
    number = display_number(status.receiver) if status.receiver else t._("_(number not known yet)_")
    if status.state is DeliveryState.DELIVERED:
        if status.took is None:
            return ":white_check_mark: " + t._("{number}: delivered").format(number=number)
        line = t._("{number}: delivered in {took}").format(number=number, took=duration_words(status.took))
        return f":white_check_mark: {line}"
    if status.state is DeliveryState.FAILED:
        if not status.reason:
            return ":x: " + t._("{number}: not delivered").format(number=number)
        # OVH's reason: our words for its common codes (marked), or OVH's own description as it gave it.
        reason = escape(in_(status.reason, t))
        return ":x: " + t._("{number}: not delivered: {reason}").format(number=number, reason=reason)
    if status.state is DeliveryState.EXPIRED:
        line = t._("{number}: no final report after {hours}; no longer followed")
        return ":hourglass: " + line.format(number=number, hours=_hours(validity, t))
    if status.state is DeliveryState.GONE:
        line = t._("{number}: OVH no longer has this SMS, so its outcome is unknown")
        return ":grey_question: " + line.format(number=number)
    if status.buffered:
        line = t._("{number}: pending, the phone is off or out of reach (the operator keeps trying)")
        return ":hourglass_flowing_sand: " + line.format(number=number)
    return ":hourglass_flowing_sand: " + t._("{number}: pending").format(number=number)


def status_message(
    send_id: int, statuses: list[ReceiverStatus], validity: timedelta, t: Translator = ENGLISH
) -> SlackMessage:
    """The status message of a send's thread: a summary, then one line per receiver (in ``t``'s language:
    the send's)."""
    told = _summary(statuses, t)
    headline = ":satellite_antenna: " + t._("*Delivery:* {summary}").format(summary=told)
    lines = [status_line(status, validity, t) for status in statuses[:SHOWN_STATUSES]]
    if len(statuses) > SHOWN_STATUSES:
        rest = statuses[SHOWN_STATUSES:]
        more = t.ngettext("… and {count} more: {summary}", "… and {count} more: {summary}", len(rest))
        lines.append(more.format(count=t.number(len(rest)), summary=_summary(rest, t)))
    if not statuses:
        lines.append(t._("_OVH gave no SMS ids for this send, so there is nothing to follow._"))
    final = all(status.state.final for status in statuses)
    footer = (
        t._("Final: nothing more will change.")
        if final
        else t._("Updated here as OVH reports; followed for up to {hours} after the send.").format(
            hours=_hours(validity, t)
        )
    )
    blocks = _sections("\n".join([headline, *lines]))[: MAX_BLOCKS - 1]
    send = t._("Send #{id}").format(id=send_id)
    blocks.append(_context(f"{footer} · {send}"))
    text = t._("Delivery: {summary}").format(summary=told)
    return SlackMessage(text=shorten(text, 300), blocks=blocks)


def with_summary(
    parent: SlackMessage, statuses: list[ReceiverStatus], t: Translator = ENGLISH
) -> SlackMessage:
    """The parent message with the one-glance delivery summary under it."""
    line = _context(f":satellite_antenna: {_summary(statuses, t)}")
    blocks = [*parent.blocks[: MAX_BLOCKS - 1], line]
    return SlackMessage(text=parent.text, blocks=blocks)


def reply_message(
    reply_id: int,
    number: str,
    message: str,
    *,
    who: str | None,
    stopped: bool,
    matched: bool,
    button: bool = True,
    t: Translator = ENGLISH,
) -> SlackMessage:
    """A reply someone sent by SMS, quoted in full (escaped), with who sent it and a "Reply by SMS" button;
    the bot's words in ``t``'s language (its send's, or SMS_LANGUAGE's when it matches none)."""
    shown = display_number(number) if number.startswith("+") else f"`{escape(number)}`"
    heading = ":incoming_envelope: " + t._("*Reply from {number}*").format(number=shown)
    if who:
        heading += f" ({escape(who)})"
    if not matched:
        heading += " " + t._("_(no send to this number was found)_")
    body = _quote(message) if message.strip() else t._("_(an empty message)_")
    blocks: list[dict[str, Any]] = _sections(f"{heading}\n{body}", prefix="> ")
    if stopped:
        stop = t._(
            "This reply is a STOP: {number} is opted out, and no SMS will go to it until an admin types "
            "`/sms optin {typed}`."
        )
        blocks.append(_context(":no_entry_sign: " + stop.format(number=shown, typed=escape(number))))
    elif button and number.startswith("+"):
        blocks.append(
            {
                "type": "actions",
                "block_id": "sms_reply",
                "elements": [
                    {
                        "type": "button",
                        "action_id": REPLY_ACTION_ID,
                        "text": {"type": "plain_text", "text": t._("Reply by SMS")},
                        "value": str(reply_id),
                    }
                ],
            }
        )
    if stopped:
        text = t._("{number} replied STOP and is opted out").format(number=number)
    elif message.strip():
        text = t._("Reply from {number}: {message}").format(number=number, message=message)
    else:
        text = t._("Reply from {number} (empty)").format(number=number)
    return SlackMessage(text=shorten(text, 300), blocks=blocks[:MAX_BLOCKS])


def credit_alert(
    credits_left: float, threshold: float, service: str | None, t: Translator = ENGLISH
) -> SlackMessage:
    """The warning that the SMS credits fell below ``SMS_CREDITS_ALERT_BELOW`` (in SMS_LANGUAGE)."""
    left = t.number(credits_left, 2)
    if service:
        headline = t._("*SMS credits are running low* on `{service}`: {left} left (alert below {threshold}).")
    else:
        headline = t._("*SMS credits are running low*: {left} left (alert below {threshold}).")
    advice = t._(
        "Sends fail once they run out. Buy more in the {panel} (Telecom → SMS → your service → Buy credits)."
    )
    panel = "<" + CREDITS_URL + "|" + t._("OVHcloud Control Panel") + ">"
    text = (
        ":warning: "
        + headline.format(service=escape(service or ""), left=left, threshold=t.number(threshold, 2))
        + " "
        + advice.format(panel=panel)
    )
    notification = t._("SMS credits are running low: {left} left").format(left=left)
    return SlackMessage(text=notification, blocks=_sections(text))
