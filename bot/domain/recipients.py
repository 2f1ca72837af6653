"""People, user groups and contacts as receivers: read what was named, then resolve it to phone numbers.

A request may name receivers three ways besides typed numbers: a person (whose phone is in their profile),
a group of people (each member's profile phone), or a contact (a named number the admins keep). The edges
read those names (Slack's mention syntax is the Slack edge's business) into the references below; this
module decides, without any I/O of its own, what each reference means through the :class:`People` and
:class:`ContactBook` it is given, and gathers every problem into one ``InvalidInput`` that names who or
what to fix. A person named alone must be reachable, or nothing is sent: the SMS never silently goes to
fewer people than asked. A group goes to its members who can be reached, and says who could not.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.domain.errors import InputField, InvalidInput, SmsBotError
from bot.domain.receivers import Receiver, parse_receiver, parse_receivers
from bot.i18n import N_, T_, Text, Tn_, Translatable, joined

# Contact names are one word, so that `/sms @reception Hola` reads without quotes.
CONTACT_NAME = re.compile(r"[^\W_][\w.\-]{0,39}")
_MAX_LISTED = 10


@dataclass(frozen=True)
class PersonRef:
    """A person named as a receiver: their user id and the name they were named by."""

    user_id: str
    name: str = ""

    @property
    def shown(self) -> str:
        return f"@{self.name}" if self.name else f"<{self.user_id}>"


@dataclass(frozen=True)
class GroupRef:
    """A group of people named as receivers."""

    group_id: str
    handle: str = ""

    @property
    def shown(self) -> str:
        return f"@{self.handle.lstrip('@')}" if self.handle else f"group {self.group_id}"


@dataclass(frozen=True)
class ContactRef:
    """A contact named as a receiver (the admins' list of named numbers)."""

    name: str

    @property
    def shown(self) -> str:
        return self.name


Target = Receiver | PersonRef | GroupRef | ContactRef


@dataclass(frozen=True)
class Person:
    """What the directory says about a person: enough to decide whether and where they can get an SMS."""

    user_id: str
    name: str
    phone: str  # as typed in their profile, any format; "" when they wrote none
    deactivated: bool = False
    bot: bool = False


class People(Protocol):
    """Who is who (the Slack edge implements it with its Web API; answers may be cached)."""

    def person(self, user_id: str) -> Person | None:
        """The person with this id, or None if there is none. Raises on failure to ask."""
        ...

    def group_members(self, group_id: str) -> Sequence[str] | None:
        """The user ids of the group's members, or None if there is no such group. Raises on failure."""
        ...

    def warm(self, user_ids: Sequence[str]) -> None:
        """Ask about these people at once (the answers are kept for :meth:`person`); never raises."""
        ...


class ContactBook(Protocol):
    """The named numbers the admins keep."""

    def lookup(self, names: Iterable[str]) -> dict[str, str]:
        """The E.164 number of each name found, by the name as asked for (case-insensitive match)."""
        ...


@dataclass(frozen=True)
class Skipped:
    """A group member the SMS does not go to, and why (in English, as the ledger keeps it; the reasons
    without a field are marked strings, which an audit can translate)."""

    label: str
    reason: str


@dataclass(frozen=True)
class Resolved:
    """The numbers a request goes to (each with who it is, when named), and group members left out."""

    receivers: tuple[Receiver, ...]
    skipped: tuple[Skipped, ...] = ()


class DirectoryUnavailable(SmsBotError):
    """The directory could not be asked (Slack failed); ``reason`` says what failed, for the log."""

    def __init__(self, reason: str, user_message: str | Translatable = "") -> None:
        super().__init__(
            user_message
            or T_(
                "Slack did not say who the people you named are, so nothing was sent. Try again in a minute."
            )
        )
        self.reason = reason


@dataclass(frozen=True)
class Recipients:
    """Resolves named receivers with the directory and contacts this bot has (None: none to ask)."""

    people: People | None
    contacts: ContactBook | None
    default_region: str | None

    def resolve(self, targets: Sequence[Target]) -> Resolved:
        """See :func:`resolve`."""
        return resolve(targets, self.people, self.contacts, self.default_region)

    def resolve_field(self, text: str, people: Sequence[str] = ()) -> Resolved:
        """Resolve a form's receivers: its text field (numbers, and contacts by name) and the people picked.

        Every problem, of the numbers and of the names, is in one ``InvalidInput``; so is a form that names
        nobody at all.
        """
        contacts, numbers_text = split_field(text)
        problems: list[object] = []
        numbers: tuple[Receiver, ...] = ()
        if numbers_text.strip():
            try:
                numbers = parse_receivers(numbers_text, self.default_region)
            except InvalidInput as error:
                problems.append(error.message)
        targets: list[Target] = [*numbers, *contacts, *(PersonRef(user_id) for user_id in people)]
        resolved, named = _resolve(targets, self.people, self.contacts, self.default_region)
        if named:
            # One problem of the names is told without "Nothing was sent.": the field shows it beside the rest.
            problems.append(named[0] if len(named) == 1 else _told(named))
        if problems:
            raise InvalidInput(InputField.RECEIVERS, joined(problems, "\n"))
        if not resolved.receivers:
            raise InvalidInput(
                InputField.RECEIVERS,
                T_("Enter at least one phone number (like `+34600000001`) or contact, or pick people."),
            )
        return resolved

    @staticmethod
    def named(targets: Sequence[object]) -> bool:
        """Whether any target names someone (a person, group or contact) rather than a number."""
        return any(not isinstance(target, Receiver) for target in targets)


def resolve(
    targets: Sequence[Target],
    people: People | None,
    contacts: ContactBook | None,
    default_region: str | None,
) -> Resolved:
    """Turn every target into numbers. Raises one ``InvalidInput`` (receivers) naming each problem.

    Order is kept, and a number reached twice (typed, and a person's phone) is sent to once, under the
    first name it was reached by. Raises :class:`DirectoryUnavailable` when ``people`` fails.
    """
    resolved, problems = _resolve(targets, people, contacts, default_region)
    if problems:
        raise InvalidInput(InputField.RECEIVERS, _told(problems))
    return resolved


def _resolve(
    targets: Sequence[Target],
    people: People | None,
    contacts: ContactBook | None,
    default_region: str | None,
) -> tuple[Resolved, list[Text]]:
    """The receivers ``targets`` stand for, and every problem met (see :func:`resolve`)."""
    problems: list[Text] = []
    found: dict[str, Receiver] = {}
    skipped: list[Skipped] = []
    contact_numbers = _contacts(targets, contacts, problems)
    if people is not None:  # a form may pick a hundred people: asked about together, not one by one
        people.warm([target.user_id for target in targets if isinstance(target, PersonRef)])
    for target in targets:
        if isinstance(target, Receiver):
            found.setdefault(target.e164, target)
        elif isinstance(target, ContactRef):
            number = contact_numbers.get(target.name)
            if number is not None:
                receiver = dataclasses.replace(
                    parse_receiver(number, None), label=target.name, contact=target.name
                )
                found.setdefault(receiver.e164, receiver)
        elif isinstance(target, PersonRef):
            receiver, problem = _person(target, people, default_region)
            if problem:
                problems.append(problem)
            elif receiver is not None:
                found.setdefault(receiver.e164, receiver)
        else:
            for receiver in _group(target, people, default_region, problems, skipped):
                found.setdefault(receiver.e164, receiver)
    return Resolved(tuple(found.values()), tuple(skipped)), problems


def _contacts(
    targets: Sequence[Target], contacts: ContactBook | None, problems: list[Text]
) -> dict[str, str]:
    names = [t.name for t in targets if isinstance(t, ContactRef)]
    if not names:
        return {}
    known = contacts.lookup(names) if contacts is not None else {}
    missing = [name for name in dict.fromkeys(names) if name not in known]
    for name in missing:
        problems.append(
            T_(
                "No contact is named `{name}`: `/sms contacts` lists them. To name a person, pick them from the "
                "list Slack shows as you type @.",
                name=name,
            )
        )
    return known


def _person(ref: PersonRef, people: People | None, region: str | None) -> tuple[Receiver | None, Text | None]:
    """The receiver a person named alone stands for, or why they cannot get an SMS."""
    if people is None:
        return None, T_("{person} cannot be looked up here: type their number instead.", person=ref.shown)
    person = people.person(ref.user_id)
    if person is None:
        return None, T_("{person} is not a member of this workspace.", person=ref.shown)
    named = PersonRef(ref.user_id, person.name or ref.name)
    why = _unreachable(person, region)
    if why:
        return None, T_("{person} {reason}.", person=named.shown, reason=why)
    return _receiver(person, region), None


def _group(
    ref: GroupRef, people: People | None, region: str | None, problems: list[Text], skipped: list[Skipped]
) -> list[Receiver]:
    if people is None:
        problems.append(T_("{group} cannot be looked up here: type the numbers instead.", group=ref.shown))
        return []
    members = people.group_members(ref.group_id)
    if members is None:
        problems.append(
            T_("{group} is not a user group of this workspace (it may have been deleted).", group=ref.shown)
        )
        return []
    people.warm(members)
    receivers: list[Receiver] = []
    for user_id in members:
        person = people.person(user_id)
        if person is None:
            continue  # someone removed from the workspace since: not a member to tell about
        why = _unreachable(person, region)
        if why:
            if not person.bot and not person.deactivated:
                skipped.append(Skipped(f"@{person.name}", str(why)))
            continue
        receiver = _receiver(person, region)
        receivers.append(dataclasses.replace(receiver, group=ref.shown))
    if not receivers:
        problems.append(
            Tn_(
                "{group} has {count} member, none with a usable phone: nobody in it can get the SMS.",
                "{group} has {count} members, none with a usable phone: nobody in it can get the SMS.",
                len(skipped),
                group=ref.shown,
            )
            if skipped
            else T_("{group} has no members: nobody in it can get the SMS.", group=ref.shown)
        )
    return receivers


def _unreachable(person: Person, region: str | None) -> Text | None:
    """Why ``person`` cannot get an SMS (said of them: "is deactivated"), or None if they can."""
    if person.deactivated:
        return T_(N_("is deactivated"))
    if person.bot:
        return T_(N_("is a bot, not a person with a phone"))
    if not person.phone.strip():
        return T_(N_("has no phone number in their Slack profile (they can add it under Profile → Edit)"))
    try:
        parse_receiver(person.phone, region)
    except InvalidInput:
        return T_(
            "has a phone number in their Slack profile that is not a valid one ({phone}); "
            "they can fix it under Profile → Edit, with the country code (+34…)",
            phone=_shown_phone(person.phone),
        )
    return None


def _receiver(person: Person, region: str | None) -> Receiver:
    receiver = parse_receiver(person.phone, region)
    return dataclasses.replace(receiver, label=f"@{person.name}", user_id=person.user_id)


def _shown_phone(phone: str) -> str:
    text = " ".join(phone.replace("`", "'").split())
    return f"`{text[:29]}…`" if len(text) > 30 else f"`{text}`"


def _told(problems: Sequence[Text]) -> Translatable:
    """Every problem of the names, and that nothing was sent."""
    if len(problems) == 1:
        return T_("{problem} Nothing was sent.", problem=problems[0])
    lines: list[object] = [
        Tn_("{count} receiver cannot get the SMS:", "{count} receivers cannot get the SMS:", len(problems)),
        *(joined(["•", problem]) for problem in problems[:_MAX_LISTED]),
    ]
    if len(problems) > _MAX_LISTED:
        lines.append(T_("• …and {count} more", count=len(problems) - _MAX_LISTED))
    lines.append(T_("Nothing was sent."))
    return joined(lines, "\n")


def split_field(text: str) -> tuple[list[ContactRef], str]:
    """A form's receivers field read into the contacts it names (words starting with `@` or a letter, as
    a contact's name does) and the rest, numbers, with their separators kept for ``parse_receivers``."""
    contacts: list[ContactRef] = []
    kept: list[str] = []
    for piece in re.split(r"([,;\n]+)", text):
        words = []
        for word in piece.split(" "):
            name = word.strip().removeprefix("@")
            if name and (word.strip().startswith("@") or name[0].isalpha()) and CONTACT_NAME.fullmatch(name):
                contacts.append(ContactRef(name))
            else:
                words.append(word)
        kept.append(" ".join(words))
    return list(dict.fromkeys(contacts)), "".join(kept)


def check_contact_name(name: str) -> None:
    """Raise ``InvalidInput`` unless ``name`` can name a contact: one word of up to 40 letters, digits,
    `.`, `-` or `_`, with a letter (so that it never reads as a number)."""
    if CONTACT_NAME.fullmatch(name) is None or not any(character.isalpha() for character in name):
        shown = " ".join(name.replace("`", "'").split())[:40]
        raise InvalidInput(
            InputField.RECEIVERS,
            T_(
                "`{name}` cannot name a contact: use one word of up to 40 letters, digits, `.`, `-` or `_`, "
                "with at least one letter (for example `reception` or `taller-2`).",
                name=shown,
            ),
        )
