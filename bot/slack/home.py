"""Block Kit of the App Home tab: pure functions from what the bot knows about a person to a `home` view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.receivers import mask
from bot.domain.records import SendRecord, SendStatus
from bot.domain.standing import Allowance, Standing
from bot.slack.blocks import Blocks, escape, shorten
from bot.storage.opt_outs import OptOut
from bot.storage.reports import Rate, TeamUse

SEND_ACTION_ID = "home_send_sms"
OPT_IN_ACTION_ID = "home_opt_in"
SHOWN_OPT_OUTS = 30  # a Home view holds 100 blocks: the rest are counted, `/sms optouts` lists them all
SHOWN_RECEIVERS = 3  # masked numbers named per send; the others are counted

_STATUS = {
    SendStatus.PENDING: ":hourglass_flowing_sand: sending",
    SendStatus.SENT: ":white_check_mark: sent",
    SendStatus.FAILED: ":x: not sent",
    SendStatus.UNKNOWN: ":grey_question: outcome unknown",
}


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


def number(value: float) -> str:
    """A count or an amount of credits without needless decimals: 12, 12.5, 1,234.25."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def when(moment: datetime) -> str:
    """A time each reader sees in their own time zone (Slack's date formatting), with a UTC fallback."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def receivers_line(record: SendRecord) -> str:
    """Whom a send went to, masked as in the logs; past a few, the others are counted."""
    shown = ", ".join(mask(number) for number in record.receivers[:SHOWN_RECEIVERS])
    more = record.receiver_count - min(len(record.receivers), SHOWN_RECEIVERS)
    return f"{shown} and {more:,} more" if more > 0 else shown or f"{record.receiver_count:,} number(s)"


def send_line(shown: Shown, *, author: bool = False) -> str:
    """One send in a list: when, (who,) to whom, status, and a link to its thread."""
    record = shown.record
    parts = [when(record.created_at)]
    if author:
        parts.append(f"<@{record.user_id}>")
    parts.append(f"to {receivers_line(record)}")
    parts.append(_STATUS[record.status])
    if record.simulated:
        parts.append("(simulated)")
    if record.status in (SendStatus.FAILED, SendStatus.UNKNOWN) and record.error_message:
        parts.append(f"— {escape(shorten(record.error_message, 200))}")
    line = " · ".join(parts)
    return f"{line} · <{shown.permalink}|thread>" if shown.permalink else line


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": shorten(text, 3000)}}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": shorten(text, 3000)}]}


def _allowance(name: str, allowance: Allowance, unit: str) -> str:
    if not allowance.limited:
        return f"{name}: no limit ({number(allowance.used)} {unit} in the last 24 hours)"
    return (
        f"{name}: {number(allowance.left)} of {allowance.limit:,} {unit} left "
        f"({number(allowance.used)} used in the last 24 hours)"
    )


def account_lines(facts: HomeFacts) -> list[str]:
    """Credits left, SMS left at the usual destination's rate, and the sender(s)."""
    if facts.credits_left is None:
        lines = [f"*Credits left:* unknown{f' ({facts.credits_note})' if facts.credits_note else ''}"]
    else:
        note = f" _({facts.credits_note})_" if facts.credits_note else ""
        lines = [f"*Credits left:* {number(facts.credits_left)}{note}"]
    rate = facts.rate
    if rate is None:
        lines.append("*SMS left:* unknown: no destination is usual yet (no SMS_DEFAULT_REGION, no send).")
    elif rate.credits_per_sms is None:
        lines.append(f"*SMS left:* unknown: OVH's price of an SMS to {rate.region} could not be read.")
    elif facts.credits_left is not None:
        left = int(facts.credits_left / rate.credits_per_sms)
        lines.append(
            f"*SMS left:* about {left:,} one-part SMS to {rate.region} "
            f"({number(rate.credits_per_sms)} credit(s) each)"
        )
    else:
        lines.append(f"*SMS left:* unknown (one SMS to {rate.region} costs {number(rate.credits_per_sms)})")
    senders = ", ".join(f"`{escape(sender)}`" for sender in facts.senders)
    lines.append(f"*Sender:* {senders or 'the OVH account default'}")
    return lines


def standing_lines(standing: Standing) -> list[str]:
    """What this person may do, and why; their limits and what is left of them today."""
    if not standing.allowed:
        return [f":no_entry: *You cannot send SMS.* {escape(standing.refusal or '')}"]
    lines = [
        ":white_check_mark: *You can send SMS*"
        + (" as an admin of the bot: the daily limits do not hold for you." if standing.admin else ".")
    ]
    if standing.channels is None:
        lines.append("*From:* any conversation the bot is in.")
    else:
        lines.append("*From:* " + ", ".join(f"<#{channel}>" for channel in sorted(standing.channels)))
    if standing.countries is None:
        lines.append("*To:* mobile numbers in any country.")
    else:
        lines.append("*To:* mobile numbers in " + (", ".join(sorted(standing.countries)) or "no country"))
    if standing.limited:
        per_send = standing.receivers_per_send
        lines.append(f"*Per send:* {f'up to {per_send:,} numbers' if per_send else 'any number of numbers'}")
        lines.append("• " + _allowance("SMS today", standing.sms_today, "SMS"))
        lines.append("• " + _allowance("Credits today", standing.credits_today, "credits"))
    return lines


def _send_button() -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": "home_actions",
        "elements": [
            {
                "type": "button",
                "action_id": SEND_ACTION_ID,
                "style": "primary",
                "text": {"type": "plain_text", "text": "Send SMS"},
            }
        ],
    }


def _sends(title: str, shown: Sequence[Shown], empty: str, *, author: bool = False) -> Blocks:
    blocks: Blocks = [_header(title)]
    if not shown:
        return [*blocks, _context(empty)]
    return [*blocks, *(_section(send_line(item, author=author)) for item in shown)]


def _opt_out_block(entry: OptOut) -> dict[str, Any]:
    note = f" — {escape(shorten(entry.note, 150))}" if entry.note else ""
    return {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": f"{mask(entry.e164)} (by <@{entry.created_by}>, {entry.created_at:%Y-%m-%d}){note}",
        },
        "accessory": {
            "type": "button",
            "action_id": OPT_IN_ACTION_ID,
            "value": entry.e164,
            "text": {"type": "plain_text", "text": "Opt in"},
            "confirm": {
                "title": {"type": "plain_text", "text": "Opt this number in?"},
                "text": {"type": "plain_text", "text": f"{mask(entry.e164)} will receive SMS again."},
                "confirm": {"type": "plain_text", "text": "Opt in"},
                "deny": {"type": "plain_text", "text": "Cancel"},
            },
        },
    }


def _use(name: str, use: TeamUse) -> str:
    return f"*{name}:* {use.sends:,} send(s), {use.sms:,} SMS, {number(use.credits)} credits"


def _admin_blocks(panel: AdminPanel) -> Blocks:
    blocks: Blocks = [{"type": "divider"}, _header("Team (admins only)")]
    blocks.append(
        _section("\n".join([_use("Last 24 hours", panel.last_day), _use("Last 30 days", panel.last_30_days)]))
    )
    blocks += _sends("Latest failures", panel.failures, "No failed send.", author=True)
    blocks.append(_header(f"Opted-out numbers ({len(panel.opt_outs):,})"))
    if not panel.opt_outs:
        blocks.append(_context("No number has opted out."))
    blocks += [_opt_out_block(entry) for entry in panel.opt_outs[:SHOWN_OPT_OUTS]]
    if len(panel.opt_outs) > SHOWN_OPT_OUTS:
        blocks.append(
            _context(f"…and {len(panel.opt_outs) - SHOWN_OPT_OUTS:,} more: `/sms optouts` lists them.")
        )
    return blocks


def home_view(facts: HomeFacts) -> dict[str, Any]:
    """The Home tab of ``facts.user_id``."""
    blocks: Blocks = [_header("SMS from Slack"), _section("\n".join(account_lines(facts)))]
    blocks.append(_section("\n".join(standing_lines(facts.standing))))
    if facts.standing.allowed:
        blocks.append(_send_button())
    blocks += _sends("Your latest sends", facts.sends, "You have sent no SMS yet.")
    if facts.admin is not None:
        blocks += _admin_blocks(facts.admin)
    if facts.problems:
        blocks.append(_context(":warning: " + " ".join(escape(problem) for problem in facts.problems)))
    blocks.append(_context("Type `/sms help` in any conversation for the commands."))
    return {"type": "home", "callback_id": "smsbot_home", "blocks": blocks}
