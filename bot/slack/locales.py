"""Which language to answer a person in: their Slack locale (`users.info` with `include_locale`), cached
like group membership, turned into a :class:`~bot.i18n.Translator` (English when unknown)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.access import TtlCache
from bot.i18n import ENGLISH, Translator, for_locale
from bot.slack.client import SLACK_FAILURES

log = logging.getLogger(__name__)


class Locales:
    """A person's translator, from their Slack locale. Slack's refusal is remembered as English; a lookup that
    gets no answer at all (the network) answers English and is tried again next time."""

    def __init__(self, client: WebClient, ttl: float) -> None:
        self._client = client
        self._cache: TtlCache[str, str | None] = TtlCache(self._locale, ttl)

    def _locale(self, user_id: str) -> str | None:
        try:
            answer = self._client.users_info(user=user_id, include_locale=True)
        except SlackApiError as error:  # Slack's answer (no such user, not visible): English, remembered
            log.info("Slack gives no locale for %s (%s): English", user_id, error.response.get("error"))
            return None
        user = answer.get("user")
        locale = user.get("locale") if isinstance(user, dict) else None
        return locale if isinstance(locale, str) else None

    def translator(self, user_id: str) -> Translator:
        """The translator for ``user_id``'s language; English if Slack does not say."""
        try:
            return for_locale(self._cache.get(user_id))
        except SLACK_FAILURES as error:
            log.info("the locale of %s is unknown (%s): English", user_id, error)
            return ENGLISH


class LazyTranslator:
    """A person's :class:`~bot.i18n.Translator`, asked for only when a message is first put into their
    language: a request that ends well tells nothing, so it asks Slack nothing (before an ack, and when
    people are looked up, every `users.info` call counts). Usable wherever a Translator is."""

    def __init__(self, translator: Callable[[str], Translator], user_id: str) -> None:
        self._translator = translator
        self._user_id = user_id
        self._resolved: Translator | None = None

    @property
    def resolved(self) -> Translator:
        """The person's translator (asked for once)."""
        if self._resolved is None:
            self._resolved = self._translator(self._user_id)
        return self._resolved

    @property
    def language(self) -> str:
        return self.resolved.language

    def _(self, message: str) -> str:
        return self.resolved._(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.resolved.ngettext(singular, plural, count)

    def number(self, value: float, decimals: int = 0) -> str:
        return self.resolved.number(value, decimals)


def lazy_translator(translator: Callable[[str], Translator], user_id: str) -> Translator:
    """``user_id``'s translator, asked of ``translator`` only when first used (see :class:`LazyTranslator`)."""
    return LazyTranslator(translator, user_id)  # type: ignore[return-value]  # a Translator by its methods
