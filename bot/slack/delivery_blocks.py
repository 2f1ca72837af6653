"""Block Kit for what happens after a send: the status message in the thread, the parent's one-glance
summary, replies (with their "Reply by SMS" button), STOP, and the credit alert. Pure functions.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.domain.deliveries import DeliveryState, ReceiverStatus, duration_words, summary
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


def _hours(validity: timedelta) -> str:
    hours = validity.total_seconds() / 3600
    return f"{hours:g} h"


def status_line(status: ReceiverStatus, validity: timedelta) -> str:
    """One receiver's line: its number, then what became of its SMS, in words."""
    number = display_number(status.receiver) if status.receiver else "_(number not known yet)_"
    if status.state is DeliveryState.DELIVERED:
        spent = f" in {duration_words(status.took)}" if status.took is not None else ""
        return f":white_check_mark: {number}: delivered{spent}"
    if status.state is DeliveryState.FAILED:
        reason = f": {escape(status.reason)}" if status.reason else ""
        return f":x: {number}: not delivered{reason}"
    if status.state is DeliveryState.EXPIRED:
        return f":hourglass: {number}: no final report after {_hours(validity)}; no longer followed"
    if status.state is DeliveryState.GONE:
        return f":grey_question: {number}: OVH no longer has this SMS, so its outcome is unknown"
    if status.buffered:
        return f":hourglass_flowing_sand: {number}: pending, the phone is off or out of reach (the operator keeps trying)"
    return f":hourglass_flowing_sand: {number}: pending"


def status_message(send_id: int, statuses: list[ReceiverStatus], validity: timedelta) -> SlackMessage:
    """The status message of a send's thread: a summary, then one line per receiver."""
    headline = f":satellite_antenna: *Delivery:* {summary(statuses)}"
    lines = [status_line(status, validity) for status in statuses[:SHOWN_STATUSES]]
    if len(statuses) > SHOWN_STATUSES:
        rest = statuses[SHOWN_STATUSES:]
        lines.append(f"… and {len(rest):,} more: {summary(rest)}")
    if not statuses:
        lines.append("_OVH gave no SMS ids for this send, so there is nothing to follow._")
    final = all(status.state.final for status in statuses)
    footer = (
        "Final: nothing more will change."
        if final
        else f"Updated here as OVH reports; followed for up to {_hours(validity)} after the send."
    )
    blocks = _sections("\n".join([headline, *lines]))[: MAX_BLOCKS - 1]
    blocks.append(_context(f"{footer} · Send #{send_id}"))
    return SlackMessage(text=shorten(f"Delivery: {summary(statuses)}", 300), blocks=blocks)


def with_summary(parent: SlackMessage, statuses: list[ReceiverStatus]) -> SlackMessage:
    """The parent message with the one-glance delivery summary under it."""
    line = _context(f":satellite_antenna: {summary(statuses)}")
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
) -> SlackMessage:
    """A reply someone sent by SMS, quoted in full (escaped), with who sent it and a "Reply by SMS" button."""
    shown = display_number(number) if number.startswith("+") else f"`{escape(number)}`"
    known = f" ({escape(who)})" if who else ""
    heading = f":incoming_envelope: *Reply from {shown}*{known}"
    if not matched:
        heading += " _(no send to this number was found)_"
    body = _quote(message) if message.strip() else "_(an empty message)_"
    blocks: list[dict[str, Any]] = _sections(f"{heading}\n{body}", prefix="> ")
    if stopped:
        blocks.append(
            _context(
                f":no_entry_sign: This reply is a STOP: {shown} is opted out, and no SMS will go to it until "
                f"an admin types `/sms optin {escape(number)}`."
            )
        )
    elif button and number.startswith("+"):
        blocks.append(
            {
                "type": "actions",
                "block_id": "sms_reply",
                "elements": [
                    {
                        "type": "button",
                        "action_id": REPLY_ACTION_ID,
                        "text": {"type": "plain_text", "text": "Reply by SMS"},
                        "value": str(reply_id),
                    }
                ],
            }
        )
    text = f"Reply from {number}: {message}" if message.strip() else f"Reply from {number} (empty)"
    if stopped:
        text = f"{number} replied STOP and is opted out"
    return SlackMessage(text=shorten(text, 300), blocks=blocks[:MAX_BLOCKS])


def credit_alert(credits_left: float, threshold: float, service: str | None) -> SlackMessage:
    """The warning that the SMS credits fell below ``SMS_CREDITS_ALERT_BELOW``."""
    left = f"{credits_left:,.2f}".rstrip("0").rstrip(".")
    on = f" on `{escape(service)}`" if service else ""
    text = (
        f":warning: *SMS credits are running low*{on}: {left} left (alert below {threshold:g}). "
        f"Sends fail once they run out. Buy more in the <{CREDITS_URL}|OVHcloud Control Panel> "
        "(Telecom → SMS → your service → Buy credits)."
    )
    return SlackMessage(text=f"SMS credits are running low: {left} left", blocks=_sections(text))
