"""Phone numbers as people type them, read into the E.164 numbers OVH expects.

Two inputs come here: the receivers field of the send form (numbers only) and the text of the ``/sms``
command (numbers, then the message). Every problem becomes an ``InvalidInput`` that quotes what was
typed and says how to fix it. How many receivers, and which countries, are policy questions decided
elsewhere; this module only says whether each number is a real one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, ValidationResult

from bot.domain.errors import InputField, InvalidInput
from bot.i18n import N_, T_, Text, Tn_, joined

# People write numbers with these, and nothing else: phonenumbers would also accept letters ("vanity"
# numbers, "1-800-FLOWERS") and extensions ("ext. 12"), which make no sense for an SMS.
_TYPED_NUMBER = re.compile(r"[0-9+().\-\s]+")
# The receivers field: commas, semicolons and new lines separate numbers; spaces may too (see below).
_LIST_SEPARATORS = re.compile(r"[,;\n]+")
# The /sms text: words, and within a word the pieces between commas or semicolons.
_WORD = re.compile(r"\S+")
_PIECE = re.compile(r"[^,;]+")
# Longer input is refused before parsing: reading numbers costs time, and Slack's ack deadline is 3 s.
# A command holds at most a 918-character message and a few dozen numbers.
MAX_INPUT_CHARS = 5_000
# Limit the list of bad numbers, so that a paragraph pasted in the wrong field gives a readable error.
_MAX_LISTED = 10
# Fewer digits than this are masked entirely: keeping five of them would reveal most of the number.
_MASK_MIN_DIGITS = 8

# The advice after the bad numbers, marked for translation (a message is told in the reader's language).
_ADVICE_FORMAT = N_("Write numbers in international format, like `+34600000001`.")
_ADVICE_NO_REGION = N_(
    "Write numbers in international format, like `+34600000001`, "
    "or have `SMS_DEFAULT_REGION` set so that national numbers are understood."
)
_ADVICE_INVALID = N_("Check the digits; for another country, start with `+` and its country code.")
_ADVICE_SPACES = N_("Separate numbers with commas or new lines.")
_ADVICE_COMMAND = N_(
    "If it is part of the message, start the message with a word, or type `/sms` alone to open the form."
)
# Why a number is not usable, said of the number as typed ("`12` is too short").
_NOT_A_NUMBER = N_("is not a phone number")
_TOO_SHORT = N_("is too short")
_TOO_LONG = N_("is too long")
_UNKNOWN_COUNTRY = N_("has an unknown country code")
_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "has an unknown country code",
    NumberParseException.TOO_SHORT_AFTER_IDD: "is too short",
    NumberParseException.TOO_SHORT_NSN: "is too short",
    NumberParseException.TOO_LONG: "is too long",
}


@dataclass(frozen=True)
class Receiver:
    """One valid phone number, in the forms the bot needs."""

    e164: str  # "+34600000001": what is sent to OVH
    display: str  # "+34 600 00 00 01": what people see
    region: str | None  # "ES"; None when the number belongs to no country (+800, +882, ...)
    number_type: int  # a phonenumbers.PhoneNumberType constant (they are plain ints), e.g. PREMIUM_RATE
    # Who the number belongs to, when it was named rather than typed (see bot.domain.recipients):
    label: str | None = None  # "@alice", or a contact's name: how the audit names the receiver
    user_id: str | None = None  # the person's id in the directory (Slack), for a person's profile phone
    contact: str | None = None  # the contact's name, for a number from the admins' contact list
    group: str | None = None  # "@oncall", for a person reached as a member of a group


@dataclass(frozen=True)
class ParsedCommand:
    """What ``/sms <numbers> <message>`` asks for."""

    receivers: tuple[Receiver, ...]
    message: str
    # Everything named before the message, in order: the receivers above and the references (people,
    # groups, contacts) that ``reference`` read, which are resolved to numbers later.
    # (Not compared: a parse is told by its receivers and message; targets only add the references.)
    targets: tuple[object, ...] = field(default=(), compare=False)


class _BadNumber(Exception):
    """Why one typed number is not usable; several are gathered into one ``InvalidInput``."""

    def __init__(self, token: str, reason: str | Text, advice: str) -> None:
        super().__init__(str(reason))
        self.token = token
        self.reason = T_(reason) if isinstance(reason, str) else reason
        self.advice = advice  # a marked constant

    def line(self) -> Text:
        return T_("{number} {reason}", number=_code(self.token), reason=self.reason)


def parse_receiver(token: str, default_region: str | None) -> Receiver:
    """Read one phone number as a person typed it.

    Accepts ``+34 600 00 00 01``, ``0034600000001`` and, when ``default_region`` (a region code such
    as ``"ES"``) is given, national numbers such as ``600000001``. Spaces, dashes, dots and parentheses
    may appear inside. Raises ``InvalidInput`` (receivers) if the number is not a valid one.
    """
    _check_region(default_region)
    if not token.strip():
        raise InvalidInput(InputField.RECEIVERS, T_("Enter a phone number, like `+34600000001`."))
    return _parse_all([token], default_region)[0]


def parse_receivers(text: str, default_region: str | None) -> tuple[Receiver, ...]:
    """Read the receivers field of the form: numbers separated by commas, semicolons, new lines or spaces.

    A piece between commas that reads as one valid number with its spaces (``+34 600 00 00 01``, as
    people copy numbers) is one number; otherwise its spaces separate numbers. Repeated numbers are kept
    once, in the order first typed. If several numbers are wrong, one ``InvalidInput`` lists them all,
    so that they can be fixed at once.
    """
    _check_region(default_region)
    _check_size(
        text,
        T_("The list of numbers is {length} characters long; the bot reads at most {limit}.", **_sizes(text)),
    )
    tokens: list[str] = []
    for piece in (piece.strip() for piece in _LIST_SEPARATORS.split(text)):
        if len(piece.split()) > 1 and not _is_one_number(piece, default_region):
            tokens.extend(piece.split())
        elif piece:
            tokens.append(piece)
    if not tokens:
        raise InvalidInput(InputField.RECEIVERS, T_("Enter at least one phone number, like `+34600000001`."))
    return _parse_all(tokens, default_region, advice_if_several=_ADVICE_SPACES)


def parse_command(
    text: str, default_region: str | None, reference: Callable[[str], object | None] | None = None
) -> ParsedCommand:
    """Read the text of ``/sms +34600000001,+34600000002 Hola equipo``.

    The numbers come first, separated by spaces, commas or semicolons; the message is the rest of the
    text as typed (inner spaces and new lines kept), from the first word that does not look like a
    phone number. A word that looks like a number but is not a valid one is an error rather than the
    start of the message, so that an SMS never goes to fewer people than intended. The text must
    already be un-escaped from Slack's ``&amp;``, ``&lt;``, ``&gt;``.

    ``reference`` reads a word that names receivers other than by number (a person, a group, a contact)
    into a reference, or None; such words count as receivers, in ``targets``.
    """
    _check_region(default_region)
    _check_size(
        text, T_("The command is {length} characters long; the bot reads at most {limit}.", **_sizes(text))
    )
    words, message = _split_command(text, reference or _no_reference)
    numbers = [word for word in words if isinstance(word, str)]
    if not words:
        if not message:
            hint = T_(
                "Write the number(s), then the message: `/sms +34600000001 Your message`. "
                "Or type `/sms` alone to open the form."
            )
        else:
            hint = T_(
                "{word} is not a phone number. Start with the number(s): `/sms +34600000001 Your message`. "
                "Or type `/sms` alone to open the form.",
                word=_code(message.split()[0]),
            )
        raise InvalidInput(InputField.RECEIVERS, hint)
    receivers = _parse_all(numbers, default_region, advice=_ADVICE_COMMAND) if numbers else ()
    if not message:
        raise InvalidInput(
            InputField.MESSAGE,
            T_(
                "Write the message after the number(s): `/sms +34600000001 Your message`. "
                "Or type `/sms` alone to open the form."
            ),
        )
    by_number = {receiver.e164: receiver for receiver in receivers}
    targets = [
        by_number[_receiver(word.strip(), default_region).e164] if isinstance(word, str) else word
        for word in words
    ]
    return ParsedCommand(receivers=receivers, message=message, targets=tuple(dict.fromkeys(targets)))


def mask(e164: str) -> str:
    """Hide most digits of a number for logs: ``+34600000001`` becomes ``+34******001``."""
    plus = "+" if e164.startswith("+") else ""
    digits = e164.removeprefix("+")
    if len(digits) < _MASK_MIN_DIGITS:
        return plus + "*" * len(digits)
    return plus + digits[:2] + "*" * (len(digits) - 5) + digits[-3:]


def _sizes(text: str) -> dict[str, str]:
    return {"length": format(len(text), ","), "limit": format(MAX_INPUT_CHARS, ",")}


def _check_size(text: str, too_long: Text) -> None:
    if len(text) > MAX_INPUT_CHARS:
        raise InvalidInput(
            InputField.RECEIVERS,
            joined([too_long, T_("A message can be up to 918 characters: check what was pasted.")]),
        )


def _check_region(default_region: str | None) -> None:
    # The region comes from settings, not from people: a wrong one is a bug, not an input error.
    if default_region is not None and default_region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {default_region!r}")


def _no_reference(_word: str) -> object | None:
    return None


def _split_command(text: str, reference: Callable[[str], object | None]) -> tuple[list[object], str]:
    """Split ``/sms`` text into the receivers it starts with (number-like pieces as typed, and references
    ``reference`` read) and the message after them."""
    words: list[object] = []
    for word in _WORD.finditer(text):
        pieces = list(_PIECE.finditer(word.group()))
        for index, piece in enumerate(pieces):
            named = reference(piece.group())
            if named is not None:
                words.append(named)
                continue
            if not _looks_like_number(piece.group()):
                # A word that starts with a separator (";)") belongs whole to the message.
                start = word.start() if index == 0 else word.start() + piece.start()
                return words, text[start:].rstrip()
            words.append(piece.group())
    return words, ""


def _looks_like_number(piece: str) -> bool:
    # Generous on purpose: whatever passes is read as a receiver (and must then be valid), never as
    # the first word of the message.
    if re.match(r"\+[0-9]", piece):
        return True
    return re.fullmatch(r"[0-9+().\-]+", piece) is not None and sum(c.isdigit() for c in piece) >= 6


def _parse_all(
    tokens: Iterable[str], region: str | None, *, advice: str = "", advice_if_several: str = ""
) -> tuple[Receiver, ...]:
    """Read every token; raise one ``InvalidInput`` naming each bad one, so that all are fixed at once."""
    receivers: dict[str, Receiver] = {}  # by E.164: a dict keeps the order of first occurrence
    bad: dict[str, _BadNumber] = {}
    for token in tokens:
        try:
            receiver = _receiver(token.strip(), region)
        except _BadNumber as error:
            bad.setdefault(error.token, error)
        else:
            receivers.setdefault(receiver.e164, receiver)
    if not bad:
        return tuple(receivers.values())
    errors = list(bad.values())
    advices = [*dict.fromkeys(error.advice for error in errors), advice]
    if len(errors) == 1:
        first = T_("{number} {reason}.", number=_code(errors[0].token), reason=errors[0].reason)
        raise InvalidInput(InputField.RECEIVERS, joined([first, *(T_(a) for a in advices if a)]))
    lines: list[object] = [joined(["•", error.line()]) for error in errors[:_MAX_LISTED]]
    if len(errors) > _MAX_LISTED:
        lines.append(T_("• …and {count} more", count=len(errors) - _MAX_LISTED))
    advices.append(advice_if_several)
    summary = Tn_("{count} number is not valid:", "{count} numbers are not valid:", len(errors))
    advised = joined(T_(a) for a in dict.fromkeys(advices) if a)
    raise InvalidInput(InputField.RECEIVERS, joined([summary, *lines, advised], "\n"))


def _is_one_number(piece: str, region: str | None) -> bool:
    try:
        _read(piece, region)
    except _BadNumber:
        return False
    return True


def _receiver(token: str, region: str | None) -> Receiver:
    number = _read(token, region)
    region_code = phonenumbers.region_code_for_number(number)
    return Receiver(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        display=phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
        # "001" marks numbers of no country (international freephone, satellite): not a region.
        region=region_code if region_code in phonenumbers.SUPPORTED_REGIONS else None,
        number_type=phonenumbers.number_type(number),
    )


def _read(token: str, region: str | None) -> PhoneNumber:
    if not _TYPED_NUMBER.fullmatch(token) or not re.search(r"[0-9]", token):
        raise _BadNumber(token, _NOT_A_NUMBER, _ADVICE_FORMAT)
    compact = re.sub(r"[^0-9+]", "", token)
    readings: list[tuple[str, str | None]] = []
    if region is not None or compact.startswith("+"):
        readings.append((token, region))
    # OVH takes 00 as the international prefix. phonenumbers already reads it so for regions that dial
    # 00 abroad (ES, FR, ...); elsewhere (US: 011) or without a region, it is our second reading.
    if compact.startswith("00"):
        readings.append(("+" + compact[2:], None))
    if not readings:
        raise _BadNumber(token, N_("has no country code"), _ADVICE_NO_REGION)
    problem = _BadNumber(token, _NOT_A_NUMBER, _ADVICE_FORMAT)
    for text, reading_region in readings:
        try:
            number = phonenumbers.parse(text, reading_region)
        except NumberParseException as error:
            problem = _BadNumber(token, _PARSE_ERRORS.get(error.error_type, _NOT_A_NUMBER), _ADVICE_FORMAT)
            continue
        if phonenumbers.is_valid_number(number):
            return number
        problem = _invalid(token, number)
    raise problem


def _invalid(token: str, number: PhoneNumber) -> _BadNumber:
    """Say why a parsed number is not valid, and show what one looks like in the country it was read for."""
    country_code = number.country_code
    region = phonenumbers.region_code_for_country_code(country_code)
    if region == phonenumbers.UNKNOWN_REGION:
        return _BadNumber(
            token, T_("has an unknown country code (+{code})", code=country_code), _ADVICE_FORMAT
        )
    why = {
        ValidationResult.TOO_SHORT: _TOO_SHORT,
        ValidationResult.TOO_LONG: _TOO_LONG,
        ValidationResult.INVALID_LENGTH: N_("has the wrong number of digits"),
    }.get(phonenumbers.is_possible_number_with_reason(number), N_("is not a valid number"))
    where = f"{region} (+{country_code})" if region in phonenumbers.SUPPORTED_REGIONS else f"+{country_code}"
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return _BadNumber(token, T_("{problem} for {where}", problem=T_(why), where=where), _ADVICE_INVALID)
    shown = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
    reason = T_(
        "{problem} for {where}; a mobile number there looks like {example}",
        problem=T_(why),
        where=where,
        example=_code(shown),
    )
    return _BadNumber(token, reason, _ADVICE_INVALID)


def _code(text: str) -> str:
    """Quote typed text as a `code` span that cannot break (no backticks) or flood the message.

    The result is plain text, as every ``user_message`` is: the Slack edge (``blocks.error_message``)
    escapes `&`, `<` and `>`, so a typed `<!here>` shows as typed instead of pinging anyone, while the
    command line and the form's inline errors show it unchanged.
    """
    text = " ".join(text.replace("`", "'").split())
    if len(text) > 30:
        text = text[:29] + "…"
    return f"`{text}`"
