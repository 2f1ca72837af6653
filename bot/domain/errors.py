"""The few exceptions the domain raises; the Slack and CLI edges turn each into a message for people.

Every exception here carries a ``user_message``: plain text (it may hold `code` spans) that says what
happened and what to do about it. Nothing in a ``user_message`` may contain a secret.
"""

from __future__ import annotations

from enum import StrEnum


class SmsBotError(Exception):
    """Base class of the errors the bot expects and can explain."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class InputField(StrEnum):
    """Which part of a request a piece of bad input belongs to (a modal block id, too)."""

    RECEIVERS = "receivers"
    MESSAGE = "message"


class InvalidInput(SmsBotError):
    """The person typed something we cannot send; ``field`` says where, the message says what to fix."""

    def __init__(self, field: InputField, user_message: str) -> None:
        super().__init__(user_message)
        self.field = field


class NotAllowed(SmsBotError):
    """The policy refuses this send (who, or where)."""


class ConfigurationError(SmsBotError):
    """A setting is missing or malformed; the message names the variable and what to put there."""


class DeliveryError(SmsBotError):
    """OVH refused or failed a send.

    ``code`` is a short stable identifier (``not_granted``, ``invalid_credentials``, ``unknown_sender``,
    ``no_credits``, ``unavailable``, ``rejected``, ``timeout``, ...) kept in the ledger.
    ``maybe_sent`` is True when OVH may have accepted the job although we did not get its answer
    (a read timeout, a dropped connection): such a send must never be retried blindly.
    """

    def __init__(self, code: str, user_message: str, *, maybe_sent: bool = False) -> None:
        super().__init__(user_message)
        self.code = code
        self.maybe_sent = maybe_sent


class LedgerUnavailable(SmsBotError):
    """The database did not take a write; the message says whether anything may have been sent."""
