"""Languages: the person's Slack locale picks a catalogue (a gettext `.po` file per language, read with
Babel); English, the language the code is written in, for every other locale.

Strings to translate are marked ``t._("…")`` (and ``t.ngettext("…", "…", n)``) on a :class:`Translator`;
``python -m bot.i18n`` lists them, and ``tests/test_i18n.py`` fails when a catalogue lacks one or keeps
one the code no longer has. A third language is one more file, ``locales/<language>/LC_MESSAGES/smsbot.po``:
no code changes. The SMS text itself is never translated.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache
from gettext import c2py
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "smsbot"
DEFAULT_LANGUAGE = "en"
KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": None}  # how strings are marked, for extraction


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
