"""Block Kit: every message and view the bot shows. Pure functions from domain data to Slack JSON.

User text placed in mrkdwn always goes through :func:`escape`, so an SMS text cannot ping `<!channel>`,
mention people or disguise a link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import phonenumbers

from bot.domain.records import SendRecord, SendStatus

SECTION_LIMIT = 3000  # characters in a section's text
MAX_BLOCKS = 50  # blocks in a message
SHOWN_RECEIVERS = 20  # numbers named in a parent message; the thread lists them all
MESSAGE_LIMIT = 40_000  # characters in a message

Blocks = list[dict[str, Any]]


@dataclass(frozen=True)
class SlackMessage:
    """A message's notification text (also shown where blocks cannot be) and its blocks."""

    text: str
    blocks: Blocks


def escape(text: str) -> str:
    """Escape user text for mrkdwn: only `&`, `<` and `>` have control meaning in Slack."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo Slack's escaping of slash-command text, to get back exactly what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def display_number(e164: str) -> str:
    """``+34600000001`` as people read it: ``+34 600 00 00 01``."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def _numbers(
    e164s: Iterable[str], limit: int | None = SHOWN_RECEIVERS, labels: dict[str, str] | None = None
) -> str:
    """Numbers as people read them, comma-separated; past ``limit`` (None: no limit), "and N more".

    A number reached through a person or a contact shows who it is first: ``@alice (+34 600 00 00 01)``
    (the name as plain text, so that the audit does not ping the people it names).
    """
    numbers = list(e164s)
    labels = labels or {}
    shown = ", ".join(_labelled(n, labels.get(n)) for n in numbers[:limit])
    if limit is not None and len(numbers) > limit:
        shown += f" and {len(numbers) - limit:,} more"
    return shown or "none"


def _labelled(e164: str, label: str | None) -> str:
    return f"{escape(label)} ({display_number(e164)})" if label else display_number(e164)


def _skipped_line(record: SendRecord) -> str:
    """The group members a send did not go to, and why ("" when none)."""
    skipped = record.skipped()
    if not skipped:
        return ""
    shown = "; ".join(f"{escape(who)} {escape(why)}" for who, why in skipped[:SHOWN_RECEIVERS])
    if len(skipped) > SHOWN_RECEIVERS:
        shown += f"; and {len(skipped) - SHOWN_RECEIVERS:,} more"
    return f"\n:no_mobile_phones: *Not sent to ({len(skipped):,}):* {shown}"


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (a cut is for notification texts and notes, never
    for what the audit trail promises)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cut_at(line: str, limit: int) -> int:
    """Where to cut ``line`` so that its head fits in ``limit``: after a separator if one is near, and
    never inside an escape (`&amp;`) or a `<…>` mention or link, which Slack would show broken."""
    cut = limit
    for separator in (", ", " "):
        at = line.rfind(separator, limit // 2, limit)
        if at != -1:
            cut = at + len(separator)
            break
    amp, semi = line.rfind("&", 0, cut), line.rfind(";", 0, cut)
    if amp > semi and amp >= cut - 5:
        cut = amp
    opening, closing = line.rfind("<", 0, cut), line.rfind(">", 0, cut)
    if opening > closing and opening > 0:
        cut = opening
    return cut


def _chunks(text: str, limit: int, prefix: str = "") -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at line ends where it can be; a line too
    long for what room is left is split (after a comma or a space), never cut short. The rest of a split
    line starting with ``prefix`` (a quote mark) starts with it too."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        carry = prefix if prefix and line.startswith(prefix) else ""
        while True:
            room = limit - len(current) - (1 if current else 0)
            if len(line) <= room:
                current = f"{current}\n{line}" if current else line
                break
            cut = _cut_at(line, room) if room > 200 else 0
            if cut > len(carry):
                current = f"{current}\n{line[:cut]}" if current else line[:cut]
                line = carry + line[cut:]
            elif not current:  # nowhere good to cut (cannot happen with escaped text): cut anywhere
                current, line = line[:limit], carry + line[limit:]
            chunks.append(current)
            current = ""
    chunks.append(current)
    return chunks


# Characters that change the direction of the text after them: in the audit, an override could make the
# message read backwards (or a number look like another), so each shows as its code point instead.
_BIDI_CONTROLS = {
    chr(code): f"[U+{code:04X}]"
    for code in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}
_BIDI = re.compile("[" + "".join(_BIDI_CONTROLS) + "]")


def _quote(text: str) -> str:
    """``text`` (an SMS, exactly as sent) as a mrkdwn quote: escaped, direction controls shown visibly."""
    shown = _BIDI.sub(lambda match: _BIDI_CONTROLS[match.group()], escape(text))
    return "\n".join("> " + line if line else ">" for line in shown.split("\n"))


def sms_sections(text: str) -> Blocks:
    """An SMS text as the phone shows it, quoted (escaped, direction controls shown): whole, over as many
    sections as it needs."""
    return _sections(_quote(text), prefix="> ")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": shorten(text, SECTION_LIMIT)}}


def _sections(text: str, prefix: str = "") -> Blocks:
    """As many sections as ``text`` needs, cut at line ends: nothing is cut off."""
    return [_section(chunk) for chunk in _chunks(text, SECTION_LIMIT, prefix)]


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": shorten(text, SECTION_LIMIT)}]}


def _block_chars(block: dict[str, Any]) -> int:
    return len(_block_text(block))


def _messages(text: str, blocks: Blocks, footer: dict[str, Any] | None = None) -> list[SlackMessage]:
    """``blocks`` (then ``footer``) over as many messages as Slack's limits need: MAX_BLOCKS blocks and
    MESSAGE_LIMIT characters each. Every message after the first says it continues the one before."""
    all_blocks = [*blocks, *([footer] if footer else [])]
    groups: list[Blocks] = [[]]
    size = 0
    for block in all_blocks:
        chars = _block_chars(block)
        # Room is kept in each message for the "continued" context a later one starts with.
        if groups[-1] and (len(groups[-1]) >= MAX_BLOCKS - 1 or size + chars > MESSAGE_LIMIT - 100):
            groups.append([])
            size = 0
        groups[-1].append(block)
        size += chars
    if len(groups) == 1:
        return [SlackMessage(text=text, blocks=groups[0])]
    count = len(groups)
    return [
        SlackMessage(
            text=text if index == 1 else f"{text} (part {index} of {count})",
            blocks=group if index == 1 else [_context(f"_Continued, part {index} of {count}_"), *group],
        )
        for index, group in enumerate(groups, start=1)
    ]


def slack_date(moment: datetime) -> str:
    """A date and time each person reads in their own time zone (UTC in the fallback text)."""
    stamp = int(moment.timestamp())
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _credits(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


_HEADLINE = {
    SendStatus.PENDING: (":hourglass_flowing_sand:", "is sending an SMS to"),
    SendStatus.SENT: (":outbox_tray:", "sent an SMS to"),
    SendStatus.FAILED: (":x:", "could not send an SMS to"),
    SendStatus.UNKNOWN: (":grey_question:", "tried to send an SMS (outcome unknown) to"),
    SendStatus.CANCELLED: (":no_entry_sign:", "scheduled, then cancelled, an SMS to"),
}
CANCEL_ACTION_ID = "sms_cancel_scheduled"


# Said first in every parent message and thread of a simulated send (OVH_ENDPOINT=simulator).
SIMULATED_LINE = (
    ":test_tube: *Simulated send: no SMS was sent.* OVH_ENDPOINT=simulator plays OVH on the bot's machine; "
    "the job ids, credits and receivers below are made up."
)


def audit_parent(record: SendRecord) -> SlackMessage:
    """The channel message that opens a send's audit thread: who, to whom, and the whole text.

    Past SHOWN_RECEIVERS numbers the others are counted, and all of them are listed in the thread. The
    text is never cut: a long one (918 `&`s are 4,590 characters once escaped) takes several sections.
    """
    icon, verb = _HEADLINE[record.status]
    if record.send_at is not None and record.status is SendStatus.SENT:
        icon, verb = ":alarm_clock:", f"scheduled for {slack_date(record.send_at)} an SMS to"
    shown = _numbers(record.receivers, labels=record.labels())
    if len(record.receivers) > SHOWN_RECEIVERS:
        shown += " (all listed in the thread)"
    headline = f"<@{record.user_id}> {verb} {shown}"
    simulated = f"{SIMULATED_LINE}\n" if record.simulated else ""
    return SlackMessage(
        text=shorten(f"[Simulated] {headline}" if record.simulated else headline, 3000),
        blocks=_sections(
            f"{simulated}{icon} {headline}{_skipped_line(record)}\n{_quote(record.message)}", prefix="> "
        ),
    )


FOLLOW_UP_ACTION_ID = "sms_follow_up"


def follow_up_actions(record: SendRecord) -> dict[str, Any]:
    """The "Follow up" button of a send's audit thread. Its value only names the send: whoever clicks, the
    ledger row says what to follow up, and whether the click is allowed is checked again."""
    return {
        "type": "actions",
        "block_id": f"follow_up_{record.id}",
        "elements": [
            {
                "type": "button",
                "action_id": FOLLOW_UP_ACTION_ID,
                "text": {"type": "plain_text", "text": "Follow up"},
                "value": str(record.id),
            }
        ],
    }


def audit_details(
    record: SendRecord, note: str | None = None, *, follow_up: bool = False
) -> list[SlackMessage]:
    """The thread reply (or replies, when Slack's limits need more than one) with OVH's answer: job ids,
    credits, every receiver accepted and rejected, or the reason; ``note`` first, for what recovery found.
    With ``follow_up``, the reply ends with the thread's "Follow up" button (see :func:`follow_up_actions`).
    """
    lines: list[str] = [SIMULATED_LINE] if record.simulated else []
    if note:
        lines.append(f":arrows_counterclockwise: *Update:* {escape(note)}")
    if record.status is SendStatus.SENT:
        lines.append(
            ":white_check_mark: *Sent by the simulator*"
            if record.simulated
            else ":white_check_mark: *Sent by OVH*"
        )
    elif record.status is SendStatus.FAILED:
        lines.append(":x: *Not sent*")
    elif record.status is SendStatus.UNKNOWN:
        lines.append(":grey_question: *Outcome unknown*")
    else:
        lines.append(":hourglass_flowing_sand: *Waiting for OVH*")
    lines += _schedule_lines(record)
    if record.error_message:
        lines.append(f"*Reason:* {escape(record.error_message)}")
    if record.ovh_job_ids:
        lines.append(f"*OVH job id(s):* {', '.join(str(i) for i in record.ovh_job_ids)}")
    estimated = (
        f" (estimated {_credits(record.estimated_credits)})" if record.estimated_credits is not None else ""
    )
    if record.status in (SendStatus.SENT, SendStatus.FAILED) and record.ovh_service:
        lines.append(
            f"*Credits used:* {_credits(record.credits_used)}{estimated}   "
            f"*Credits left:* {_credits(record.credits_left)}"
        )
    elif estimated:
        lines.append(f"*Credits estimated:* {_credits(record.estimated_credits)}")
    accounted = len(record.accepted_receivers) + len(record.rejected_receivers)
    labels = record.labels()
    if len(record.receivers) > SHOWN_RECEIVERS and accounted < len(record.receivers):
        # The parent names only the first ones: whoever was asked for is listed here.
        lines.append(f"*To ({len(record.receivers):,}):* {_numbers(record.receivers, None, labels)}")
    if record.accepted_receivers:
        lines.append(
            f"*Accepted ({len(record.accepted_receivers):,}):* "
            f"{_numbers(record.accepted_receivers, None, labels)}"
        )
    if record.rejected_receivers:
        lines.append(
            f"*Rejected by OVH ({len(record.rejected_receivers):,}):* "
            f"{_numbers(record.rejected_receivers, None, labels)}"
        )
    footer = f"Send #{record.id} · OVH tag `{record.tag}`"
    if record.sender:
        footer += f" · sender `{escape(record.sender)}`"
    if record.ovh_service:
        footer += f" · service `{escape(record.ovh_service)}`"
    summary = " ".join(lines[:2]).replace("*", "")
    text = f"Update on send #{record.id}: {note}" if note else shorten(summary, 300)
    if record.simulated and note:
        text = f"[Simulated] {text}"
    actions = [follow_up_actions(record)] if follow_up else []
    blocks = [*_sections("\n".join(lines)), *_cancel_button(record), *actions]
    return _messages(shorten(text, 3000), blocks, _context(footer))


def _schedule_lines(record: SendRecord) -> list[str]:
    """When a scheduled send goes, and who cancelled it and what came of that."""
    if record.send_at is None:
        return []
    if record.status is SendStatus.CANCELLED:
        lines = [f":no_entry_sign: *Cancelled* by <@{record.cancelled_by}>: OVH will not send it."]
    elif record.cancelled_at is not None:
        lines = [f"*Cancel asked* by <@{record.cancelled_by}>."]
    else:
        lines = [f":alarm_clock: *OVH sends it* {slack_date(record.send_at)}."]
    if record.cancel_note:
        lines.append(escape(record.cancel_note))
    return lines


def _cancel_button(record: SendRecord) -> Blocks:
    """A scheduled send's Cancel button, while OVH holds it. Its value names the send; the ledger says the
    rest (and who may cancel it) when it is clicked."""
    if not (
        record.status is SendStatus.SENT
        and record.cancelled_at is None
        and record.scheduled(datetime.now(UTC))
    ):
        return []
    return [
        {
            "type": "actions",
            "block_id": "scheduled",
            "elements": [
                {
                    "type": "button",
                    "action_id": CANCEL_ACTION_ID,
                    "text": {"type": "plain_text", "text": "Cancel"},
                    "style": "danger",
                    "value": str(record.id),
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Cancel this SMS?"},
                        "text": {
                            "type": "plain_text",
                            "text": "OVH will not send it. Only its author or an admin can.",
                        },
                        "confirm": {"type": "plain_text", "text": "Cancel the SMS"},
                        "deny": {"type": "plain_text", "text": "Keep it"},
                    },
                }
            ],
        }
    ]


class PrivateReason(Enum):
    """Why a send's result goes to its author alone instead of a thread in the channel."""

    NO_CHANNEL = "no_channel"  # the send names no channel: `smsbot send` without --channel
    CHANNEL_CLOSED = "channel_closed"  # the bot cannot post there: a private channel, a DM, archived


NOT_IN_CHANNEL_HINT = (
    ":information_source: I could not post the audit trail in this conversation, so only you see this. "
    "Invite me with `/invite @smsbot` to keep the record in the channel."
)
NO_CHANNEL_HINT = (
    ":information_source: Sent from the command line without `--channel`: this is your copy of the "
    "audit trail."
)
LATE_CHANNEL_CLOSED_HINT = (
    ":information_source: This result could not be reported when the SMS was sent, and I cannot post "
    "in its channel, so only you see it. Invite me there with `/invite @smsbot` to keep the record in "
    "the channel."
)
LATE_NO_CHANNEL_HINT = (
    ":information_source: This result could not be reported when the SMS was sent from the command "
    "line: this is your copy of the audit trail."
)


def private_result(
    record: SendRecord, reason: PrivateReason, *, late: bool = False, note: str | None = None
) -> list[SlackMessage]:
    """The whole result for the person alone, with a hint that says why it is not in a channel: one
    message, or more when Slack's limits need them (nothing is cut).

    ``late`` is for a result reported afterwards (by recovery), not at the time of the send; ``note``
    is what recovery found.
    """
    parent = audit_parent(record)
    details = audit_details(record, note)
    if reason is PrivateReason.NO_CHANNEL and record.source == "cli":
        hint = LATE_NO_CHANNEL_HINT if late else NO_CHANNEL_HINT
    else:  # a closed channel, or no channel where a request from Slack always has one
        hint = LATE_CHANNEL_CLOSED_HINT if late else NOT_IN_CHANNEL_HINT
    # The parts of a multi-message reply start with a "continued" context; one private answer needs none.
    blocks = [
        *parent.blocks,
        *(block for message in details for block in message.blocks if not _is_continued(block)),
        _context(hint),
    ]
    return _messages(shorten(f"{parent.text}. {details[0].text}", 3000), blocks)


def _is_continued(block: dict[str, Any]) -> bool:
    return block.get("type") == "context" and _block_text(block).startswith("_Continued, part ")


def _block_text(block: dict[str, Any]) -> str:
    text = block.get("text") or (block.get("elements") or [{}])[0]
    return str(text.get("text", "")) if isinstance(text, dict) else ""


def error_message(text: str) -> SlackMessage:
    """An ephemeral answer for something the person can fix.

    ``text`` is plain text, as every ``user_message`` is (`code` spans allowed): it may quote what the
    person typed, so it is escaped here, at the edge, where it becomes mrkdwn.
    """
    text = escape(text)
    return SlackMessage(text=text, blocks=[_section(f":warning: {text}")])


def info_message(text: str) -> SlackMessage:
    """An ephemeral answer to a question: mrkdwn ``text`` built by the bot, user parts escaped.

    A long answer is split at line ends into sections of at most SECTION_LIMIT characters. Should it not
    fit in one message (MAX_BLOCKS blocks, MESSAGE_LIMIT characters), the middle goes, so that its first
    and last lines (a summary) still show, and a note in its place says how many lines are left out.
    """
    chunks = _chunks(text, SECTION_LIMIT)
    if len(chunks) <= MAX_BLOCKS and len(text) <= MESSAGE_LIMIT - 100:
        return SlackMessage(text=shorten(text, SECTION_LIMIT), blocks=[_section(c) for c in chunks])
    last, kept, size = chunks[-1], [], len(chunks[-1]) + 200
    for chunk in chunks[:-1]:
        if len(kept) >= MAX_BLOCKS - 2 or size + len(chunk) > MESSAGE_LIMIT - 100:
            break
        kept.append(chunk)
        size += len(chunk)
    hidden = sum(chunk.count("\n") + 1 for chunk in chunks[len(kept) : -1])
    note = _context(f"_… {hidden:,} more line(s) not shown here: too long for one Slack message._")
    blocks = [*(_section(c) for c in kept), note, _section(last)]
    return SlackMessage(text=shorten(text, SECTION_LIMIT), blocks=blocks)
