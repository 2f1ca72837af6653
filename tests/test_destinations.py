"""Where SMS may go, as a pure rule: allowed countries, mobile numbers only, opted-out numbers."""

from __future__ import annotations

import pytest
from phonenumbers import PhoneNumberType

from bot.domain.destinations import DestinationPolicy
from bot.domain.errors import InputField, InvalidInput
from bot.domain.receivers import Receiver, parse_receiver

ES_MOBILE = parse_receiver("+34600000001", None)
FR_MOBILE = parse_receiver("+33612345678", None)
US_ANY = parse_receiver("+12015550123", None)  # FIXED_LINE_OR_MOBILE: may be a mobile
ES_LANDLINE = parse_receiver("+34910000000", None)
ES_PREMIUM = parse_receiver("+34803000000", None)
FREEPHONE = parse_receiver("+80012345678", None)  # +800: no country at all


def refusal(
    policy: DestinationPolicy, receivers: list[Receiver], opted_out: frozenset[str] = frozenset()
) -> str:
    with pytest.raises(InvalidInput) as caught:
        policy.check(receivers, opted_out)
    assert caught.value.field is InputField.RECEIVERS
    return caught.value.user_message


def test_any_country_when_none_is_set_but_still_mobiles_only() -> None:
    DestinationPolicy(countries=None).check([ES_MOBILE, FR_MOBILE, US_ANY])

    assert refusal(DestinationPolicy(countries=None), [ES_LANDLINE]) == (
        "Not sent: +34 910 00 00 00 is a landline; only mobile numbers can receive these SMS. "
        "Remove it and send again."
    )


def test_a_number_outside_the_allowed_countries_names_them_sorted() -> None:
    assert refusal(DestinationPolicy(countries=frozenset({"FR", "ES"})), [US_ANY]) == (
        "Not sent: +1 201-555-0123 is in US, and SMS may only go to: ES, FR (SMS_ALLOWED_COUNTRIES). "
        "Remove it and send again."
    )


def test_a_number_of_no_country_is_refused_when_countries_are_set() -> None:
    assert refusal(DestinationPolicy(countries=frozenset({"ES"})), [FREEPHONE]) == (
        "Not sent: +800 1234 5678 is in no country, and SMS may only go to: ES (SMS_ALLOWED_COUNTRIES). "
        "Remove it and send again."
    )


def test_an_empty_country_list_lets_nothing_through_and_says_so() -> None:
    assert "SMS may only go to: none (SMS_ALLOWED_COUNTRIES)" in refusal(
        DestinationPolicy(countries=frozenset()), [ES_MOBILE]
    )


def test_each_kind_of_number_is_named_and_an_unknown_kind_is_not_a_mobile() -> None:
    unknown = Receiver(
        e164="+34600000009", display="+34 600 00 00 09", region="ES", number_type=PhoneNumberType.UNKNOWN
    )

    assert "is a premium-rate number;" in refusal(DestinationPolicy(countries=None), [ES_PREMIUM])
    assert "is a toll-free number;" in refusal(DestinationPolicy(countries=None), [FREEPHONE])
    assert refusal(DestinationPolicy(countries=None), [unknown]) == (
        "Not sent: +34 600 00 00 09 is not a mobile number; only mobile numbers can receive these SMS. "
        "Remove it and send again."
    )


def test_an_opted_out_number_is_refused_with_how_to_undo_it() -> None:
    policy = DestinationPolicy(countries=frozenset({"ES"}))

    policy.check([ES_MOBILE], opted_out=frozenset({"+34600000002"}))
    assert refusal(policy, [ES_MOBILE], frozenset({ES_MOBILE.e164})) == (
        "Not sent: +34 600 00 00 01 asked not to receive SMS from this team "
        "(opted out; an admin can undo it with `/sms optin`). Remove it and send again."
    )


def test_several_refusals_are_listed_together_each_with_its_reason() -> None:
    policy = DestinationPolicy(countries=frozenset({"ES"}))

    assert refusal(policy, [ES_MOBILE, US_ANY, ES_LANDLINE]) == (
        "Not sent: 2 numbers cannot receive it:\n"
        "• +1 201-555-0123 is in US, and SMS may only go to: ES (SMS_ALLOWED_COUNTRIES)\n"
        "• +34 910 00 00 00 is a landline; only mobile numbers can receive these SMS\n"
        "Remove them and send again."
    )


def landlines(count: int) -> list[Receiver]:
    return [
        Receiver(
            e164=f"+349100000{n:02d}", display=f"L{n}", region="ES", number_type=PhoneNumberType.FIXED_LINE
        )
        for n in range(count)
    ]


def test_ten_refusals_are_all_listed() -> None:
    message = refusal(DestinationPolicy(countries=None), landlines(10))

    assert message.startswith("Not sent: 10 numbers cannot receive it:\n• L0 is a landline")
    assert "• L9 is a landline" in message
    assert "more" not in message


def test_past_ten_refusals_the_rest_are_counted() -> None:
    message = refusal(DestinationPolicy(countries=None), landlines(11))

    assert message.startswith("Not sent: 11 numbers cannot receive it:\n")
    assert "• L9 is a landline; only mobile numbers can receive these SMS\n• …and 1 more\n" in message
    assert "L10" not in message
    assert message.endswith("\nRemove them and send again.")
