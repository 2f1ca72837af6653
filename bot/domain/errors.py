"""The few exceptions the domain raises; the Slack and CLI edges turn each into a message for people.

Every exception here carries a ``user_message``: plain text (it may hold `code` spans) that says what
happened and what to do about it. It is given as a :class:`~bot.i18n.Text` (``T_``) or a marked constant
(``N_``), so that the edge tells it in the reader's language (``error.user_message_in(t)``);
``error.user_message`` is the English. Nothing in a ``user_message`` may contain a secret.
"""

from __future__ import annotations

from enum import StrEnum

from bot.i18n import ENGLISH, N_, Translatable, Translator, in_


class SmsBotError(Exception):
    """Base class of the errors the bot expects and can explain."""

    def __init__(self, user_message: str | Translatable) -> None:
        super().__init__(in_(user_message, ENGLISH))
        self.message = user_message

    @property
    def user_message(self) -> str:
        """What to tell a person, in English (logs, the command line, the ledger)."""
        return in_(self.message, ENGLISH)

    def user_message_in(self, t: Translator) -> str:
        """What to tell a person, in ``t``'s language."""
        return in_(self.message, t)


class InputField(StrEnum):
    """Which part of a request a piece of bad input belongs to (a modal block id, too)."""

    RECEIVERS = "receivers"
    MESSAGE = "message"
    SENDER = "sender"
    SEND_AT = "send_at"


class InvalidInput(SmsBotError):
    """The person typed something we cannot send; ``field`` says where, the message says what to fix."""

    def __init__(self, field: InputField, user_message: str | Translatable) -> None:
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

    def __init__(self, code: str, user_message: str | Translatable, *, maybe_sent: bool = False) -> None:
        super().__init__(user_message)
        self.code = code
        self.maybe_sent = maybe_sent


# What a database failure means for the person, by what was under way: one wording for every edge.
DATABASE_DOWN = N_("The bot's database is not answering, so nothing was done. Try again in a minute.")
NOT_RECORDED = N_(
    "The bot could not record your send (its database is not answering), so nothing was sent. "
    "Try again in a minute."
)
OPT_OUTS_UNREADABLE = N_(
    "The bot cannot check its opt-out list (its database is not answering), so nothing was sent. "
    "Try again in a minute."
)
RECORDED_NOT_SENT = N_(
    "The bot recorded your send, but its database stopped answering before the SMS went to OVH, so "
    "nothing has gone out yet. Do not send it again: the bot sends it once its database is back, and its "
    "audit thread says what happened."
)
ANSWER_NOT_RECORDED = N_(
    "Your SMS was handed to OVH, but the bot could not record OVH's answer (its database is not "
    "answering). Do not send it again: the audit thread will be posted once the database is back."
)


class LedgerUnavailable(SmsBotError):
    """The bot's database failed. Storage raises it for every database error, and nothing else does.

    ``reason`` is the driver's own first line (never a statement or its parameters): fit for an operator's
    terminal, not for Slack. The use case re-tells the failure as what it means for the send under way
    (:meth:`told_as`), so that the message says whether anything may have been sent.
    """

    def __init__(self, user_message: str | Translatable = DATABASE_DOWN, *, reason: str = "") -> None:
        super().__init__(user_message)
        self.reason = reason

    def told_as(self, user_message: str | Translatable) -> LedgerUnavailable:
        """The same failure, with a message that says what it meant for the person."""
        return LedgerUnavailable(user_message, reason=self.reason)
