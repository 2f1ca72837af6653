"""The strings the code marks for translation, read from the source with Babel's extractor, and how a
catalogue compares with them. ``python -m bot.i18n`` writes the template (`.pot`) to standard output."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir

from bot.i18n import DOMAIN, KEYWORDS, read_catalogue

SOURCE = Path(__file__).resolve().parent.parent  # the `bot` package


def marked() -> Catalog:
    """Every marked string of the bot, with where it is."""
    catalog = Catalog(domain=DOMAIN, project="smsbot")
    for filename, lineno, message, comments, context in extract_from_dir(
        SOURCE, method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        catalog.add(message, None, [(f"bot/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


@dataclass(frozen=True)
class Gaps:
    """How one language's catalogue differs from the code."""

    missing: list[str]  # marked in the code, not translated there
    stale: list[str]  # translated there, no longer in the code

    @property
    def complete(self) -> bool:
        """Whether the catalogue translates exactly what the code marks."""
        return not (self.missing or self.stale)


def gaps(language: str) -> Gaps:
    """What ``language``'s catalogue lacks (or keeps in vain) against the code."""
    code = {_key(message.id) for message in marked() if message.id}
    catalogue = read_catalogue(language)
    translated = {
        _key(message.id)
        for message in catalogue
        if message.id
        and not message.fuzzy
        and all(message.string if isinstance(message.string, tuple) else [message.string])
    }
    present = {_key(message.id) for message in catalogue if message.id}
    return Gaps(missing=sorted(code - translated), stale=sorted(present - code))


def _key(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else " | ".join(message_id)
