"""`/sms contacts`: the named numbers everyone may list and send to by name, and admins keep."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from bot.domain.errors import InputField, InvalidInput, LedgerUnavailable
from bot.domain.receivers import parse_receiver
from bot.domain.recipients import check_contact_name
from bot.sending.service import SendService
from bot.slack.blocks import display_number, escape
from bot.slack.listeners.requester import Requester
from bot.storage.contacts import ContactList

WORD = "contacts"
USAGE = (
    "`/sms contacts` lists the contacts; admins add one with `/sms contacts add NAME +34600000001` and "
    "remove one with `/sms contacts remove NAME`. Send to one with `/sms @NAME Your message`."
)
SHOWN_CONTACTS = 200


@dataclass(frozen=True)
class ContactsDeps:
    """What `/sms contacts` reads and changes."""

    sending: SendService  # who is an admin
    contacts: ContactList
    default_region: str | None


def handle(rest: str, requester: Requester, slack: WebClient, deps: ContactsDeps) -> None:
    """Run `/sms contacts [add NAME NUMBER | remove NAME]` and answer the person privately."""
    action, _, argument = rest.strip().partition(" ")
    action = action.lower()
    try:
        if not action or action == "list":
            requester.tell(slack, _list(deps), error=False)
        elif action not in ("add", "remove"):
            requester.tell(slack, f"`{action[:30]}` is not something contacts do. {USAGE}")
        elif not deps.sending.is_admin(requester.user_id):
            requester.tell(
                slack,
                "Only the bot's admins change the contacts (SMS_ADMIN_USERS); anyone may list them with "
                "`/sms contacts`.",
            )
        elif action == "add":
            requester.tell(slack, _add(argument.strip(), requester.user_id, deps), error=False)
        else:
            requester.tell(slack, _remove(argument.strip(), deps), error=False)
    except (InvalidInput, LedgerUnavailable) as error:
        requester.tell(slack, error.user_message)


def _list(deps: ContactsDeps) -> str:
    entries = deps.contacts.all()
    if not entries:
        return f"No contacts yet. {USAGE}"
    lines = [f"*{len(entries)} contact(s)*, usable as receivers: `/sms @NAME Your message`"]
    for entry in entries[:SHOWN_CONTACTS]:
        lines.append(f"• *{escape(entry.name)}* {display_number(entry.e164)}")
    if len(entries) > SHOWN_CONTACTS:
        lines.append(f"…and {len(entries) - SHOWN_CONTACTS:,} more")
    return "\n".join(lines)


def _add(argument: str, user_id: str, deps: ContactsDeps) -> str:
    name, _, number = argument.partition(" ")
    name = name.lstrip("@")
    if not name or not number.strip():
        raise InvalidInput(InputField.RECEIVERS, f"Give the name, then the number. {USAGE}")
    check_contact_name(name)
    receiver = parse_receiver(number.strip(), deps.default_region)
    added = deps.contacts.add(name, receiver.e164, user_id)
    if added is None:
        existing = deps.contacts.get(name)
        shown = display_number(existing.e164) if existing else "another number"
        raise InvalidInput(
            InputField.RECEIVERS,
            f"A contact named `{name}` exists already ({shown}). To change its number, remove it first "
            f"(`/sms contacts remove {name}`).",
        )
    return f"Added *{escape(added.name)}* {receiver.display}. Send to it with `/sms @{escape(added.name)} …`."


def _remove(argument: str, deps: ContactsDeps) -> str:
    name = argument.lstrip("@")
    if not name:
        raise InvalidInput(InputField.RECEIVERS, f"Give the name of the contact to remove. {USAGE}")
    removed = deps.contacts.remove(name)
    if removed is None:
        shown = " ".join(name.replace("`", "'").split())[:40]
        raise InvalidInput(
            InputField.RECEIVERS, f"No contact is named `{shown}`; `/sms contacts` lists them."
        )
    return f"Removed *{escape(removed.name)}* ({display_number(removed.e164)})."
