"""Block Kit of the App Home tab: pure functions from what the bot knows about a person to a `home` view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.receivers import mask
from bot.domain.records import SendRecord, SendStatus
from bot.domain.standing import Allowance, Standing
from bot.i18n import ENGLISH, Translator, in_
from bot.slack.blocks import Blocks, escape, shorten
from bot.storage.opt_outs import OptOut
from bot.storage.reports import Rate, TeamUse

SEND_ACTION_ID = "home_send_sms"
OPT_IN_ACTION_ID = "home_opt_in"
SHOWN_OPT_OUTS = 30  # a Home view holds 100 blocks: the rest are counted, `/sms optouts` lists them all
SHOWN_RECEIVERS = 3  # masked numbers named per send; the others are counted

_STATUS_ICON = {
    SendStatus.PENDING: ":hourglass_flowing_sand:",
    SendStatus.SENT: ":white_check_mark:",
    SendStatus.FAILED: ":x:",
    SendStatus.UNKNOWN: ":grey_question:",
}


def status_text(status: SendStatus, t: Translator = ENGLISH) -> str:
    """A send's status in words, with its icon."""
    words = {
        SendStatus.PENDING: t._("sending"),
        SendStatus.SENT: t._("sent"),
        SendStatus.FAILED: t._("not sent"),
        SendStatus.UNKNOWN: t._("outcome unknown"),
    }
    return f"{_STATUS_ICON[status]} {words[status]}"


@dataclass(frozen=True)
class Shown:
    """A send as a list shows it: its record and the link to its audit thread, when it has one."""

    record: SendRecord
    permalink: str | None = None


@dataclass(frozen=True)
class AdminPanel:
    """What only admins see: opted-out numbers, the team's use, the latest failures."""

    opt_outs: Sequence[OptOut]
    last_day: TeamUse
    last_30_days: TeamUse
    failures: Sequence[Shown]


@dataclass(frozen=True)
class HomeFacts:
    """Everything the Home tab of one person shows."""

    user_id: str
    standing: Standing
    credits_left: float | None
    credits_note: str | None  # where the figure comes from when it is not OVH's answer of now
    rate: Rate | None
    senders: Sequence[str]
    sends: Sequence[Shown]
    admin: AdminPanel | None = None
    problems: Sequence[str] = field(default_factory=tuple)  # parts that could not be read


def when(moment: datetime) -> str:
    """A time each reader sees in their own time zone (Slack's date formatting), with a UTC fallback."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def receivers_line(record: SendRecord, t: Translator = ENGLISH) -> str:
    """Whom a send went to, masked as in the logs; past a few, the others are counted."""
    shown = ", ".join(mask(number) for number in record.receivers[:SHOWN_RECEIVERS])
    more = record.receiver_count - min(len(record.receivers), SHOWN_RECEIVERS)
    if more > 0:
        return t._("{numbers} and {count} more").format(numbers=shown, count=t.number(more))
    if shown:
        return shown
    count = record.receiver_count
    return t.ngettext("{count} number", "{count} numbers", count).format(count=t.number(count))


def send_line(shown: Shown, *, author: bool = False, t: Translator = ENGLISH) -> str:
    """One send in a list: when, (who,) to whom, status, and a link to its thread."""
    record = shown.record
    parts = [when(record.created_at)]
    if author:
        parts.append(f"<@{record.user_id}>")
    parts.append(t._("to {receivers}").format(receivers=receivers_line(record, t)))
    parts.append(status_text(record.status, t))
    if record.simulated:
        parts.append(t._("(simulated)"))
    if record.status in (SendStatus.FAILED, SendStatus.UNKNOWN) and record.error_message:
        parts.append(f"— {escape(shorten(record.error_message, 200))}")
    line = " · ".join(parts)
    thread = t._("thread")
    return f"{line} · <{shown.permalink}|{thread}>" if shown.permalink else line


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": shorten(text, 3000)}}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": shorten(text, 3000)}]}


def _allowance(name: str, allowance: Allowance, unit: str, t: Translator) -> str:
    if not allowance.limited:
        return t._("{name}: no limit ({used} {unit} in the last 24 hours)").format(
            name=name, used=t.number(allowance.used, 2), unit=unit
        )
    return t._("{name}: {left} of {limit} {unit} left ({used} used in the last 24 hours)").format(
        name=name,
        left=t.number(allowance.left, 2),
        limit=t.number(allowance.limit),
        unit=unit,
        used=t.number(allowance.used, 2),
    )


def account_lines(facts: HomeFacts, t: Translator = ENGLISH) -> list[str]:
    """Credits left, SMS left at the usual destination's rate, and the sender(s)."""
    credits = t._("*Credits left:*")
    why = t._(facts.credits_note) if facts.credits_note else ""
    if facts.credits_left is None:
        unknown = t._("unknown")
        lines = [f"{credits} {unknown}{f' ({why})' if why else ''}"]
    else:
        note = f" _({why})_" if why else ""
        lines = [f"{credits} {t.number(facts.credits_left, 2)}{note}"]
    rate, sms = facts.rate, t._("*SMS left:*")
    if rate is None:
        lines.append(
            sms + " " + t._("unknown: no destination is usual yet (no SMS_DEFAULT_REGION, no send).")
        )
    elif rate.credits_per_sms is None:
        lines.append(
            sms
            + " "
            + t._("unknown: OVH's price of an SMS to {region} could not be read.").format(region=rate.region)
        )
    elif facts.credits_left is not None:
        left = int(facts.credits_left / rate.credits_per_sms)
        text = t.ngettext(
            "about {sms} one-part SMS to {region} ({price} credit each)",
            "about {sms} one-part SMS to {region} ({price} credits each)",
            _plural_of(rate.credits_per_sms),
        )
        lines.append(
            f"{sms} {text.format(sms=t.number(left), region=rate.region, price=t.number(rate.credits_per_sms, 2))}"
        )
    else:
        text = t._("unknown (one SMS to {region} costs {price})")
        lines.append(f"{sms} {text.format(region=rate.region, price=t.number(rate.credits_per_sms, 2))}")
    senders = ", ".join(f"`{escape(sender)}`" for sender in facts.senders)
    lines.append(t._("*Sender:*") + " " + (senders or t._("the OVH account default")))
    return lines


def standing_lines(standing: Standing, t: Translator = ENGLISH) -> list[str]:
    """What this person may do, and why; their limits and what is left of them today."""
    if not standing.allowed:
        refusal = in_(standing.refusal, t) if standing.refusal else ""
        return [":no_entry: " + t._("*You cannot send SMS.*") + " " + escape(refusal)]
    lines = [
        ":white_check_mark: "
        + (
            t._("*You can send SMS* as an admin of the bot: the daily limits do not hold for you.")
            if standing.admin
            else t._("*You can send SMS*.")
        )
    ]
    if standing.channels is None:
        lines.append(t._("*From:* any conversation the bot is in."))
    else:
        lines.append(
            t._("*From:*") + " " + ", ".join(f"<#{channel}>" for channel in sorted(standing.channels))
        )
    if standing.countries is None:
        lines.append(t._("*To:* mobile numbers in any country."))
    else:
        countries = ", ".join(sorted(standing.countries)) or t._("no country")
        lines.append(t._("*To:* mobile numbers in {countries}").format(countries=countries))
    if standing.limited:
        per_send = standing.receivers_per_send
        size = (
            t._("up to {count} numbers").format(count=t.number(per_send))
            if per_send
            else t._("any number of numbers")
        )
        lines.append(t._("*Per send:*") + " " + size)
        lines.append("• " + _allowance(t._("SMS today"), standing.sms_today, "SMS", t))
        lines.append("• " + _allowance(t._("Credits today"), standing.credits_today, t._("credits"), t))
    return lines


def _send_button(t: Translator) -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": "home_actions",
        "elements": [
            {
                "type": "button",
                "action_id": SEND_ACTION_ID,
                "style": "primary",
                "text": {"type": "plain_text", "text": t._("Send SMS")},
            }
        ],
    }


def _sends(title: str, shown: Sequence[Shown], empty: str, t: Translator, *, author: bool = False) -> Blocks:
    blocks: Blocks = [_header(title)]
    if not shown:
        return [*blocks, _context(empty)]
    return [*blocks, *(_section(send_line(item, author=author, t=t)) for item in shown)]


def _opt_out_block(entry: OptOut, t: Translator) -> dict[str, Any]:
    note = f" — {escape(shorten(entry.note, 150))}" if entry.note else ""
    by = t._("(by {person}, {day})").format(
        person=f"<@{entry.created_by}>", day=f"{entry.created_at:%Y-%m-%d}"
    )
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": f"{mask(entry.e164)} {by}{note}"},
        "accessory": {
            "type": "button",
            "action_id": OPT_IN_ACTION_ID,
            "value": entry.e164,
            "text": {"type": "plain_text", "text": t._("Opt in")},
            "confirm": {
                "title": {"type": "plain_text", "text": t._("Opt this number in?")},
                "text": {
                    "type": "plain_text",
                    "text": t._("{number} will receive SMS again.").format(number=mask(entry.e164)),
                },
                "confirm": {"type": "plain_text", "text": t._("Opt in")},
                "deny": {"type": "plain_text", "text": t._("Cancel")},
            },
        },
    }


def _plural_of(value: float) -> int:
    """The count that picks a plural form for an amount that may have decimals (1.5 credits is plural)."""
    return int(value) if value == int(value) else 2


def use_line(name: str, use: TeamUse, t: Translator = ENGLISH) -> str:
    """The team's use over a period: sends, SMS and credits."""
    sends = t.ngettext("{count} send", "{count} sends", use.sends).format(count=t.number(use.sends))
    credits = t.ngettext("{count} credit", "{count} credits", _plural_of(use.credits)).format(
        count=t.number(use.credits, 2)
    )
    # A list of amounts, each with its own plural.
    return t._("*{period}:* {sends}, {sms} SMS, {credits}").format(
        period=name, sends=sends, sms=t.number(use.sms), credits=credits
    )


def _admin_blocks(panel: AdminPanel, t: Translator) -> Blocks:
    blocks: Blocks = [{"type": "divider"}, _header(t._("Team (admins only)"))]
    lines = [
        use_line(t._("Last 24 hours"), panel.last_day, t),
        use_line(t._("Last 30 days"), panel.last_30_days, t),
    ]
    blocks.append(_section("\n".join(lines)))
    blocks += _sends(t._("Latest failures"), panel.failures, t._("No failed send."), t, author=True)
    blocks.append(_header(t._("Opted-out numbers ({count})").format(count=t.number(len(panel.opt_outs)))))
    if not panel.opt_outs:
        blocks.append(_context(t._("No number has opted out.")))
    blocks += [_opt_out_block(entry, t) for entry in panel.opt_outs[:SHOWN_OPT_OUTS]]
    if len(panel.opt_outs) > SHOWN_OPT_OUTS:
        more = t.number(len(panel.opt_outs) - SHOWN_OPT_OUTS)
        blocks.append(_context(t._("…and {count} more: `/sms optouts` lists them.").format(count=more)))
    return blocks


def home_view(facts: HomeFacts, t: Translator = ENGLISH) -> dict[str, Any]:
    """The Home tab of ``facts.user_id``, in ``t``'s language."""
    blocks: Blocks = [_header(t._("SMS from Slack")), _section("\n".join(account_lines(facts, t)))]
    blocks.append(_section("\n".join(standing_lines(facts.standing, t))))
    if facts.standing.allowed:
        blocks.append(_send_button(t))
    blocks += _sends(t._("Your latest sends"), facts.sends, t._("You have sent no SMS yet."), t)
    if facts.admin is not None:
        blocks += _admin_blocks(facts.admin, t)
    if facts.problems:
        blocks.append(_context(":warning: " + " ".join(escape(t._(problem)) for problem in facts.problems)))
    blocks.append(_context(t._("Type `/sms help` in any conversation for the commands.")))
    return {"type": "home", "callback_id": "smsbot_home", "blocks": blocks}
