"""Which language to answer a person in: their Slack locale (`users.info` with `include_locale`), cached
like group membership, turned into a :class:`~bot.i18n.Translator` (English when unknown)."""

from __future__ import annotations

import logging

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
