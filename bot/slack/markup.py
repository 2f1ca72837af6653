"""Slack's message markup read back: mentions as receivers, and any Slack text as a phone would show it.

Slack sends text with its own markup: `&`, `<` and `>` escaped as entities, and mentions, channels and links
as `<…>` tokens (`<@U123|alice>`, `<!subteam^S123|@oncall>`, `<#C123|general>`, `<https://x.es|x.es>`). A
slash command gets those tokens when its manifest entry has `should_escape: true`. An SMS carries none of
that: it gets the names and addresses a person would read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import emoji

from bot.domain.recipients import CONTACT_NAME, ContactRef, GroupRef, PersonRef, Target

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_GROUP = re.compile(r"<!subteam\^(S[A-Z0-9]+)(?:\|([^>]*))?>")
_CONTACT = re.compile(r"@(" + CONTACT_NAME.pattern + r")")
_TOKEN = re.compile(r"<([^<>]*)>")
_EMOJI_CODE = re.compile(r":([a-z0-9_+\-']+):")
_SKIN_TONE = re.compile(r":skin-tone-[2-6]:")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


# Each <…> token of a command stands in the text being parsed as one character of Unicode's Supplementary
# Private Use Area-A, so that the words around it are read un-escaped, exactly as typed.
_PLACEHOLDER_BASE = 0xF0000
_PLACEHOLDERS = re.compile("[\U000f0000-\U000ffffd]")


@dataclass(frozen=True)
class CommandText:
    """A command's text as typed, with Slack's `<…>` tokens kept apart (one placeholder character each)."""

    text: str
    tokens: tuple[str, ...]

    @classmethod
    def read(cls, raw: str) -> CommandText:
        """Read a command's text as Slack sent it (escaped, with mentions and links as tokens)."""
        if _PLACEHOLDERS.search(
            raw
        ):  # typed characters of that area: read no tokens rather than misread them
            return cls(_unescape(raw), ())
        tokens: list[str] = []

        def hold(match: re.Match[str]) -> str:
            tokens.append(match.group())
            return chr(_PLACEHOLDER_BASE + len(tokens) - 1)

        return cls(_unescape(_TOKEN.sub(hold, raw)), tuple(tokens))

    def reference(self, word: str) -> Target | None:
        """What one word of the command names besides a number (see :func:`command_reference`)."""
        token = self._token(word)
        if token is None:  # typed text: only a contact's name (a typed `<@U…>` is not a mention)
            return ContactRef(match.group(1)) if (match := _CONTACT.fullmatch(word)) else None
        return command_reference(token)

    def plain(self, text: str) -> str:
        """A part of :attr:`text` as a phone shows it: each token as its plain text (see :func:`plain_text`)."""

        def shown(match: re.Match[str]) -> str:
            token = self._token(match.group())
            return match.group() if token is None else plain_text(token)

        return _PLACEHOLDERS.sub(shown, text)

    def _token(self, word: str) -> str | None:
        if len(word) != 1 or not _PLACEHOLDERS.fullmatch(word):
            return None
        index = ord(word) - _PLACEHOLDER_BASE
        return self.tokens[index] if index < len(self.tokens) else None


def command_reference(word: str) -> Target | None:
    """What one word of a `/sms` command (as Slack sent it, escaped) names besides a number: a person
    (`<@U123|alice>`), a user group (`<!subteam^S123|@oncall>`) or a contact (`@reception`); else None."""
    if match := _USER.fullmatch(word):
        return PersonRef(match.group(1), match.group(2) or "")
    if match := _GROUP.fullmatch(word):
        return GroupRef(match.group(1), (match.group(2) or "").lstrip("@"))
    if match := _CONTACT.fullmatch(word):
        return ContactRef(match.group(1))
    return None


def plain_text(markup: str, *, emoji_codes: bool = False) -> str:
    """Slack text as a phone would show it: mentions as `@name`, channels as `#name`, links as their
    address (with the label first when it says something else), entities un-escaped; with
    ``emoji_codes``, `:smile:` as 😄 (a code with no standard emoji, a workspace's own, stays as typed)."""
    text = _TOKEN.sub(_token_text, markup)
    if emoji_codes:
        text = _SKIN_TONE.sub("", text)
        text = _EMOJI_CODE.sub(_emoji, text)
    return _unescape(text)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _token_text(match: re.Match[str]) -> str:
    body = match.group(1)
    target, _, label = body.partition("|")
    if target.startswith("@"):
        return f"@{label or target[1:]}"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!subteam^"):
        return label if label.startswith("@") else f"@{label or 'group'}"
    if target.startswith("!date^"):
        return label or target
    if target.startswith("!"):
        return _SPECIAL.get(target[1:], label or f"@{target[1:]}")
    address = target.removeprefix("mailto:").removeprefix("tel:")
    if (
        not label
        or label in (target, address)
        or target.endswith("//" + label)
        or target.endswith(label + "/")
    ):
        return address
    return f"{label} ({address})"


def _emoji(match: re.Match[str]) -> str:
    code = match.group(1)
    if code.startswith("flag-") and len(code) == 7:
        return "".join(chr(0x1F1E6 + ord(c) - ord("a")) for c in code[5:] if "a" <= c <= "z") or match.group()
    shown = emoji.emojize(f":{code}:", language="alias")
    return shown
