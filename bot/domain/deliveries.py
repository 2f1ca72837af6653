"""What became of each SMS after OVH took it, as plain Python: delivery states, OVH's codes in words,
how often to ask again, and which replies mean STOP. No Slack, OVH client or SQL here.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.i18n import N_, Joined, Text, Tn_, joined


class DeliveryState(StrEnum):
    """Where one SMS to one receiver stands. Only ``pending`` moves on; the others are final."""

    PENDING = "pending"  # OVH or the operator has not said yet (or the phone is off: buffered)
    DELIVERED = "delivered"  # the operator says the phone got it
    FAILED = "failed"  # the operator says it will not get it
    EXPIRED = "expired"  # no final word within the validity period: no longer followed
    GONE = "gone"  # OVH no longer has this SMS (purged): its outcome cannot be read

    @property
    def final(self) -> bool:
        """Whether nothing more will be read for it."""
        return self is not DeliveryState.PENDING


# OVH's `deliveryReceipt`: 0 pending/creating, 1 delivered, 2 failed, 4 pending, 8 buffered, 16 error.
_RECEIPTS = {
    1: DeliveryState.DELIVERED,
    2: DeliveryState.FAILED,
    16: DeliveryState.FAILED,  # an error on OVH's side: not billed
}
BUFFERED = 8


def state_of(receipt: int | None) -> DeliveryState:
    """The state an SMS is in from OVH's ``deliveryReceipt`` (an unknown code keeps it pending)."""
    return _RECEIPTS.get(receipt, DeliveryState.PENDING) if receipt is not None else DeliveryState.PENDING


# The common `ptt` codes in our words, for when OVH's own description (GET /sms/ptts) cannot be read
# (marked: what a thread shows may be translated).
PTT_WORDS = {
    4: N_("delivered"),
    5: N_("undelivered"),
    23: N_("unknown number"),
    24: N_("phone unreachable"),
}


def ptt_words(ptt: int | None, described: str | None = None) -> str | None:
    """OVH's reason in words: its own description of the code when known, else ours, else the code."""
    if described:
        return described.strip().rstrip(".")
    if ptt is None or ptt == 0:
        return None
    return PTT_WORDS.get(ptt, f"operator code {ptt}")


def next_check_delay(age: timedelta, poll_seconds: float) -> timedelta:
    """How long to wait before reading a pending SMS again: the poll interval while it is young, then a
    tenth of its age (a phone off for an hour is not back in 30 s), at most 30 minutes."""
    seconds = max(poll_seconds, min(age.total_seconds() / 10, 1800.0))
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class ReceiverStatus:
    """One receiver's line in a send's delivery status."""

    receiver: str | None  # E.164; None until OVH says which SMS went where
    state: DeliveryState
    reason: str | None  # OVH's reason in words (from its ptt code)
    took: timedelta | None  # from creation to delivery, by OVH's clock
    buffered: bool = False  # the operator holds it: the phone is off or out of reach


def summary(statuses: Iterable[ReceiverStatus]) -> Joined:
    """A one-glance line: "3 of 4 delivered", then what is not ("1 failed", "1 pending"); ``str()`` of it is
    the English, ``.in_(t)`` the reader's language."""
    states = [status.state for status in statuses]
    counts = Counter(states)
    total = len(states)
    delivered = format(counts[DeliveryState.DELIVERED], ",")
    parts: list[Text] = [
        Tn_(
            "{delivered} of {count} delivered",
            "{delivered} of {count} delivered",
            total,
            delivered=delivered,
            count=format(total, ","),
        )
    ]
    # One call per state, so that each plural is extracted as written.
    if n := counts[DeliveryState.FAILED]:
        parts.append(Tn_("{count} failed", "{count} failed", n, count=format(n, ",")))
    if n := counts[DeliveryState.PENDING]:
        parts.append(Tn_("{count} pending", "{count} pending", n, count=format(n, ",")))
    if n := counts[DeliveryState.EXPIRED]:
        parts.append(Tn_("{count} no final report", "{count} no final report", n, count=format(n, ",")))
    if n := counts[DeliveryState.GONE]:
        parts.append(Tn_("{count} unknown", "{count} unknown", n, count=format(n, ",")))
    return joined(parts, ", ")


def duration_words(took: timedelta) -> str:
    """``took`` as people say it: "4 s", "2 min 5 s", "3 h 10 min"."""
    seconds = max(0, int(took.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def took(created: datetime | None, delivered: datetime | None) -> timedelta | None:
    """Time from an SMS's creation to its delivery, both by OVH's clock (None unless both are known)."""
    if created is None or delivered is None:
        return None
    if (created.tzinfo is None) != (delivered.tzinfo is None):
        created, delivered = created.replace(tzinfo=None), delivered.replace(tzinfo=None)
    return delivered - created


# Replies that opt a number out (any case, spaces around or inside): STOP, BAJA, STOP SMS, ARRET (ARRÊT).
STOP_WORDS = frozenset({"stop", "baja", "stopsms", "arret"})


def is_stop(text: str) -> bool:
    """Whether a reply asks to stop receiving SMS."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[\s.!]+", "", letters) in STOP_WORDS
