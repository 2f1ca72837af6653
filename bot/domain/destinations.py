"""Where SMS may go: allowed countries, mobile numbers only, and numbers that opted out.

Premium-rate, shared-cost and other non-mobile numbers are the targets of SMS pumping fraud, and an SMS
to a landline is wasted: only numbers phonenumbers knows as mobile (or possibly mobile) are accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from phonenumbers import PhoneNumberType

from bot.domain.errors import InputField, InvalidInput
from bot.domain.receivers import Receiver
from bot.i18n import N_, T_, Text, Tn_, joined

SMS_CAPABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
# What a number is, said of it ("+34 900 00 00 00 is a toll-free number").
_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: N_("is a landline"),
    PhoneNumberType.TOLL_FREE: N_("is a toll-free number"),
    PhoneNumberType.PREMIUM_RATE: N_("is a premium-rate number"),
    PhoneNumberType.SHARED_COST: N_("is a shared-cost number"),
    PhoneNumberType.VOIP: N_("is a VoIP number"),
    PhoneNumberType.PERSONAL_NUMBER: N_("is a personal (forwarding) number"),
    PhoneNumberType.PAGER: N_("is a pager"),
    PhoneNumberType.UAN: N_("is a company number (UAN)"),
    PhoneNumberType.VOICEMAIL: N_("is a voicemail number"),
}
_NOT_MOBILE = N_("is not a mobile number")
_MAX_LISTED = 10


@dataclass(frozen=True)
class DestinationPolicy:
    """Which receivers are acceptable; ``countries`` None means any country."""

    countries: frozenset[str] | None

    def check(self, receivers: Iterable[Receiver], opted_out: frozenset[str] = frozenset()) -> None:
        """Raise one :class:`InvalidInput` listing every refused receiver and why."""
        problems = [
            T_("{number} {reason}", number=receiver.display, reason=reason)
            for receiver in receivers
            if (reason := self._refusal(receiver, opted_out)) is not None
        ]
        if not problems:
            return
        if len(problems) == 1:
            raise InvalidInput(
                InputField.RECEIVERS,
                T_("Not sent: {problem}. Remove it and send again.", problem=problems[0]),
            )
        lines: list[object] = [
            Tn_(
                "Not sent: {count} number cannot receive it:",
                "Not sent: {count} numbers cannot receive it:",
                len(problems),
            ),
            *(joined(["•", problem]) for problem in problems[:_MAX_LISTED]),
        ]
        if len(problems) > _MAX_LISTED:
            lines.append(T_("• …and {count} more", count=len(problems) - _MAX_LISTED))
        lines.append(T_("Remove them and send again."))
        raise InvalidInput(InputField.RECEIVERS, joined(lines, "\n"))

    def _refusal(self, receiver: Receiver, opted_out: frozenset[str]) -> Text | None:
        if self.countries is not None and receiver.region not in self.countries:
            allowed = ", ".join(sorted(self.countries)) or T_("none")
            where = receiver.region or T_("no country")
            return T_(
                "is in {where}, and SMS may only go to: {allowed} (SMS_ALLOWED_COUNTRIES)",
                where=where,
                allowed=allowed,
            )
        if receiver.number_type not in SMS_CAPABLE:
            kind = T_(_TYPE_NAMES.get(receiver.number_type, _NOT_MOBILE))
            return T_("{kind}; only mobile numbers can receive these SMS", kind=kind)
        if receiver.e164 in opted_out:
            return T_(
                "asked not to receive SMS from this team (opted out; an admin can undo it with `/sms optin`)"
            )
        return None
