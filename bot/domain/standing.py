"""Where a person stands with the bot: may they send, from where, to which countries, and what is left of
their daily limits. Built from the same rules the send path checks (:class:`~bot.domain.access.SendPolicy`,
:class:`~bot.domain.destinations.DestinationPolicy`, :class:`~bot.domain.limits.Limits`), so what the App
Home says is what a send would meet.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.access import Directory, SendPolicy
from bot.domain.errors import NotAllowed
from bot.domain.limits import Limits, Usage
from bot.i18n import Translatable


@dataclass(frozen=True)
class Allowance:
    """One daily limit of a person: its size (0: none), what they used of it and what is left."""

    limit: int
    used: float

    @property
    def limited(self) -> bool:
        """Whether the limit is set at all (0 means no limit)."""
        return self.limit > 0

    @property
    def left(self) -> float:
        """What may still be used today (never below zero); meaningless when not limited."""
        return max(self.limit - self.used, 0.0)


@dataclass(frozen=True)
class Standing:
    """What one person may do, and why."""

    allowed: bool
    admin: bool
    refusal: str | Translatable | None  # why not, in words the person can act on (None when allowed)
    channels: frozenset[str] | None  # None: from any conversation
    countries: frozenset[str] | None  # None: to any country
    receivers_per_send: int  # 0: no limit
    sms_today: Allowance
    credits_today: Allowance

    @property
    def limited(self) -> bool:
        """Whether the daily limits hold for this person (admins are beyond them)."""
        return not self.admin


def standing(
    user_id: str,
    *,
    policy: SendPolicy,
    countries: frozenset[str] | None,
    limits: Limits,
    usage: Usage,
    directory: Directory,
) -> Standing:
    """Where ``user_id`` stands, given their ``usage`` over the limit window.

    Whether they may send is asked of :meth:`SendPolicy.check` itself, from one of the allowed channels (or
    from anywhere when no channel rule is set): the channel rule is shown apart, as the list of channels.
    """
    somewhere = min(policy.allowed_channels) if policy.allowed_channels else None
    try:
        access = policy.check(user_id, somewhere, directory)
    except NotAllowed as refusal:
        allowed, admin, reason = False, False, refusal.message
    else:
        allowed, admin, reason = True, access.admin, None
    return Standing(
        allowed=allowed,
        admin=admin,
        refusal=reason,
        channels=policy.allowed_channels or None,
        countries=countries,
        receivers_per_send=0 if admin else limits.receivers_per_send,
        sms_today=Allowance(0 if admin else limits.user_sms_per_day, usage.sms),
        credits_today=Allowance(0 if admin else limits.user_credits_per_day, usage.credits),
    )
