"""`/sms credits` and `/sms history [@person]`: where the account and the team stand, from the ledger; for
admins, the month's sends as a CSV file in their DM."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.errors import LedgerUnavailable
from bot.i18n import ENGLISH, Translator
from bot.sending.service import SendService
from bot.slack.audit import show_privately
from bot.slack.blocks import SlackMessage, info_message
from bot.slack.client import SLACK_FAILURES, failure_reason
from bot.slack.home import Shown, send_line, use_line
from bot.slack.ids import USER_ID, is_id
from bot.slack.listeners.requester import Requester, after_ack
from bot.slack.permalinks import Permalinks
from bot.storage.export import csv_lines, export_row
from bot.storage.reports import Reports

log = logging.getLogger(__name__)
NAMES = frozenset({"credits", "history"})
HISTORY_SIZE = 10
EXPORT_ACTION_ID = "history_export_csv"
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
    translator: Callable[[str], Translator] = lambda _user_id: ENGLISH  # the person's language


def handle(name: str, rest: str, requester: Requester, deps: ReportDeps) -> None:
    """Answer `/sms credits` or `/sms history …` privately (after the ack)."""
    try:
        if name == "credits":
            requester.tell(deps.slack, credits_answer(deps, deps.translator(requester.user_id)), error=False)
        else:
            history(rest, requester, deps)
    except LedgerUnavailable as error:
        requester.tell(deps.slack, error.user_message_in(deps.translator(requester.user_id)))


def credits_answer(deps: ReportDeps, t: Translator = ENGLISH) -> str:
    """Credits left on the OVH account, and the team's use this month from the ledger."""
    left = deps.credits_left()
    credits = t._("*Credits left:*")
    if left is not None:
        lines = [f"{credits} {t.number(left, 2)}"]
    elif (latest := deps.reports.latest_credits_left()) is not None:
        why = t._("as of the latest send: OVH could not be asked now")
        lines = [f"{credits} {t.number(latest, 2)} _({why})_"]
    else:
        lines = [credits + " " + t._("unknown: OVH could not be asked, and no send recorded a balance yet.")]
    month = deps.reports.this_month()
    lines.append(use_line(t._("This month (UTC)"), month, t) + " " + t._("(failed sends not counted)"))
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
    t = deps.translator(requester.user_id)
    try:
        user_id = whose(rest) or requester.user_id
    except ValueError:
        requester.tell(
            deps.slack,
            t._(
                "Name the person with a mention Slack completes (`/sms history @alice`, picked from the list), or "
                "type `/sms history` alone for your own sends."
            ),
        )
        return
    if user_id != requester.user_id and not deps.sending.is_admin(requester.user_id):
        requester.tell(
            deps.slack, t._("Only the bot's admins see other people's sends. `/sms history` shows yours.")
        )
        return
    records = deps.reports.latest_sends(user_id, HISTORY_SIZE)
    mine = user_id == requester.user_id
    if not records:
        text = (
            t._("You have sent no SMS yet.")
            if mine
            else t._("{person} has sent no SMS yet.").format(person=f"<@{user_id}>")
        )
    else:
        title = (
            t._("*Your latest sends ({count}):*")
            if mine
            else t._("*{person}'s latest sends ({count}):*").format(person=f"<@{user_id}>", count="{count}")
        )
        lines = [title.format(count=len(records))]
        lines += [f"• {send_line(Shown(record, deps.permalinks.of(record)), t=t)}" for record in records]
        text = "\n".join(lines)
    if not deps.sending.is_admin(requester.user_id):
        requester.tell(deps.slack, text, error=False)
        return
    message = info_message(text)
    message = SlackMessage(message.text, [*message.blocks, export_buttons(t)])
    shown = show_privately(
        deps.slack,
        message,
        user_id=requester.user_id,
        channel_id=requester.channel_id,
        response_url=requester.response_url,
    )
    if not shown:
        log.warning("could not show %s their history", requester.user_id)


def export_buttons(t: Translator = ENGLISH) -> dict[str, Any]:
    """The admins' buttons under `/sms history`: the team's sends of a month as a CSV file in their DM."""
    return {
        "type": "actions",
        "block_id": "history_export",
        "elements": [
            {
                "type": "button",
                "action_id": EXPORT_ACTION_ID,
                "value": period,
                "text": {"type": "plain_text", "text": label},
            }
            for period, label in (
                ("this_month", t._("CSV of this month")),
                ("last_month", t._("CSV of last month")),
            )
        ],
    }


def month(period: str, now: datetime) -> tuple[datetime, datetime]:
    """The first instant of the month ``period`` names (``this_month`` for anything else) and of the next."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if period == "last_month":
        return (start - timedelta(days=1)).replace(day=1), start
    return start, (start + timedelta(days=32)).replace(day=1)


def register(app: App, deps: ReportDeps) -> None:
    """Bind the admins' CSV buttons."""
    app.action(EXPORT_ACTION_ID)(partial(handle_export, deps=deps))


def handle_export(ack: Ack, body: dict[str, Any], *, deps: ReportDeps) -> None:
    """An admin's CSV button: the month's sends, receivers masked, uploaded to their DM with the bot.

    The click is authorized again (only admins); the button's value only picks which month."""
    ack()
    requester = _clicker(body)
    if requester is None:
        return
    t = deps.translator(requester.user_id)
    with after_ack(deps.slack, requester):
        if not deps.sending.is_admin(requester.user_id):
            log.warning("%s, not an admin, clicked the CSV button: refused", requester.user_id)
            requester.tell(
                deps.slack, t._("Only the bot's admins get the ledger as a file. `/sms history` shows yours.")
            )
            return
        actions = body.get("actions")
        action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        since, until = month(str(action.get("value") or ""), datetime.now(UTC))
        try:
            rows = [
                export_row(r, stop_clause=deps.sending.stop_clause)
                for r in deps.reports.sends_between(since, until)
            ]
        except LedgerUnavailable as error:
            requester.tell(deps.slack, error.user_message_in(t))
            return
        content = "".join(csv_lines(rows))
        name = f"smsbot-sends-{since:%Y-%m}.csv"
        try:
            dm = deps.slack.conversations_open(users=requester.user_id)["channel"]["id"]
            deps.slack.files_upload_v2(
                channel=dm,
                content=content,
                filename=name,
                title=t._("SMS sends, {month} (UTC)").format(month=f"{since:%Y-%m}"),
                initial_comment=t.ngettext(
                    "{count} send from {start} to {end}, receivers masked. `smsbot export` gives any period, in "
                    "CSV or JSON.",
                    "{count} sends from {start} to {end}, receivers masked. `smsbot export` gives any period, in "
                    "CSV or JSON.",
                    len(rows),
                ).format(
                    count=t.number(len(rows)),
                    start=f"{since:%Y-%m-%d}",
                    end=f"{until - timedelta(days=1):%Y-%m-%d}",
                ),
            )
        except SLACK_FAILURES as error:
            log.warning("the CSV for %s was not uploaded: %s", requester.user_id, error)
            why = error.response.get("error") if isinstance(error, SlackApiError) else failure_reason(error)
            requester.tell(
                deps.slack,
                t._(
                    "The file could not be sent ({why}). The app may lack the files:write and im:write scopes: an "
                    "admin of the Slack app can add them and reinstall it; `smsbot export` works meanwhile."
                ).format(why=why),
            )
            return
        done = t.ngettext(
            "`{name}` is in your messages with the bot ({count} send).",
            "`{name}` is in your messages with the bot ({count} sends).",
            len(rows),
        )
        requester.tell(deps.slack, done.format(name=name, count=t.number(len(rows))), error=False)


def _clicker(body: dict[str, Any]) -> Requester | None:
    """Who clicked, and how to answer them: the response URL and channel of the message the button was in."""
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str) or not user_id:
        return None
    channel, team = body.get("channel"), body.get("team")
    response_url = body.get("response_url")
    return Requester(
        user_id=user_id,
        trigger_id=None,
        channel_id=channel.get("id") if isinstance(channel, dict) else None,
        team_id=team.get("id") if isinstance(team, dict) else None,
        response_url=response_url if isinstance(response_url, str) else None,
    )
