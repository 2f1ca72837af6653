"""`/sms credits` and `/sms history [@person]`: where the account and the team stand, from the ledger."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.domain.errors import LedgerUnavailable
from bot.sending.service import SendService
from bot.slack.home import Shown, number, send_line
from bot.slack.ids import USER_ID, is_id
from bot.slack.listeners.requester import Requester
from bot.slack.permalinks import Permalinks
from bot.storage.reports import Reports

log = logging.getLogger(__name__)
NAMES = frozenset({"credits", "history"})
HISTORY_SIZE = 10
# A mention as Slack escapes it in command text (`<@U123|alice>`), or a bare user id.
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>|([A-Z0-9]+)")


@dataclass(frozen=True)
class ReportDeps:
    """What the team's records need."""

    slack: WebClient
    sending: SendService  # who is an admin
    reports: Reports
    permalinks: Permalinks
    credits_left: Callable[[], float | None]  # OVH's balance now (None: it could not be asked)


def handle(name: str, rest: str, requester: Requester, deps: ReportDeps) -> None:
    """Answer `/sms credits` or `/sms history …` privately (after the ack)."""
    try:
        if name == "credits":
            requester.tell(deps.slack, credits_answer(deps), error=False)
        else:
            history(rest, requester, deps)
    except LedgerUnavailable as error:
        requester.tell(deps.slack, error.user_message)


def credits_answer(deps: ReportDeps) -> str:
    """Credits left on the OVH account, and the team's use this month from the ledger."""
    left = deps.credits_left()
    if left is not None:
        lines = [f"*Credits left:* {number(left)}"]
    elif (latest := deps.reports.latest_credits_left()) is not None:
        lines = [f"*Credits left:* {number(latest)} _(as of the latest send: OVH could not be asked now)_"]
    else:
        lines = ["*Credits left:* unknown: OVH could not be asked, and no send recorded a balance yet."]
    month = deps.reports.this_month()
    lines.append(
        f"*This month (UTC):* {month.sends:,} send(s), {month.sms:,} SMS, {number(month.credits)} credits "
        "(failed sends not counted)"
    )
    return "\n".join(lines)


def whose(rest: str) -> str | None:
    """The user id in ``/sms history`` text: None for oneself; raises ValueError if it names nobody."""
    text = rest.strip()
    if not text:
        return None
    match = _MENTION.fullmatch(text)
    user_id = (match.group(1) or match.group(2)) if match else None
    if not is_id(USER_ID, user_id):
        raise ValueError(text)
    return user_id


def history(rest: str, requester: Requester, deps: ReportDeps) -> None:
    """The latest sends of the person asking, or (admins) of the person named, with their thread links."""
    try:
        user_id = whose(rest) or requester.user_id
    except ValueError:
        requester.tell(
            deps.slack,
            "Name the person with a mention Slack completes (`/sms history @alice`, picked from the list), or "
            "type `/sms history` alone for your own sends.",
        )
        return
    if user_id != requester.user_id and not deps.sending.is_admin(requester.user_id):
        requester.tell(
            deps.slack, "Only the bot's admins see other people's sends. `/sms history` shows yours."
        )
        return
    records = deps.reports.latest_sends(user_id, HISTORY_SIZE)
    who = "Your" if user_id == requester.user_id else f"<@{user_id}>'s"
    if not records:
        text = f"{'You have' if who == 'Your' else f'<@{user_id}> has'} sent no SMS yet."
    else:
        lines = [f"*{who} latest sends ({len(records)}):*"]
        lines += [f"• {send_line(Shown(record, deps.permalinks.of(record)))}" for record in records]
        text = "\n".join(lines)
    requester.tell(deps.slack, text, error=False)
