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

SMS_CAPABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "a landline",
    PhoneNumberType.TOLL_FREE: "a toll-free number",
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.VOIP: "a VoIP number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal (forwarding) number",
    PhoneNumberType.PAGER: "a pager",
    PhoneNumberType.UAN: "a company number (UAN)",
    PhoneNumberType.VOICEMAIL: "a voicemail number",
}


@dataclass(frozen=True)
class DestinationPolicy:
    """Which receivers are acceptable; ``countries`` None means any country."""

    countries: frozenset[str] | None

    def check(self, receivers: Iterable[Receiver], opted_out: frozenset[str] = frozenset()) -> None:
        """Raise one :class:`InvalidInput` listing every refused receiver and why."""
        problems = [
            f"{receiver.display} {reason}"
            for receiver in receivers
            if (reason := self._refusal(receiver, opted_out)) is not None
        ]
        if not problems:
            return
        if len(problems) == 1:
            raise InvalidInput(InputField.RECEIVERS, f"Not sent: {problems[0]}. Remove it and send again.")
        listed = "\n".join(f"• {problem}" for problem in problems[:10])
        more = f"\n• …and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise InvalidInput(
            InputField.RECEIVERS,
            f"Not sent: {len(problems)} numbers cannot receive it:\n{listed}{more}\nRemove them and send again.",
        )

    def _refusal(self, receiver: Receiver, opted_out: frozenset[str]) -> str | None:
        if self.countries is not None and receiver.region not in self.countries:
            allowed = ", ".join(sorted(self.countries)) or "none"
            where = receiver.region or "no country"
            return f"is in {where}, and SMS may only go to: {allowed} (SMS_ALLOWED_COUNTRIES)"
        if receiver.number_type not in SMS_CAPABLE:
            kind = _TYPE_NAMES.get(receiver.number_type, "not a mobile number")
            return f"is {kind}; only mobile numbers can receive these SMS"
        if receiver.e164 in opted_out:
            return (
                "asked not to receive SMS from this team (opted out; an admin can undo it with `/sms optin`)"
            )
        return None
