"""What `/sms` understands, as data: the sub-commands (their words, arguments and who may use them) and
examples of sends. The dispatcher routes by :data:`SUBCOMMANDS`, and the help is written from it and from
the parser itself: each example is run through :func:`~bot.domain.receivers.parse_command` and the help
says what the parser made of it, and the message length is what :func:`~bot.domain.sms_text.measure`
allows. A rule cannot change without the help changing with it.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

import phonenumbers

from bot.domain.errors import InvalidInput
from bot.domain.receivers import ParsedCommand, parse_command
from bot.domain.sms_text import MAX_PARTS, measure
from bot.i18n import N_


@dataclass(frozen=True)
class Subcommand:
    """A word `/sms` takes instead of numbers."""

    name: str  # the word the dispatcher routes on
    aliases: tuple[str, ...]  # other words for it
    arguments: str  # as shown in the help: "[@person]", "NUMBER [note]"
    summary: str
    admins_only: bool = False

    @property
    def words(self) -> tuple[str, ...]:
        """Every word that names it, lower case."""
        return (self.name, *self.aliases)


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("help", ("-h", "--help", "?"), "", N_("shows this")),
    Subcommand("usage", (), "", N_("how much you sent in the last 24 hours, and your limits")),
    Subcommand("credits", (), "", N_("the credits left, and the team's use this month")),
    Subcommand(
        "history",
        (),
        "[@person]",
        N_("your latest sends with links to their threads (admins: anyone's, and a CSV of the month)"),
    ),
    Subcommand(
        "contacts",
        (),
        "[add NAME NUMBER | remove NAME]",
        N_("the team's contacts (admins add and remove them); `/sms @NAME Your message` sends to one"),
    ),
    Subcommand("optout", ("opt-out",), "NUMBER [note]", N_("stops all SMS to a number"), admins_only=True),
    Subcommand("optin", ("opt-in",), "NUMBER", N_("undoes an opt-out"), admins_only=True),
    Subcommand("optouts", (), "", N_("lists the opted-out numbers"), admins_only=True),
)
_BY_WORD = {word: sub for sub in SUBCOMMANDS for word in sub.words}


def find_subcommand(word: str) -> Subcommand | None:
    """The sub-command ``word`` names (any case), if any."""
    return _BY_WORD.get(word.lower())


@dataclass(frozen=True)
class SendExample:
    """A send as the help shows it, and what it is for."""

    text: str  # what follows `/sms`
    purpose: str


SEND_EXAMPLES: tuple[SendExample, ...] = (
    SendExample("+34600000001 Your message", N_("one number")),
    SendExample("+34600000001,+34600000002 Your message", N_("several numbers, separated by commas")),
    SendExample("+34600000001 +34600000002 Your message", N_("several numbers, separated by spaces")),
    SendExample("0034600000001 Your message", N_("the 00 international prefix")),
    # With SMS_DEFAULT_REGION, a national number of that country: see :func:`read_examples`.
)
NATIONAL = N_("a national number, with dashes")


@dataclass(frozen=True)
class ReadExample:
    """An example and what the parser read from it."""

    example: SendExample
    parsed: ParsedCommand


def national_example(region: str) -> SendExample | None:
    """A send to phonenumbers' example mobile number of ``region``, written nationally with dashes."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return None
    written = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    return SendExample(f"{'-'.join(written.split())} Your message", NATIONAL)


def read_examples(default_region: str | None) -> list[ReadExample]:
    """The send examples (with a national one when there is a default region), each as the parser reads it
    (it raises if one no longer parses: the help would lie)."""
    read = [ReadExample(example, parse_command(example.text, default_region)) for example in SEND_EXAMPLES]
    national = national_example(default_region) if default_region else None
    if national is not None:
        # Left out in a country whose numbers are too short to tell from words (+247 has 5 digits).
        with suppress(InvalidInput):
            read.append(ReadExample(national, parse_command(national.text, default_region)))
    return read


@dataclass(frozen=True)
class LengthRule:
    """How long a message may be, as the length check counts it."""

    parts: int
    plain: int  # characters of the GSM alphabet
    unicode: int  # characters once any other character (an emoji, some accents) is in the text


def length_rule(stop_clause: bool) -> LengthRule:
    """The longest message :func:`~bot.domain.sms_text.check_message` accepts, in plain and Unicode text."""
    return LengthRule(
        parts=MAX_PARTS,
        plain=measure("a", stop_clause=stop_clause).max_units,
        unicode=measure("ą", stop_clause=stop_clause).max_units,
    )
