"""`/sms contacts`: the named numbers everyone may list and send to by name, and admins keep."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from bot.domain.errors import InputField, InvalidInput, LedgerUnavailable
from bot.domain.receivers import parse_receiver
from bot.domain.recipients import check_contact_name
from bot.i18n import ENGLISH, N_, T_, Translator
from bot.sending.service import SendService
from bot.slack.blocks import display_number, escape
from bot.slack.listeners.requester import Requester
from bot.storage.contacts import ContactList

WORD = "contacts"
USAGE = N_(
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


def handle(
    rest: str, requester: Requester, slack: WebClient, deps: ContactsDeps, t: Translator = ENGLISH
) -> None:
    """Run `/sms contacts [add NAME NUMBER | remove NAME]` and answer the person privately, in ``t``'s
    language."""
    action, _, argument = rest.strip().partition(" ")
    action = action.lower()
    try:
        if not action or action == "list":
            requester.tell(slack, _list(deps, t), error=False)
        elif action not in ("add", "remove"):
            not_one = t._("`{action}` is not something contacts do. {usage}")
            requester.tell(slack, not_one.format(action=action[:30], usage=t._(USAGE)))
        elif not deps.sending.is_admin(requester.user_id):
            requester.tell(
                slack,
                t._(
                    "Only the bot's admins change the contacts (SMS_ADMIN_USERS); anyone may list them with "
                    "`/sms contacts`."
                ),
            )
        elif action == "add":
            requester.tell(slack, _add(argument.strip(), requester.user_id, deps, t), error=False)
        else:
            requester.tell(slack, _remove(argument.strip(), deps, t), error=False)
    except (InvalidInput, LedgerUnavailable) as error:
        requester.tell(slack, error.user_message_in(t))


def _list(deps: ContactsDeps, t: Translator) -> str:
    entries = deps.contacts.all()
    if not entries:
        return t._("No contacts yet. {usage}").format(usage=t._(USAGE))
    title = t.ngettext(
        "*{count} contact*, usable as a receiver: `/sms @NAME Your message`",
        "*{count} contacts*, usable as receivers: `/sms @NAME Your message`",
        len(entries),
    )
    lines = [title.format(count=t.number(len(entries)))]
    for entry in entries[:SHOWN_CONTACTS]:
        lines.append(f"• *{escape(entry.name)}* {display_number(entry.e164)}")
    if len(entries) > SHOWN_CONTACTS:
        lines.append(t._("…and {count} more").format(count=t.number(len(entries) - SHOWN_CONTACTS)))
    return "\n".join(lines)


def _add(argument: str, user_id: str, deps: ContactsDeps, t: Translator) -> str:
    name, _, number = argument.partition(" ")
    name = name.lstrip("@")
    if not name or not number.strip():
        raise InvalidInput(
            InputField.RECEIVERS, T_("Give the name, then the number. {usage}", usage=T_(USAGE))
        )
    check_contact_name(name)
    receiver = parse_receiver(number.strip(), deps.default_region)
    added = deps.contacts.add(name, receiver.e164, user_id)
    if added is None:
        existing = deps.contacts.get(name)
        if existing:
            exists = T_(
                "A contact named `{name}` exists already ({number}). To change its number, remove it first "
                "(`/sms contacts remove {name}`).",
                name=name,
                number=display_number(existing.e164),
            )
        else:
            exists = T_(
                "A contact named `{name}` exists already. To change its number, remove it first "
                "(`/sms contacts remove {name}`).",
                name=name,
            )
        raise InvalidInput(InputField.RECEIVERS, exists)
    done = t._("Added *{name}* {number}. Send to it with `/sms @{name} …`.")
    return done.format(name=escape(added.name), number=receiver.display)


def _remove(argument: str, deps: ContactsDeps, t: Translator) -> str:
    name = argument.lstrip("@")
    if not name:
        raise InvalidInput(
            InputField.RECEIVERS, T_("Give the name of the contact to remove. {usage}", usage=T_(USAGE))
        )
    removed = deps.contacts.remove(name)
    if removed is None:
        shown = " ".join(name.replace("`", "'").split())[:40]
        raise InvalidInput(
            InputField.RECEIVERS, T_("No contact is named `{name}`; `/sms contacts` lists them.", name=shown)
        )
    done = t._("Removed *{name}* ({number}).")
    return done.format(name=escape(removed.name), number=display_number(removed.e164))
