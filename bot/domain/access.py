"""Who may send SMS, and from where.

Rules, from the settings:
- ``SMS_ALLOWED_USERS`` and ``SMS_ALLOWED_USERGROUPS`` say *who* may send (a listed user, or a member of
  a listed user group). When neither is set, anybody in an allowed channel may send.
- ``SMS_ALLOWED_CHANNELS`` says *where* SMS may be sent from. When unset, any channel is fine.
- Admins (``SMS_ADMIN_USERS``, and workspace admins with ``SMS_WORKSPACE_ADMINS_ARE_ADMINS``) may send,
  are not held by the sending limits, and manage opt-outs. Channel rules hold for them too.
- With none of these set, nobody may send: an SMS costs money, so access is opt-in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from bot.domain.errors import NotAllowed
from bot.i18n import N_, T_

HOW_TO_ALLOW = (
    "An admin can allow people with SMS_ALLOWED_USERS (Slack user ids), SMS_ALLOWED_USERGROUPS "
    "(user group ids) and SMS_ALLOWED_CHANNELS (channel ids); see the README's Access section."
)
# The refusals, marked for translation: the Slack edge shows them in the person's language (bot/i18n).
NOBODY_YET = N_(
    "Nobody may send SMS with this bot yet. An admin can allow people with SMS_ALLOWED_USERS (Slack user ids), "
    "SMS_ALLOWED_USERGROUPS (user group ids) and SMS_ALLOWED_CHANNELS (channel ids); see the README's Access "
    "section."
)
NOT_FROM_HERE = N_(
    "SMS cannot be sent from this conversation. Use `/sms` in one of the channels the bot allows, "
    "or ask an admin to add this channel's id to SMS_ALLOWED_CHANNELS."
)
NOT_ALLOWED = N_(
    "You are not allowed to send SMS with this bot. Ask an admin to add your Slack user id to "
    "SMS_ALLOWED_USERS, or you to one of the user groups in SMS_ALLOWED_USERGROUPS."
)


class Directory(Protocol):
    """What the policy asks Slack (the Slack edge implements it; answers may be cached)."""

    def members(self, usergroup_id: str) -> frozenset[str]:
        """The user ids in the group. Raises on failure."""
        ...

    def is_workspace_admin(self, user_id: str) -> bool:
        """Whether the user is a workspace admin or owner. Raises on failure."""
        ...


@dataclass(frozen=True)
class Access:
    """What the policy granted: the right to send, and whether beyond the limits."""

    admin: bool = False


@dataclass(frozen=True)
class SendPolicy:
    """The access rules; :meth:`check` raises :class:`NotAllowed` with a reason the person can act on."""

    allowed_users: frozenset[str] = frozenset()
    allowed_usergroups: frozenset[str] = frozenset()
    allowed_channels: frozenset[str] = frozenset()
    admin_users: frozenset[str] = frozenset()
    workspace_admins_are_admins: bool = False

    @property
    def configured(self) -> bool:
        """Whether any rule was set at all."""
        return bool(
            self.allowed_users
            or self.allowed_usergroups
            or self.allowed_channels
            or self.admin_users
            or self.workspace_admins_are_admins
        )

    def is_admin(self, user_id: str, directory: Directory) -> bool:
        """Whether this person is an admin of the bot."""
        if user_id in self.admin_users:
            return True
        if not self.workspace_admins_are_admins:
            return False
        try:
            return directory.is_workspace_admin(user_id)
        except Exception:  # noqa: BLE001 - an unanswered admin check grants nothing, whatever the failure
            return False

    def check(self, user_id: str, channel_id: str | None, directory: Directory) -> Access:
        """Allow the send, or raise :class:`NotAllowed` saying why and how to get access."""
        if not self.configured:
            raise NotAllowed(NOBODY_YET)
        if self.allowed_channels and channel_id not in self.allowed_channels:
            raise NotAllowed(NOT_FROM_HERE)
        if self.is_admin(user_id, directory):
            return Access(admin=True)
        if not (self.allowed_users or self.allowed_usergroups) and self.allowed_channels:
            return Access()
        if user_id in self.allowed_users:
            return Access()
        for group in sorted(self.allowed_usergroups):
            try:
                members = directory.members(group)
            except Exception as error:
                raise NotAllowed(
                    T_(
                        "Your access could not be checked: Slack did not tell who is in the allowed user groups "
                        "({error}). Nothing was sent; try again in a minute.",
                        error=type(error).__name__,
                    )
                ) from error
            if user_id in members:
                return Access()
        raise NotAllowed(NOT_ALLOWED)


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Remembers answers for ``ttl`` seconds: fresh enough that a removed member or admin loses access
    within that time, cheap enough to stay under Slack's rate limits (tier 2 for user groups)."""

    def __init__(
        self, fetch: Callable[[K], V], ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V:
        """The cached answer while fresh, else a new one (errors are not cached)."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self._ttl:
            return entry[1]
        value = self._fetch(key)
        with self._lock:
            self._entries[key] = (now, value)
        return value


class CachedDirectory:
    """A :class:`Directory` whose answers are kept for a short time."""

    def __init__(self, directory: Directory, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._members: TtlCache[str, frozenset[str]] = TtlCache(directory.members, ttl, clock)
        self._admins: TtlCache[str, bool] = TtlCache(directory.is_workspace_admin, ttl, clock)

    def members(self, usergroup_id: str) -> frozenset[str]:
        """See :meth:`Directory.members`."""
        return self._members.get(usergroup_id)

    def is_workspace_admin(self, user_id: str) -> bool:
        """See :meth:`Directory.is_workspace_admin`."""
        return self._admins.get(user_id)
