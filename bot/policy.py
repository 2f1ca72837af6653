"""Who may send SMS, and from where.

Rules, from the settings:
- ``SMS_ALLOWED_USERS`` and ``SMS_ALLOWED_USERGROUPS`` say *who* may send (a listed user, or a member of
  a listed user group). When neither is set, anybody in an allowed channel may send.
- ``SMS_ALLOWED_CHANNELS`` says *where* SMS may be sent from. When unset, any channel is fine.
- With none of the three set, nobody may send: an SMS costs money, so access is opt-in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.errors import NotAllowed

HOW_TO_ALLOW = (
    "An admin can allow people with SMS_ALLOWED_USERS (Slack user ids), SMS_ALLOWED_USERGROUPS "
    "(user group ids) and SMS_ALLOWED_CHANNELS (channel ids); see the README's Access section."
)


class MembershipLookup(Protocol):
    """Answers who belongs to a Slack user group (the Slack edge implements it)."""

    def members(self, usergroup_id: str) -> frozenset[str]:
        """The user ids in the group. Raises on failure."""
        ...


@dataclass(frozen=True)
class SendPolicy:
    """The access rules; :meth:`check` raises :class:`NotAllowed` with a reason the person can act on."""

    allowed_users: frozenset[str] = frozenset()
    allowed_usergroups: frozenset[str] = frozenset()
    allowed_channels: frozenset[str] = frozenset()

    @property
    def configured(self) -> bool:
        """Whether any rule was set at all."""
        return bool(self.allowed_users or self.allowed_usergroups or self.allowed_channels)

    def check(self, user_id: str, channel_id: str | None, groups: MembershipLookup) -> None:
        """Allow the send, or raise :class:`NotAllowed` saying why and how to get access."""
        if not self.configured:
            raise NotAllowed(f"Nobody may send SMS with this bot yet. {HOW_TO_ALLOW}")
        if self.allowed_channels and channel_id not in self.allowed_channels:
            raise NotAllowed(
                "SMS cannot be sent from this conversation. Use `/sms` in one of the channels the bot allows, "
                "or ask an admin to add this channel's id to SMS_ALLOWED_CHANNELS."
            )
        if not (self.allowed_users or self.allowed_usergroups):
            return
        if user_id in self.allowed_users:
            return
        for group in sorted(self.allowed_usergroups):
            try:
                members = groups.members(group)
            except Exception as error:
                raise NotAllowed(
                    "Your access could not be checked: Slack did not tell who is in the allowed user groups "
                    f"({type(error).__name__}). Nothing was sent; try again in a minute."
                ) from error
            if user_id in members:
                return
        raise NotAllowed(
            "You are not allowed to send SMS with this bot. Ask an admin to add your Slack user id to "
            "SMS_ALLOWED_USERS, or you to one of the user groups in SMS_ALLOWED_USERGROUPS."
        )


class CachedMemberships:
    """Keeps user group members for a short time: fresh enough that a removed member loses access
    within ``ttl`` seconds, cheap enough to stay under Slack's tier-2 rate limit."""

    def __init__(
        self, lookup: MembershipLookup, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    def members(self, usergroup_id: str) -> frozenset[str]:
        """The group's members, from the cache while it is fresh."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(usergroup_id)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        members = self._lookup.members(usergroup_id)
        with self._lock:
            self._cache[usergroup_id] = (now, members)
        return members
