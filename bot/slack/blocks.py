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
from bot.i18n import ENGLISH, N_, Translatable, Translator, in_, translator
from bot.i18n.stored import told

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


def told_in(record: SendRecord) -> Translator:
    """The language of everything posted about a send: its requester's, as the ledger keeps it (for a send
    from the command line, the terminal's or the team's; English for one written before languages were
    kept)."""
    return translator(record.language or ENGLISH.language)


def _more(shown: str, more: int, t: Translator) -> str:
    return t.ngettext("{shown} and {count} more", "{shown} and {count} more", more).format(
        shown=shown, count=t.number(more)
    )


def _numbers(
    e164s: Iterable[str],
    limit: int | None = SHOWN_RECEIVERS,
    labels: dict[str, str] | None = None,
    t: Translator = ENGLISH,
) -> str:
    """Numbers as people read them, comma-separated; past ``limit`` (None: no limit), "and N more".

    A number reached through a person or a contact shows who it is first: ``@alice (+34 600 00 00 01)``
    (the name as plain text, so that the audit does not ping the people it names).
    """
    numbers = list(e164s)
    labels = labels or {}
    shown = ", ".join(_labelled(n, labels.get(n)) for n in numbers[:limit])
    if limit is not None and len(numbers) > limit:
        shown = _more(shown, len(numbers) - limit, t)
    return shown or t._("none")


def _labelled(e164: str, label: str | None) -> str:
    return f"{escape(label)} ({display_number(e164)})" if label else display_number(e164)


def _skipped_line(record: SendRecord, t: Translator = ENGLISH) -> str:
    """The group members a send did not go to, and why ("" when none)."""
    skipped = record.skipped()
    if not skipped:
        return ""
    # Why is a reason of bot.domain.recipients, kept in English: told in the thread's language if marked.
    shown = "; ".join(f"{escape(who)} {escape(t._(why))}" for who, why in skipped[:SHOWN_RECEIVERS])
    if len(skipped) > SHOWN_RECEIVERS:
        shown = _more(shown + ";", len(skipped) - SHOWN_RECEIVERS, t)
    line = t._("*Not sent to ({count}):* {shown}").format(count=t.number(len(skipped)), shown=shown)
    return f"\n:no_mobile_phones: {line}"


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


CONTINUED = "continued"  # the block id of the context a later part of a message starts with


def _messages(
    text: str, blocks: Blocks, footer: dict[str, Any] | None = None, t: Translator = ENGLISH
) -> list[SlackMessage]:
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
            text=text
            if index == 1
            else t._("{text} (part {index} of {count})").format(text=text, index=index, count=count),
            blocks=group if index == 1 else [_continued(index, count, t), *group],
        )
        for index, group in enumerate(groups, start=1)
    ]


def _continued(index: int, count: int, t: Translator) -> dict[str, Any]:
    line = t._("_Continued, part {index} of {count}_").format(index=index, count=count)
    return {**_context(line), "block_id": f"{CONTINUED}_{index}"}


def slack_date(moment: datetime, t: Translator = ENGLISH) -> str:
    """A date and time each person reads in their own time zone (UTC in the fallback text)."""
    stamp = int(moment.timestamp())
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    # Slack fills in {date_short_pretty} and {time}; only the words between them are ours.
    words = t._("{date_short_pretty} at {time}")
    return f"<!date^{stamp}^{words}|{fallback}>"


def _credits(value: float | None, t: Translator = ENGLISH) -> str:
    if value is None:
        return t._("unknown")
    return t.number(value, 2)


_HEADLINE = {
    SendStatus.PENDING: (":hourglass_flowing_sand:", N_("{who} is sending an SMS to {receivers}")),
    SendStatus.SENT: (":outbox_tray:", N_("{who} sent an SMS to {receivers}")),
    SendStatus.FAILED: (":x:", N_("{who} could not send an SMS to {receivers}")),
    SendStatus.UNKNOWN: (
        ":grey_question:",
        N_("{who} tried to send an SMS (outcome unknown) to {receivers}"),
    ),
    SendStatus.CANCELLED: (":no_entry_sign:", N_("{who} scheduled, then cancelled, an SMS to {receivers}")),
}
CANCEL_ACTION_ID = "sms_cancel_scheduled"


# Said first in every parent message and thread of a simulated send (OVH_ENDPOINT=simulator).
SIMULATED_LINE = N_(
    ":test_tube: *Simulated send: no SMS was sent.* OVH_ENDPOINT=simulator plays OVH on the bot's machine; "
    "the job ids, credits and receivers below are made up."
)


def _simulated(text: str, t: Translator) -> str:
    return t._("[Simulated] {text}").format(text=text)


def audit_parent(record: SendRecord) -> SlackMessage:
    """The channel message that opens a send's audit thread: who, to whom, and the whole text, in the
    send's language (see :func:`told_in`).

    Past SHOWN_RECEIVERS numbers the others are counted, and all of them are listed in the thread. The
    text is never cut: a long one (918 `&`s are 4,590 characters once escaped) takes several sections.
    """
    t = told_in(record)
    icon, template = _HEADLINE[record.status]
    when = ""
    if record.send_at is not None and record.status is SendStatus.SENT:
        icon, template = ":alarm_clock:", N_("{who} scheduled for {when} an SMS to {receivers}")
        when = slack_date(record.send_at, t)
    shown = _numbers(record.receivers, labels=record.labels(), t=t)
    if len(record.receivers) > SHOWN_RECEIVERS:
        shown = t._("{receivers} (all listed in the thread)").format(receivers=shown)
    headline = t._(template).format(who=f"<@{record.user_id}>", when=when, receivers=shown)
    simulated = f"{t._(SIMULATED_LINE)}\n" if record.simulated else ""
    return SlackMessage(
        text=shorten(_simulated(headline, t) if record.simulated else headline, 3000),
        blocks=_sections(
            f"{simulated}{icon} {headline}{_skipped_line(record, t)}\n{_quote(record.message)}", prefix="> "
        ),
    )


FOLLOW_UP_ACTION_ID = "sms_follow_up"


def follow_up_actions(record: SendRecord, t: Translator = ENGLISH) -> dict[str, Any]:
    """The "Follow up" button of a send's audit thread. Its value only names the send: whoever clicks, the
    ledger row says what to follow up, and whether the click is allowed is checked again."""
    return {
        "type": "actions",
        "block_id": f"follow_up_{record.id}",
        "elements": [
            {
                "type": "button",
                "action_id": FOLLOW_UP_ACTION_ID,
                "text": {"type": "plain_text", "text": t._("Follow up")},
                "value": str(record.id),
            }
        ],
    }


def audit_details(
    record: SendRecord, note: str | Translatable | None = None, *, follow_up: bool = False
) -> list[SlackMessage]:
    """The thread reply (or replies, when Slack's limits need more than one) with OVH's answer: job ids,
    credits, every receiver accepted and rejected, or the reason; ``note`` first, for what recovery found.
    With ``follow_up``, the reply ends with the thread's "Follow up" button (see :func:`follow_up_actions`).
    All in the send's language (see :func:`told_in`); ``note`` is a Text, or a msgid (or any string).
    """
    t = told_in(record)
    said = in_(note, t) if note else None
    lines: list[str] = [t._(SIMULATED_LINE)] if record.simulated else []
    if said:
        update = t._("*Update:* {note}").format(note=escape(said))
        lines.append(f":arrows_counterclockwise: {update}")
    if record.status is SendStatus.SENT:
        sent = t._("*Sent by the simulator*") if record.simulated else t._("*Sent by OVH*")
        lines.append(f":white_check_mark: {sent}")
    elif record.status is SendStatus.FAILED:
        lines.append(":x: " + t._("*Not sent*"))
    elif record.status is SendStatus.UNKNOWN:
        lines.append(":grey_question: " + t._("*Outcome unknown*"))
    else:
        lines.append(":hourglass_flowing_sand: " + t._("*Waiting for OVH*"))
    lines += _schedule_lines(record, t)
    reason = told(record.error_text, record.error_message, t)
    if reason:
        lines.append(t._("*Reason:* {reason}").format(reason=escape(reason)))
    if record.ovh_job_ids:
        ids = ", ".join(str(i) for i in record.ovh_job_ids)
        lines.append(
            t.ngettext("*OVH job id:* {ids}", "*OVH job ids:* {ids}", len(record.ovh_job_ids)).format(ids=ids)
        )
    lines += _credit_lines(record, t)
    accounted = len(record.accepted_receivers) + len(record.rejected_receivers)
    labels = record.labels()
    if len(record.receivers) > SHOWN_RECEIVERS and accounted < len(record.receivers):
        # The parent names only the first ones: whoever was asked for is listed here.
        lines.append(
            t._("*To ({count}):* {numbers}").format(
                count=t.number(len(record.receivers)), numbers=_numbers(record.receivers, None, labels, t)
            )
        )
    if record.accepted_receivers:
        lines.append(
            t._("*Accepted ({count}):* {numbers}").format(
                count=t.number(len(record.accepted_receivers)),
                numbers=_numbers(record.accepted_receivers, None, labels, t),
            )
        )
    if record.rejected_receivers:
        lines.append(
            t._("*Rejected by OVH ({count}):* {numbers}").format(
                count=t.number(len(record.rejected_receivers)),
                numbers=_numbers(record.rejected_receivers, None, labels, t),
            )
        )
    footer = [t._("Send #{id}").format(id=record.id), t._("OVH tag `{tag}`").format(tag=record.tag)]
    if record.sender:
        footer.append(t._("sender `{sender}`").format(sender=escape(record.sender)))
    if record.ovh_service:
        footer.append(t._("service `{service}`").format(service=escape(record.ovh_service)))
    summary = " ".join(lines[:2]).replace("*", "")
    text = (
        t._("Update on send #{id}: {note}").format(id=record.id, note=said) if said else shorten(summary, 300)
    )
    if record.simulated and said:
        text = _simulated(text, t)
    actions = [follow_up_actions(record, t)] if follow_up else []
    blocks = [*_sections("\n".join(lines)), *_cancel_button(record, t), *actions]
    return _messages(shorten(text, 3000), blocks, _context(" · ".join(footer)), t)


def _credit_lines(record: SendRecord, t: Translator) -> list[str]:
    """What the send cost (OVH's figure, and the estimate beside it) and what is left, once OVH said."""
    estimated = _credits(record.estimated_credits, t) if record.estimated_credits is not None else None
    if record.status in (SendStatus.SENT, SendStatus.FAILED) and record.ovh_service:
        used, left = _credits(record.credits_used, t), _credits(record.credits_left, t)
        if estimated is None:
            line = t._("*Credits used:* {used}   *Credits left:* {left}")
        else:
            line = t._("*Credits used:* {used} (estimated {estimated})   *Credits left:* {left}")
        return [line.format(used=used, estimated=estimated, left=left)]
    if estimated is not None:
        return [t._("*Credits estimated:* {credits}").format(credits=estimated)]
    return []


def _schedule_lines(record: SendRecord, t: Translator = ENGLISH) -> list[str]:
    """When a scheduled send goes, and who cancelled it and what came of that."""
    if record.send_at is None:
        return []
    who = f"<@{record.cancelled_by}>"
    if record.status is SendStatus.CANCELLED:
        lines = [":no_entry_sign: " + t._("*Cancelled* by {who}: OVH will not send it.").format(who=who)]
    elif record.cancelled_at is not None:
        lines = [t._("*Cancel asked* by {who}.").format(who=who)]
    else:
        when = slack_date(record.send_at, t)
        lines = [":alarm_clock: " + t._("*OVH sends it* {when}.").format(when=when)]
    note = told(record.cancel_note_text, record.cancel_note, t)
    if note:
        lines.append(escape(note))
    return lines


def _cancel_button(record: SendRecord, t: Translator = ENGLISH) -> Blocks:
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
                    "text": {"type": "plain_text", "text": t._("Cancel")},
                    "style": "danger",
                    "value": str(record.id),
                    "confirm": {
                        "title": {"type": "plain_text", "text": t._("Cancel this SMS?")},
                        "text": {
                            "type": "plain_text",
                            "text": t._("OVH will not send it. Only its author or an admin can."),
                        },
                        "confirm": {"type": "plain_text", "text": t._("Cancel the SMS")},
                        "deny": {"type": "plain_text", "text": t._("Keep it")},
                    },
                }
            ],
        }
    ]


class PrivateReason(Enum):
    """Why a send's result goes to its author alone instead of a thread in the channel."""

    NO_CHANNEL = "no_channel"  # the send names no channel: `smsbot send` without --channel
    CHANNEL_CLOSED = "channel_closed"  # the bot cannot post there: a private channel, a DM, archived


NOT_IN_CHANNEL_HINT = N_(
    ":information_source: I could not post the audit trail in this conversation, so only you see this. "
    "Invite me with `/invite @smsbot` to keep the record in the channel."
)
NO_CHANNEL_HINT = N_(
    ":information_source: Sent from the command line without `--channel`: this is your copy of the "
    "audit trail."
)
LATE_CHANNEL_CLOSED_HINT = N_(
    ":information_source: This result could not be reported when the SMS was sent, and I cannot post "
    "in its channel, so only you see it. Invite me there with `/invite @smsbot` to keep the record in "
    "the channel."
)
LATE_NO_CHANNEL_HINT = N_(
    ":information_source: This result could not be reported when the SMS was sent from the command "
    "line: this is your copy of the audit trail."
)


def private_result(
    record: SendRecord, reason: PrivateReason, *, late: bool = False, note: str | Translatable | None = None
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
        _context(told_in(record)._(hint)),
    ]
    return _messages(shorten(f"{parent.text}. {details[0].text}", 3000), blocks, t=told_in(record))


def _is_continued(block: dict[str, Any]) -> bool:
    return block.get("type") == "context" and str(block.get("block_id", "")).startswith(CONTINUED)


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


def info_message(text: str, t: Translator = ENGLISH) -> SlackMessage:
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
    note = _context(
        t.ngettext(
            "_… {count} more line not shown here: too long for one Slack message._",
            "_… {count} more lines not shown here: too long for one Slack message._",
            hidden,
        ).format(count=t.number(hidden))
    )
    blocks = [*(_section(c) for c in kept), note, _section(last)]
    return SlackMessage(text=shorten(text, SECTION_LIMIT), blocks=blocks)
