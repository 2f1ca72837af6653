"""How long an SMS text is for the network, how many parts it takes, and whether it can be sent.

One character outside the GSM 03.38 alphabet turns the whole text into UCS-2 ("Unicode"), which more
than halves the room per SMS; OVH refuses texts longer than six concatenated parts.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.domain.errors import InputField, InvalidInput
from bot.i18n import T_, Joined, Text, Tn_, joined

MAX_PARTS = 6
# The STOP mention OVH appends when noStopClause is false ("about 11 chars" per its FAQ).
STOP_CLAUSE_UNITS = 11

# GSM 03.38 basic table, one row per column of the standard (0x00-0x0F, 0x10-0x1F, ...). 0x1B is the
# escape to the extension table, not a character anyone can type.
_GSM7_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
_GSM7_BASIC = frozenset(_GSM7_TABLE) - {"\x1b"}
# Extension table: each is sent as escape + character, so it counts twice.
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7 = _GSM7_BASIC | _GSM7_EXTENSION


class Encoding(StrEnum):
    """The alphabet a text is sent in."""

    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


# Units in a single SMS, and per part once a text is split (the rest carries the concatenation header).
_SINGLE = {Encoding.GSM7: 160, Encoding.UCS2: 70}
_PER_PART = {Encoding.GSM7: 153, Encoding.UCS2: 67}
_LABEL = {Encoding.GSM7: "GSM-7", Encoding.UCS2: "Unicode"}
_CHARS_SHOWN = 3


@dataclass(frozen=True)
class Segmentation:
    """How the network will carry a text."""

    encoding: Encoding
    units: int  # GSM-7 septets or UCS-2 code units, including the STOP mention when there is one
    parts: int
    per_part: int  # 160/70 when the text fits one SMS, else 153/67
    max_units: int  # the most units the person's own text may take (the STOP mention's room excluded)
    reserved: int = 0  # units of ``units`` taken by the STOP mention: 0 or STOP_CLAUSE_UNITS


def measure(text: str, *, stop_clause: bool = False) -> Segmentation:
    """Measure ``text`` as the network counts it, plus OVH's STOP mention when ``stop_clause`` is set.

    ``max_units`` is the room for the text itself at ``MAX_PARTS`` parts.
    """
    reserved = STOP_CLAUSE_UNITS if stop_clause else 0
    if _GSM7.issuperset(text):
        encoding = Encoding.GSM7
        units = len(text) + sum(char in _GSM7_EXTENSION for char in text)
    else:
        encoding = Encoding.UCS2
        # UTF-16 code units: a character outside the BMP (most emoji) takes two. "surrogatepass" so
        # that a stray surrogate counts one instead of raising.
        units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    units += reserved
    parts = 1 if units <= _SINGLE[encoding] else math.ceil(units / _PER_PART[encoding])
    return Segmentation(
        encoding=encoding,
        units=units,
        parts=parts,
        per_part=_SINGLE[encoding] if parts == 1 else _PER_PART[encoding],
        max_units=_limit(encoding, MAX_PARTS) - reserved,
        reserved=reserved,
    )


def check_message(text: str, *, stop_clause: bool = False, max_parts: int = MAX_PARTS) -> Segmentation:
    """Measure ``text`` and raise ``InvalidInput`` (message) if it is empty or takes more than ``max_parts``.

    The returned ``max_units`` is the room at ``max_parts`` parts.
    """
    if max_parts < 1:
        raise ValueError(f"max_parts must be at least 1, not {max_parts}")
    if not text.strip():
        raise InvalidInput(InputField.MESSAGE, T_("The message is empty. Write the text to send."))
    if all(char.isspace() or is_invisible(char) for char in text):
        raise InvalidInput(
            InputField.MESSAGE,
            T_(
                "The message is empty: it holds only invisible characters (such as zero-width spaces). "
                "Write the text to send."
            ),
        )
    unsendable = list(dict.fromkeys(char for char in text if _unsendable(char)))
    if unsendable:
        shown = ", ".join(_show_char(char) for char in unsendable[:_CHARS_SHOWN])
        raise InvalidInput(
            InputField.MESSAGE,
            T_(
                "The message holds characters a phone cannot show: {characters}. Remove them and send again.",
                characters=shown,
            ),
        )
    seg = measure(text, stop_clause=stop_clause)
    seg = replace(seg, max_units=_limit(seg.encoding, max_parts) - seg.reserved)
    if seg.parts > max_parts:
        raise InvalidInput(InputField.MESSAGE, _too_long(text, seg, max_parts))
    return seg


# Characters that show nothing on their own, beyond the format characters (category Cf: zero-width spaces
# and joiners, U+2060 word joiner, U+FEFF, bidi marks and controls, tags): variation selectors, the
# combining grapheme joiner, and the blank fillers of Hangul, Khmer and Braille that pass for letters.
_INVISIBLE = frozenset(
    [
        *range(0xFE00, 0xFE10),
        *range(0xE0100, 0xE01F0),
        0x034F,
        0x115F,
        0x1160,
        0x17B4,
        0x17B5,
        0x2800,
        0x3164,
        0xFFA0,
    ]
)


def is_invisible(char: str) -> bool:
    """Whether ``char`` shows nothing by itself (white space aside): a text made of these alone is empty."""
    return unicodedata.category(char) == "Cf" or ord(char) in _INVISIBLE


def _unsendable(char: str) -> bool:
    # Control characters other than tab, new lines and form feed; U+FFFD, what is left of bytes that were
    # not text; lone surrogates, which are not characters at all (and which no database stores).
    code = ord(char)
    return (
        (code < 0x20 and char not in "\t\n\r\f")
        or 0x7F <= code <= 0x9F
        or code == 0xFFFD
        or 0xD800 <= code <= 0xDFFF
    )


def gsm7_outsiders(text: str) -> list[str]:
    """The distinct characters of ``text`` outside the GSM-7 alphabet, in order: what makes it Unicode."""
    return list(dict.fromkeys(char for char in text if char not in _GSM7))


def encoding_label(encoding: Encoding) -> str:
    """How people call an encoding: ``GSM-7`` or ``Unicode``."""
    return _LABEL[encoding]


def show_char(char: str) -> str:
    """A character named so it can be found (curly and straight quotes look alike, some are invisible)."""
    return _show_char(char)


def describe(seg: Segmentation) -> Text:
    """A short size summary for hints, e.g. ``142 characters, 1 SMS (GSM-7)``."""
    length = seg.units - seg.reserved
    fields = {"count": format(length, ","), "parts": format(seg.parts, ","), "encoding": _LABEL[seg.encoding]}
    if seg.reserved:
        return Tn_(
            "{count} character + STOP mention, {parts} SMS ({encoding})",
            "{count} characters + STOP mention, {parts} SMS ({encoding})",
            length,
            **fields,
        )
    return Tn_(
        "{count} character, {parts} SMS ({encoding})",
        "{count} characters, {parts} SMS ({encoding})",
        length,
        **fields,
    )


def _limit(encoding: Encoding, parts: int) -> int:
    return _SINGLE[encoding] if parts == 1 else parts * _PER_PART[encoding]


def _too_long(text: str, seg: Segmentation, max_parts: int) -> Joined:
    length = seg.units - seg.reserved
    sizes = {"limit": format(seg.max_units, ","), "parts": max_parts}
    if seg.encoding is Encoding.UCS2:
        limit = (
            T_(
                "the limit for Unicode text is {limit} ({parts} SMS, keeping room for the STOP mention)",
                **sizes,
            )
            if seg.reserved
            else T_("the limit for Unicode text is {limit} ({parts} SMS)", **sizes)
        )
    else:
        limit = (
            T_("the limit is {limit} ({parts} SMS, keeping room for the STOP mention)", **sizes)
            if seg.reserved
            else T_("the limit is {limit} ({parts} SMS)", **sizes)
        )
    over = length - seg.max_units
    sentences: list[Text] = [
        Tn_(
            "The message is {count} character ({parts} SMS); {limit}.",
            "The message is {count} characters ({parts} SMS); {limit}.",
            length,
            count=format(length, ","),
            parts=format(seg.parts, ","),
            limit=limit,
        ),
        Tn_(
            "Shorten it by {count} character.",
            "Shorten it by {count} characters.",
            over,
            count=format(over, ","),
        ),
    ]
    if seg.encoding is Encoding.UCS2:
        # Often a single curly quote or emoji pasted in; replacing it more than doubles the room.
        culprits = gsm7_outsiders(text)
        shown: object = ", ".join(_show_char(char) for char in culprits[:_CHARS_SHOWN])
        if len(culprits) > _CHARS_SHOWN:
            shown = T_(
                "{characters} and {count} more",
                characters=shown,
                count=format(len(culprits) - _CHARS_SHOWN, ","),
            )
        gsm_limit = _limit(Encoding.GSM7, max_parts) - seg.reserved
        sentences.append(
            T_(
                "It counts as Unicode because of {characters}: "
                "with plain characters instead, the limit would be {limit}.",
                characters=shown,
                limit=format(gsm_limit, ","),
            )
        )
    return joined(sentences)


def _show_char(char: str) -> str:
    """Name a character so it can be found: curly and straight quotes look alike, some are invisible."""
    name = unicodedata.name(char, "").lower()
    if char.isprintable() and not char.isspace() and char != "`":
        return f"`{char}` ({name})" if name else f"`{char}`"
    # Invisible (no-break or zero-width space...), or a backtick, which a code span cannot hold.
    return f"U+{ord(char):04X} ({name})" if name else f"U+{ord(char):04X}"
