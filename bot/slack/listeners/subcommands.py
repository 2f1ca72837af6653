"""`/sms` words other than a send: `usage`, `contacts`, and the admins' `optout`, `optin` and `optouts` (the
words and who may use them are in :data:`bot.domain.command_syntax.SUBCOMMANDS`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.domain.command_syntax import Subcommand
from bot.domain.errors import InvalidInput, LedgerUnavailable
from bot.domain.limits import Limits
from bot.domain.receivers import Receiver, parse_receivers
from bot.i18n import ENGLISH, Translator
from bot.sending.service import SendService
from bot.slack.blocks import display_number, escape, shorten
from bot.slack.listeners import contacts
from bot.slack.listeners.requester import Requester
from bot.slack.locales import lazy_translator
from bot.storage.ledger import Ledger
from bot.storage.opt_outs import OptOutList

SHOWN_OPT_OUTS = 50
SHOWN_NOTE = 200  # characters of an opt-out's note in the list


@dataclass(frozen=True)
class SubcommandDeps:
    """What the sub-commands read and change."""

    sending: SendService  # who is an admin
    ledger: Ledger  # usage over the last 24 hours
    opt_outs: OptOutList
    limits: Limits
    default_region: str | None
    contacts: contacts.ContactsDeps
    translator: Callable[[str], Translator] = lambda _user_id: ENGLISH  # the person's language


def handle(
    subcommand: Subcommand, rest: str, requester: Requester, slack: WebClient, deps: SubcommandDeps
) -> None:
    """Run one sub-command (after the command was acknowledged) and answer the person privately."""
    handlers: dict[str, Callable[[str, str, SubcommandDeps, Translator], str]] = {
        "usage": _usage,
        "optout": _opt_out,
        "optin": _opt_in,
        "optouts": _list_opt_outs,
    }
    t = lazy_translator(deps.translator, requester.user_id)
    if subcommand.name == contacts.WORD:  # anyone lists them; only admins change them
        contacts.handle(rest, requester, slack, deps.contacts, t)
        return
    name = subcommand.name
    if subcommand.admins_only and not deps.sending.is_admin(requester.user_id):
        requester.tell(
            slack, t._("Only the bot's admins manage opt-outs (SMS_ADMIN_USERS). Ask one of them.")
        )
        return
    try:
        requester.tell(slack, handlers[name](rest, requester.user_id, deps, t), error=False)
    except (InvalidInput, LedgerUnavailable) as error:
        requester.tell(slack, error.user_message_in(t))


def _usage(_rest: str, user_id: str, deps: SubcommandDeps, t: Translator) -> str:
    limits = deps.limits
    mine, _channel = deps.ledger.usage(user_id)
    lines = [
        t._("*Your SMS over the last 24 hours:* {sms} ({credits} credits)").format(
            sms=t.number(mine.sms), credits=t.number(mine.credits, 2)
        )
    ]
    lines.append(
        t._("Limits: {sms} SMS, {credits} credits per day").format(
            sms=_limit(limits.user_sms_per_day, t), credits=_limit(limits.user_credits_per_day, t)
        )
    )
    lines.append(
        t._("One send may go to {count} numbers.").format(count=_limit(limits.receivers_per_send, t))
    )
    if deps.sending.is_admin(user_id):
        lines.append(t._("You are an admin of the bot: the limits do not hold for you."))
    return "\n".join(lines)


def _limit(value: int, t: Translator = ENGLISH) -> str:
    return t.number(value) if value else t._("unlimited")


def _opt_out(rest: str, user_id: str, deps: SubcommandDeps, t: Translator) -> str:
    numbers, _, note = rest.partition(" ")
    return _change_each(
        parse_receivers(numbers, deps.default_region),
        lambda e164: deps.opt_outs.add(e164, user_id, note.strip() or None),
        done=t._("Opted out: {numbers}. The bot will refuse to send to them."),
        unchanged=t._("Already opted out: {numbers}."),
    )


def _opt_in(rest: str, _user_id: str, deps: SubcommandDeps, t: Translator) -> str:
    return _change_each(
        parse_receivers(rest, deps.default_region),
        deps.opt_outs.remove,
        done=t._("{numbers} can receive SMS again."),
        unchanged=t._("Not opted out: {numbers}."),
    )


def _change_each(
    receivers: Sequence[Receiver], change: Callable[[str], bool], *, done: str, unchanged: str
) -> str:
    """Apply ``change`` to each number and say which changed and which already were as asked."""
    changed = [r.display for r in receivers if change(r.e164)]
    same = [r.display for r in receivers if r.display not in changed]
    return " ".join(
        text.format(numbers=", ".join(numbers))
        for text, numbers in ((done, changed), (unchanged, same))
        if numbers
    )


def _list_opt_outs(_rest: str, _user_id: str, deps: SubcommandDeps, t: Translator) -> str:
    entries = deps.opt_outs.all()
    if not entries:
        return t._("No number has opted out.")
    title = t.ngettext("*{count} opted-out number:*", "*{count} opted-out numbers:*", len(entries))
    lines = [title.format(count=t.number(len(entries)))]
    for entry in entries[:SHOWN_OPT_OUTS]:
        # Notes are cut (before escaping, so that no `&amp;` is cut in two) so that the list stays a few
        # sections long and its last line always shows.
        note = f" — {escape(shorten(entry.note, SHOWN_NOTE))}" if entry.note else ""
        by = t._("(by {person}, {day})").format(
            person=f"<@{entry.created_by}>", day=f"{entry.created_at:%Y-%m-%d}"
        )
        lines.append(f"• {display_number(entry.e164)} {by}{note}")
    if len(entries) > SHOWN_OPT_OUTS:
        lines.append(t._("…and {count} more").format(count=t.number(len(entries) - SHOWN_OPT_OUTS)))
    return "\n".join(lines)
