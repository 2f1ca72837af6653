"""People and user groups as Slack knows them: :class:`bot.domain.recipients.People` over the Web API.

`users.info` (scope `users:read`) gives a person's profile phone as they typed it, and whether they are
deactivated or a bot; `usergroups.users.list` (scope `usergroups:read`) a group's members. Both answers
are kept for a short time (`SMS_USERGROUP_CACHE_SECONDS`): a group of fifty is fifty `users.info` calls,
and Slack rate-limits them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.access import TtlCache
from bot.domain.recipients import DirectoryUnavailable, Person
from bot.i18n import N_, T_, Text
from bot.slack.client import SLACK_FAILURES, failure_reason

# Slack's answers for an id that names nobody; anything else is a failure to ask.
_NO_USER = {"user_not_found", "users_not_found", "invalid_user"}
_NO_GROUP = {"no_such_subteam", "subteam_not_found", "invalid_subteam"}
# users.info is in Slack's tier 4 (100+ calls a minute): a few at once stay well within it.
WARM_WORKERS = 8
_MISSING_SCOPE = N_(
    "The bot's Slack app lacks the {scope} scope, which naming {what} as receivers needs, so nothing was "
    "sent. Ask an admin to add it (manifest.yml has it) and reinstall the app; `smsbot check` says so too."
)
# What a scope is needed for, said in the reader's language.
_PEOPLE, _GROUPS = N_("people"), N_("user groups")


class SlackPeople:
    """Who a Slack user id or user group id stands for (answers cached for ``ttl`` seconds)."""

    def __init__(self, client: WebClient, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._people: TtlCache[str, Person | None] = TtlCache(self._person, ttl, clock)
        self._groups: TtlCache[str, tuple[str, ...] | None] = TtlCache(self._members, ttl, clock)

    def person(self, user_id: str) -> Person | None:
        """See :meth:`bot.domain.recipients.People.person`; raises :class:`DirectoryUnavailable`."""
        return self._people.get(user_id)

    def group_members(self, group_id: str) -> Sequence[str] | None:
        """See :meth:`bot.domain.recipients.People.group_members`; raises :class:`DirectoryUnavailable`."""
        return self._groups.get(group_id)

    def warm(self, user_ids: Sequence[str]) -> None:
        """Look these people up concurrently, so that a form's hundred picked people (answered before its
        3-second ack) or a large group cost a few round trips, not one each. Failures are left for
        :meth:`person` to meet again (they are not kept)."""
        wanted = list(dict.fromkeys(user_ids))
        if len(wanted) < 2:
            return
        with ThreadPoolExecutor(max_workers=min(WARM_WORKERS, len(wanted))) as pool:
            for future in [pool.submit(self._people.get, user_id) for user_id in wanted]:
                future.exception()  # waited for; a failure is met again, and told, by person()

    def _person(self, user_id: str) -> Person | None:
        try:
            user = self._client.users_info(user=user_id).get("user") or {}
        except SlackApiError as error:
            if _code(error) in _NO_USER:
                return None
            raise _unavailable("users.info", error, "users:read", T_(_PEOPLE)) from error
        except SLACK_FAILURES as error:
            raise DirectoryUnavailable(f"users.info: {failure_reason(error)}") from error
        profile = user.get("profile") or {}
        name = profile.get("display_name") or user.get("name") or profile.get("real_name") or user_id
        return Person(
            user_id=user_id,
            name=str(name),
            phone=str(profile.get("phone") or ""),
            deactivated=bool(user.get("deleted")),
            bot=bool(user.get("is_bot")) or user_id == "USLACKBOT",
        )

    def _members(self, group_id: str) -> tuple[str, ...] | None:
        try:
            response = self._client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as error:
            if _code(error) in _NO_GROUP:
                return None
            raise _unavailable("usergroups.users.list", error, "usergroups:read", T_(_GROUPS)) from error
        except SLACK_FAILURES as error:
            raise DirectoryUnavailable(f"usergroups.users.list: {failure_reason(error)}") from error
        return tuple(str(user) for user in response.get("users") or [])


def _unavailable(method: str, error: SlackApiError, scope: str, what: Text) -> DirectoryUnavailable:
    code = _code(error)
    if code == "missing_scope":
        told = T_(_MISSING_SCOPE, scope=scope, what=what)  # in the reader's language, where it is told
        return DirectoryUnavailable(f"{method}: {code}", told)
    return DirectoryUnavailable(f"{method}: {code}")


def _code(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error"))
    except (AttributeError, TypeError):
        return str(error)
