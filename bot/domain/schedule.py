"""When a scheduled send may go: after now, and within what the bot lets OVH hold.

OVH takes the wait as ``differedPeriod``, in whole minutes counted from when it receives the job; its
schema gives no maximum. The bot keeps a scheduled send within MAX_AHEAD, so that nobody's SMS sits
forgotten in OVH's queue for months.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from bot.domain.errors import InputField, InvalidInput
from bot.i18n import T_

MAX_AHEAD = timedelta(days=30)


def check_send_at(send_at: datetime, now: datetime) -> datetime:
    """``send_at`` if a send may be scheduled then; else :class:`InvalidInput` saying what to pick."""
    if send_at <= now:
        raise InvalidInput(
            InputField.SEND_AT,
            T_("That time has passed. Pick a time to come, or leave the field empty to send now."),
        )
    if send_at - now > MAX_AHEAD:
        raise InvalidInput(
            InputField.SEND_AT,
            T_(
                "That is more than {days} days ahead, the most the bot schedules. Pick an earlier time.",
                days=MAX_AHEAD.days,
            ),
        )
    return send_at


def differed_minutes(send_at: datetime | None, now: datetime) -> int:
    """OVH's ``differedPeriod`` for ``send_at`` (0: at once). Rounded up, so it never goes early."""
    if send_at is None:
        return 0
    return max(0, math.ceil((send_at - now).total_seconds() / 60))


def from_timestamp(seconds: int) -> datetime:
    """A Slack date-time picker's value (Unix seconds) as an aware datetime."""
    return datetime.fromtimestamp(seconds, UTC)
