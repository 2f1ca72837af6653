"""A message kept in the database to be told later in its reader's language: a :class:`~bot.i18n.Text`
(or :class:`~bot.i18n.Joined`, a :class:`~bot.i18n.Number`, or a plain string, which is a msgid when marked ``N_``) as JSON, and back.

The ledger keeps a send's error in English (``error_message``: export, logs) and, beside it, the message
itself, so that an audit re-rendered later (recovery, a cancellation, delivery updates) tells it in the
thread's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.i18n import ENGLISH, Joined, Number, Text, Translatable, Translator, in_

Stored = str | Translatable


def to_json(message: object) -> Any:
    """``message`` as JSON values: a Text or Joined as a tagged object (their fields in turn), a string or
    a number as it is, anything else as its English text."""
    if isinstance(message, Text):
        return {
            "text": message.message,
            "fields": {name: to_json(value) for name, value in message.fields.items()},
            "plural": message.plural,
            "count": message.count,
        }
    if isinstance(message, Joined):
        return {"joined": [to_json(part) for part in message.parts], "separator": message.separator}
    if isinstance(message, Number):
        return {"number": message.value, "decimals": message.decimals}
    if message is None or isinstance(message, str | int | float | bool):
        return message
    if hasattr(message, "in_"):  # another kind of translatable message: its English
        return message.in_(ENGLISH)  # type: ignore[attr-defined]
    return str(message)


def from_json(value: Any) -> Any:
    """What :func:`to_json` wrote, back as Texts, Joined lists and plain values."""
    if isinstance(value, Mapping):
        if isinstance(value.get("text"), str):
            fields = value.get("fields")
            plural = value.get("plural")
            count = value.get("count")
            return Text(
                value["text"],
                {str(k): from_json(v) for k, v in fields.items()} if isinstance(fields, Mapping) else {},
                plural if isinstance(plural, str) else None,
                count if isinstance(count, int) and not isinstance(count, bool) else 1,
            )
        number, decimals = value.get("number"), value.get("decimals")
        if isinstance(number, int | float) and isinstance(decimals, int) and not isinstance(number, bool):
            return Number(number, decimals)
        if isinstance(value.get("joined"), list):
            separator = value.get("separator")
            return Joined(
                tuple(from_json(part) for part in value["joined"]),
                separator if isinstance(separator, str) else " ",
            )
    return value


def told(stored: Any, english: str | None, t: Translator) -> str | None:
    """A message kept with :func:`to_json`, in ``t``'s language; ``english`` (the column kept in English)
    where nothing usable was kept."""
    message = from_json(stored)
    if isinstance(message, str) or hasattr(message, "in_"):
        try:
            return in_(message, t)
        except (KeyError, IndexError, ValueError):  # a translation that lost a field: say it in English
            return english
    return english
