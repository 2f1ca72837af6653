"""Languages: the person's Slack locale picks a catalogue (a gettext `.po` file per language, read with
Babel); English, the language the code is written in, for every other locale.

Strings to translate are marked ``t._("…")`` (and ``t.ngettext("…", "…", n)``) on a :class:`Translator`
where the reader is known. Where they are not (the domain, the OVH adapter, an audit re-rendered later), a
message is a :class:`Text`, made with ``T_("…", field=value)`` or ``Tn_("one …", "{count} …", n, …)``, and
put into the reader's language at the edge (``text.in_(t)``). ``python -m bot.i18n`` lists them, and ``tests/test_i18n.py`` fails when a catalogue lacks one or keeps
one the code no longer has. A third language is one more file, ``locales/<language>/LC_MESSAGES/smsbot.po``:
no code changes. The SMS text itself is never translated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from gettext import c2py
from pathlib import Path
from typing import Protocol

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "smsbot"
DEFAULT_LANGUAGE = "en"
KEYWORDS = {
    "_": None,
    "ngettext": (1, 2),
    "N_": None,
    "T_": None,
    "Tn_": (1, 2),
}  # how strings are marked, for extraction


def N_(message: str) -> str:
    """Mark a string for translation where it is defined (in the domain, a constant), and return it as is:
    the edge translates it (``t._(text)``) in the person's language."""
    return message


@dataclass(frozen=True)
class Translator:
    """Strings in one language; English (the msgids themselves) when there is no catalogue."""

    language: str = DEFAULT_LANGUAGE
    _singular: dict[str, str] = field(default_factory=dict, repr=False)
    _plural: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, repr=False)
    _plural_index: object = field(default=None, repr=False)

    def _(self, message: str) -> str:
        """``message`` in this language (as is when not translated)."""
        return self._singular.get(message) or message

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        """The form for ``count`` of a message with a plural."""
        forms = self._plural.get((singular, plural))
        if forms and callable(self._plural_index):
            index = int(self._plural_index(count))  # type: ignore[operator]
            if 0 <= index < len(forms) and forms[index]:
                return forms[index]
        return singular if count == 1 else plural

    def number(self, value: float, decimals: int = 0) -> str:
        """``value`` as this language writes numbers, with at most ``decimals`` decimals and no trailing
        zeros: ``12,345.5`` in English, ``12.345,5`` in Spanish (CLDR's separators, read by Babel)."""
        pattern = "#,##0" + ("." + "#" * decimals if decimals > 0 else "")
        return format_decimal(value, format=pattern, locale=self.language)


ENGLISH = Translator()
_lock = threading.Lock()


def languages() -> list[str]:
    """The languages with a catalogue, and English."""
    found = sorted(p.name for p in LOCALES.iterdir() if (p / "LC_MESSAGES" / f"{DOMAIN}.po").is_file())
    return [DEFAULT_LANGUAGE, *found]


def catalogue_path(language: str) -> Path:
    """Where a language's catalogue lives."""
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(language: str) -> Catalog:
    """A language's `.po` file, as Babel reads it."""
    with catalogue_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


@cache
def translator(language: str) -> Translator:
    """The translator of a language with a catalogue; English otherwise."""
    if language == DEFAULT_LANGUAGE or not catalogue_path(language).is_file():
        return ENGLISH
    with _lock:
        catalog = read_catalogue(language)
    singular: dict[str, str] = {}
    plural: dict[tuple[str, str], tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            plural[(message.id[0], message.id[1])] = tuple(message.string)
        elif message.string:
            singular[message.id] = message.string
    # gettext's plural rule of the language (`(n != 1)` for Spanish), as a function of the count.
    return Translator(language, singular, plural, c2py(catalog.plural_expr))


def for_locale(locale: str | None) -> Translator:
    """The translator for a Slack locale (``es-ES``, ``es-LA``, ``en-US``, ``fr-FR``): by its language, when
    there is a catalogue for it; English otherwise."""
    language = (locale or "").replace("_", "-").split("-")[0].lower()
    return translator(language) if language in languages() else ENGLISH


class Translatable(Protocol):
    """What can be put into a reader's language: a :class:`Text`, a :class:`Joined` list of them."""

    def in_(self, t: Translator) -> str: ...


@dataclass(frozen=True)
class Text:
    """A message for someone whose language is not known where it is written: its English string (the
    msgid) and the values of its ``{fields}``. A field may itself be a :class:`Text` (or :class:`Joined`),
    put into the same language. ``str(text)`` is the English, for logs and the command line."""

    message: str
    fields: Mapping[str, object] = field(default_factory=dict)
    plural: str | None = None
    count: int = 1

    def in_(self, t: Translator) -> str:
        """The message in ``t``'s language, its fields filled in."""
        template = t.ngettext(self.message, self.plural, self.count) if self.plural else t._(self.message)
        if not self.fields and self.plural is None:
            return template
        values = {
            name: (value.in_(t) if hasattr(value, "in_") else value) for name, value in self.fields.items()
        }
        values.setdefault("count", t.number(self.count))
        return template.format(**values)

    def __str__(self) -> str:
        return self.in_(ENGLISH)


@dataclass(frozen=True)
class Joined:
    """Several messages (or plain strings) shown one after the other, each in the reader's language."""

    parts: tuple[object, ...]
    separator: str = " "

    def in_(self, t: Translator) -> str:
        return self.separator.join(part.in_(t) if hasattr(part, "in_") else str(part) for part in self.parts)

    def __str__(self) -> str:
        return self.in_(ENGLISH)


@dataclass(frozen=True)
class Number:
    """A number in a :class:`Text`'s fields, written as the reader's language writes numbers."""

    value: float
    decimals: int = 0

    def in_(self, t: Translator) -> str:
        return t.number(self.value, self.decimals)

    def __str__(self) -> str:
        return self.in_(ENGLISH)


def T_(message: str, **fields: object) -> Text:
    """A message to translate where it is read: ``T_("Send #{id} failed.", id=7)``."""
    return Text(message, fields)


def Tn_(singular: str, plural: str, n: int, /, **fields: object) -> Text:
    """A message with a plural, picked by ``count`` in the reader's language; ``{count}`` is the count
    unless a field of that name is given (formatted, say)."""
    return Text(singular, fields, plural, n)


def joined(parts: Iterable[object], separator: str = " ") -> Joined:
    """``parts`` (texts or strings) one after the other, each put into the reader's language."""
    return Joined(tuple(parts), separator)


def in_(message: str | Translatable, t: Translator) -> str:
    """A message in ``t``'s language: a :class:`Text` is translated; a plain string is looked up as a msgid
    (a constant marked ``N_``) and otherwise shown as it is."""
    return t._(message) if isinstance(message, str) else message.in_(t)
