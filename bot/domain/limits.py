"""Sending limits: how many receivers per send, and how many SMS or credits per person and per channel
over 24 hours. They stop a stolen or careless access from burning the account's credits (SMS pumping).

Zero means no limit. Admins are not limited. The daily limits are checked by the ledger inside the
transaction that records the send, so they hold across threads and instances.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.errors import NotAllowed
from bot.i18n import N_, T_


@dataclass(frozen=True)
class Usage:
    """What a person or a channel sent over the limit window: SMS (one per receiver) and credits."""

    sms: int = 0
    credits: float = 0.0


# Called with the user's and the channel's usage over the window; raises to refuse the send.
UsageGuard = Callable[[Usage, Usage], None]


class LimitExceeded(NotAllowed):
    """A send would go over a limit."""


@dataclass(frozen=True)
class Limits:
    """The configured limits (``SMS_LIMIT_*``); 0 disables one."""

    receivers_per_send: int = 50
    user_sms_per_day: int = 100
    channel_sms_per_day: int = 500
    user_credits_per_day: int = 0
    channel_credits_per_day: int = 0

    def check_size(self, receivers: int) -> None:
        """Refuse a send to more receivers than one send may have."""
        if self.receivers_per_send and receivers > self.receivers_per_send:
            raise LimitExceeded(
                T_(
                    "One send may go to at most {limit} numbers (SMS_LIMIT_RECEIVERS_PER_SEND); "
                    "this one has {count}. Split it, or ask an admin.",
                    limit=format(self.receivers_per_send, ","),
                    count=format(receivers, ","),
                )
            )

    def guard(self, receivers: int, estimated_credits: float) -> UsageGuard:
        """A check of the last 24 hours' usage plus this send, for :meth:`bot.storage.ledger.Ledger.reserve`."""

        def check(user: Usage, channel: Usage) -> None:
            _check(user.sms + receivers, self.user_sms_per_day, "SMS_LIMIT_USER_SMS_PER_DAY")
            _check(channel.sms + receivers, self.channel_sms_per_day, "SMS_LIMIT_CHANNEL_SMS_PER_DAY")
            _check(
                user.credits + estimated_credits, self.user_credits_per_day, "SMS_LIMIT_USER_CREDITS_PER_DAY"
            )
            _check(
                channel.credits + estimated_credits,
                self.channel_credits_per_day,
                "SMS_LIMIT_CHANNEL_CREDITS_PER_DAY",
            )

        return check


# One sentence per limit (who, and what is counted), so that each reads naturally once translated.
_OVER = {
    "SMS_LIMIT_USER_SMS_PER_DAY": N_(
        "This send would bring you to {total} SMS in 24 hours, over the limit of {limit} ({variable}). "
        "Nothing was sent: wait, send to fewer numbers, or ask an admin to send it."
    ),
    "SMS_LIMIT_CHANNEL_SMS_PER_DAY": N_(
        "This send would bring this channel to {total} SMS in 24 hours, over the limit of {limit} "
        "({variable}). Nothing was sent: wait, send to fewer numbers, or ask an admin to send it."
    ),
    "SMS_LIMIT_USER_CREDITS_PER_DAY": N_(
        "This send would bring you to {total} credits in 24 hours, over the limit of {limit} ({variable}). "
        "Nothing was sent: wait, send to fewer numbers, or ask an admin to send it."
    ),
    "SMS_LIMIT_CHANNEL_CREDITS_PER_DAY": N_(
        "This send would bring this channel to {total} credits in 24 hours, over the limit of {limit} "
        "({variable}). Nothing was sent: wait, send to fewer numbers, or ask an admin to send it."
    ),
}


def _check(total: float, limit: int, variable: str) -> None:
    if limit and total > limit:
        raise LimitExceeded(
            T_(_OVER[variable], total=format(total, ",.0f"), limit=format(limit, ","), variable=variable)
        )
