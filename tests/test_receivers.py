"""Reading phone numbers from the form and from the /sms command."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from bot.domain.errors import InputField, InvalidInput
from bot.domain.receivers import ParsedCommand, Receiver, mask, parse_command, parse_receiver, parse_receivers

ES_1 = "+34600000001"
ES_2 = "+34600000002"


def e164s(receivers: tuple[Receiver, ...]) -> list[str]:
    return [receiver.e164 for receiver in receivers]


def error_of(call, *args) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    return caught.value


# --- parse_receiver ---------------------------------------------------------------------------


def test_reads_a_spanish_mobile_in_every_form_it_is_typed() -> None:
    receiver = parse_receiver("+34600000001", None)
    assert receiver == Receiver(
        e164=ES_1, display="+34 600 00 00 01", region="ES", number_type=PhoneNumberType.MOBILE
    )


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("+34 (600) 00-00.01", None, ES_1),
        ("600000001", "ES", ES_1),
        ("600 00 00 01", "ES", ES_1),
        ("0612345678", "FR", "+33612345678"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("+33 6 12 34 56 78", "ES", "+33612345678"),
        ("07400 123456", "GB", "+447400123456"),
        ("+44 7400 123456", None, "+447400123456"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("+1 201-555-0123", "FR", "+12015550123"),
        ("  +34600000001 ", None, ES_1),
    ],
)
def test_reads_international_and_national_numbers(typed: str, region: str | None, e164: str) -> None:
    assert parse_receiver(typed, region).e164 == e164


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        # Regions that dial 00 abroad: phonenumbers itself reads the prefix.
        ("0034600000001", "ES"),
        ("0034600000001", "FR"),
        ("00 34 600 00 00 01", "GB"),
        # No region: we read 00 as OVH does.
        ("0034600000001", None),
        # The US dials 011 abroad; 00 is still understood, as OVH understands it.
        ("0034600000001", "US"),
        ("011 34 600000001", "US"),
        ("0034600000001", "JP"),
    ],
)
def test_reads_the_00_international_prefix(typed: str, region: str | None) -> None:
    assert parse_receiver(typed, region).e164 == ES_1


def test_keeps_what_a_policy_needs() -> None:
    premium = phonenumbers.example_number_for_type("FR", PhoneNumberType.PREMIUM_RATE)
    assert premium is not None
    typed = phonenumbers.format_number(premium, PhoneNumberFormat.E164)
    receiver = parse_receiver(typed, None)
    assert (receiver.region, receiver.number_type) == ("FR", PhoneNumberType.PREMIUM_RATE)
    # International freephone numbers belong to no country.
    assert parse_receiver("+800 1234 5678", None).region is None


def test_a_national_number_without_a_default_region_asks_for_the_country_code() -> None:
    error = error_of(parse_receiver, "600000001", None)
    assert error.field is InputField.RECEIVERS
    assert "`600000001`" in error.user_message
    assert "`+34600000001`" in error.user_message
    assert "`SMS_DEFAULT_REGION`" in error.user_message


@pytest.mark.parametrize(
    ("typed", "region", "says"),
    [
        ("hello", "ES", "`hello` is not a phone number"),
        ("+34 600 ABC DEF", None, "`+34 600 ABC DEF` is not a phone number"),  # no "vanity" letters
        ("+34600000001 ext. 2", None, "is not a phone number"),  # no extensions
        ("+34", None, "`+34` is not a phone number"),
        ("+999 123 456", None, "`+999 123 456` has an unknown country code"),
        ("+3460000000", None, "`+3460000000` is too short for ES (+34)"),
        ("0612345678", "ES", "`0612345678` is too long for ES (+34)"),
        ("+34 900 000 000 0", None, "is too long for ES (+34)"),
    ],
)
def test_an_invalid_number_is_quoted_with_the_reason(typed: str, region: str | None, says: str) -> None:
    error = error_of(parse_receiver, typed, region)
    assert error.field is InputField.RECEIVERS
    assert says in error.user_message


def test_an_invalid_number_shows_what_one_looks_like_there() -> None:
    message = error_of(parse_receiver, "0612345678", "ES").user_message
    assert "a mobile number there looks like `+34 612 34 56 78`" in message
    assert "start with `+` and its country code" in message


def test_an_empty_number_asks_for_one() -> None:
    assert "Enter a phone number" in error_of(parse_receiver, "  ", "ES").user_message


def test_an_unknown_default_region_is_a_bug_not_an_input_error() -> None:
    with pytest.raises(ValueError, match="XX"):
        parse_receiver(ES_1, "XX")


# --- parse_receivers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "+34600000001,+34600000002",
        "+34600000001, +34600000002",
        "+34600000001;+34600000002;",
        "+34600000001\n+34600000002\n",
        "+34600000001 +34600000002",
        " , +34600000001 ,, ;\n 600000002 ",
    ],
)
def test_reads_a_list_whatever_separates_it(text: str) -> None:
    assert e164s(parse_receivers(text, "ES")) == [ES_1, ES_2]


def test_repeated_numbers_are_kept_once_in_first_order() -> None:
    receivers = parse_receivers("600000002, +34600000001, 0034600000002, +34600000001", "ES")
    assert e164s(receivers) == [ES_2, ES_1]


@pytest.mark.parametrize("text", ["", "   ", ",", " ;\n, "])
def test_an_empty_list_asks_for_a_number(text: str) -> None:
    error = error_of(parse_receivers, text, "ES")
    assert error.field is InputField.RECEIVERS
    assert "at least one phone number" in error.user_message


def test_every_bad_number_is_listed_in_one_error() -> None:
    error = error_of(parse_receivers, "+34600000001, hello, 0612345678, +999123, hello", "ES")
    assert error.field is InputField.RECEIVERS
    lines = error.user_message.splitlines()
    assert lines[0] == "3 numbers are not valid:"
    assert lines[1] == "• `hello` is not a phone number"
    assert lines[2].startswith("• `0612345678` is too long for ES (+34)")
    assert lines[3] == "• `+999123` has an unknown country code"
    assert "international format" in lines[4]
    assert "Check the digits" in lines[4]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+34 600 00 00 01", [ES_1]),
        ("+34 600 00 00 01, +34 600 00 00 02", [ES_1, ES_2]),
        ("+34 600 00 00 01\n600 00 00 02", [ES_1, ES_2]),
        ("+34600000001 +34600000002", [ES_1, ES_2]),
        ("600000001 600000002", [ES_1, ES_2]),
    ],
)
def test_spaces_inside_a_number_or_between_numbers_in_the_list(typed: str, expected: list[str]) -> None:
    assert e164s(parse_receivers(typed, "ES")) == expected


def test_a_piece_with_spaces_that_is_no_number_explains_each_part() -> None:
    message = error_of(parse_receivers, "+34 600 00 00 0X", "ES").user_message
    assert "`0X` is not a phone number" in message
    assert "Separate numbers with commas or new lines" in message


def test_a_long_paste_gives_a_readable_error() -> None:
    message = error_of(parse_receivers, " ".join(f"word{i}" for i in range(40)), "ES").user_message
    assert message.startswith("40 numbers are not valid:")
    assert "…and 30 more" in message
    assert len(message.splitlines()) == 13


def test_typed_text_is_quoted_safely() -> None:
    message = error_of(parse_receivers, "`oops`, " + "9" * 60, "ES").user_message
    assert "`'oops'`" in message
    assert "`" + "9" * 29 + "…`" in message


# --- parse_command ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "+34600000001,+34600000002 Hola equipo",
        "+34600000001, +34600000002 Hola equipo",
        "+34600000001 , +34600000002   Hola equipo",
        "+34600000001 600000002 Hola equipo",
        "+34600000001;+34600000002 Hola equipo",
        "\n +34600000001,+34600000002,\tHola equipo \n ",
        "+34600000001,+34600000002,Hola equipo",
    ],
)
def test_a_command_starts_with_numbers_then_the_message(text: str) -> None:
    assert parse_command(text, "ES") == ParsedCommand(
        receivers=(parse_receiver(ES_1, None), parse_receiver(ES_2, None)), message="Hola equipo"
    )


def test_the_message_is_kept_as_typed() -> None:
    text = "+34600000001 Hola,  equipo:\n\n  - 1.234 € & <cosas>  \n\t"
    assert parse_command(text, "ES").message == "Hola,  equipo:\n\n  - 1.234 € & <cosas>"


def test_numbers_inside_the_message_stay_in_the_message() -> None:
    parsed = parse_command("+34600000001 Call +34600000002 or 600 000 003 at 10.30", "ES")
    assert e164s(parsed.receivers) == [ES_1]
    assert parsed.message == "Call +34600000002 or 600 000 003 at 10.30"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("+34600000001 ;) see you", ";) see you"),  # a word that starts with a separator stays whole
        ("+34600000001 12345 is the code", "12345 is the code"),  # too few digits to be a number
        ("+34600000001 (ok) fine", "(ok) fine"),
        ("+34600000001 -- 10:30", "-- 10:30"),
    ],
)
def test_the_message_may_start_with_punctuation_or_short_numbers(text: str, message: str) -> None:
    assert parse_command(text, "ES").message == message


def test_duplicate_numbers_in_a_command_are_kept_once() -> None:
    assert e164s(parse_command("600000001 +34600000001 0034600000001 Hola", "ES").receivers) == [ES_1]


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("+34600000001 2024-01-15 is the date", "`2024-01-15`"),
        ("+34600000001 +1 for this idea", "`+1`"),
        ("+34 600 00 00 01 Hola", "`+34`"),
        ("+34600000001,60000000 Hola", "`60000000`"),
        ("+34600000001 +3460000000x Hola", "`+3460000000x`"),
    ],
)
def test_a_word_that_looks_like_a_number_but_is_not_one_is_an_error(text: str, token: str) -> None:
    # Never read as the start of the message: the SMS would go to fewer people than intended.
    error = error_of(parse_command, text, "ES")
    assert error.field is InputField.RECEIVERS
    assert token in error.user_message
    assert "start the message with a word" in error.user_message
    assert "`/sms` alone" in error.user_message


def test_all_bad_numbers_of_a_command_are_listed() -> None:
    message = error_of(parse_command, "0612345678 +34600000001 +999123456 Hola", "ES").user_message
    assert message.startswith("2 numbers are not valid:")
    assert "`0612345678`" in message
    assert "`+999123456`" in message


@pytest.mark.parametrize(
    ("text", "quoted"), [("Hola equipo", "`Hola`"), ("", ""), ("  \n ", ""), (", ,", "")]
)
def test_a_command_without_numbers_shows_the_usage(text: str, quoted: str) -> None:
    error = error_of(parse_command, text, "ES")
    assert error.field is InputField.RECEIVERS
    assert "`/sms +34600000001 Your message`" in error.user_message
    assert quoted in error.user_message


@pytest.mark.parametrize("text", ["+34600000001", "+34600000001,+34600000002 ", "+34600000001 , \n"])
def test_a_command_without_a_message_asks_for_one(text: str) -> None:
    error = error_of(parse_command, text, "ES")
    assert error.field is InputField.MESSAGE
    assert "Write the message after the number(s)" in error.user_message
    assert "`/sms` alone" in error.user_message


def test_a_national_number_in_a_command_needs_a_region() -> None:
    error = error_of(parse_command, "600000001 Hola", None)
    assert "`SMS_DEFAULT_REGION`" in error.user_message


# --- mask ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+34600000001", "+34******001"),
        ("+447400123456", "+44*******456"),
        ("+12345678", "+12***678"),
        ("+1234567", "+*******"),
        ("+12", "+**"),
        ("", ""),
    ],
)
def test_mask_hides_the_middle_digits(e164: str, masked: str) -> None:
    assert mask(e164) == masked


# --- properties ---------------------------------------------------------------------------------

FAST = settings(max_examples=150, deadline=None)

# phonenumbers' own example of each kind of number in each region; computing them once is cheaper
# than drawing a region and type and throwing away the pairs that have no example.
EXAMPLES = [
    (region, number)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    for kind in (
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.VOIP,
    )
    if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    and phonenumbers.is_valid_number(number)
]
NON_GEOGRAPHIC = [
    number
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
    if (number := phonenumbers.example_number_for_non_geo_entity(code)) is not None
    and phonenumbers.is_valid_number(number)
]
valid_numbers = st.sampled_from(EXAMPLES)
any_valid_number = st.one_of(valid_numbers.map(lambda example: example[1]), st.sampled_from(NON_GEOGRAPHIC))


def e164_of(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def test_the_examples_cover_the_world() -> None:
    assert len({region for region, _ in EXAMPLES}) > 200
    assert NON_GEOGRAPHIC


@FAST
@given(
    any_valid_number,
    st.sampled_from([PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL]),
    st.sampled_from([None, "ES", "US", "GB"]),
)
def test_any_valid_international_number_round_trips(
    number: phonenumbers.PhoneNumber, number_format: int, region: str | None
) -> None:
    typed = phonenumbers.format_number(number, number_format)
    assert parse_receiver(typed, region).e164 == e164_of(number)


@FAST
@given(valid_numbers)
def test_any_valid_national_number_round_trips_with_its_region(
    example: tuple[str, phonenumbers.PhoneNumber],
) -> None:
    region, number = example
    typed = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    assert parse_receiver(typed, region).e164 == e164_of(number)


@FAST
@given(any_valid_number)
def test_any_valid_number_round_trips_with_the_00_prefix(number: phonenumbers.PhoneNumber) -> None:
    assert parse_receiver("00" + e164_of(number)[1:], None).e164 == e164_of(number)


@FAST
@given(st.lists(any_valid_number, min_size=1, max_size=5), st.sampled_from([",", ";", "\n", " ", ", "]))
def test_any_list_of_valid_numbers_reads_back_in_order(
    numbers: list[phonenumbers.PhoneNumber], separator: str
) -> None:
    typed = separator.join(e164_of(number) for number in numbers)
    expected = list(dict.fromkeys(e164_of(number) for number in numbers))
    assert e164s(parse_receivers(typed, None)) == expected


def looks_like_a_number(piece: str) -> bool:
    """The brief's rule, written apart from the module's."""
    if re.match(r"\+[0-9]", piece):
        return True
    return set(piece) <= set("0123456789+-.()") and sum(char in "0123456789" for char in piece) >= 6


def starts_with_a_word(message: str) -> bool:
    words = message.split()
    pieces = [piece for piece in re.split("[,;]", words[0]) if piece] if words else []
    return bool(pieces) and not looks_like_a_number(pieces[0])


@FAST
@given(st.text(min_size=1))
def test_the_message_after_a_number_comes_back_exactly(message: str) -> None:
    assume(message == message.strip() and starts_with_a_word(message))
    assert parse_command(f"{ES_1} {message}", None) == ParsedCommand((parse_receiver(ES_1, None),), message)


COMMAND_BITS = st.sampled_from(
    [
        ES_1,
        "600000001",
        "0034600000001",
        "+1",
        "+",
        "00",
        ",",
        ";",
        " ",
        "\n",
        "(",
        "-",
        "hola",
        "€",
        "\uff10",
        "\xa0",
    ]
)


@FAST
@given(
    st.one_of(st.text(), st.lists(st.one_of(COMMAND_BITS, st.text(max_size=3))).map("".join)),
    st.sampled_from([None, "ES", "US", "SG"]),
)
def test_parse_command_only_ever_raises_invalid_input(text: str, region: str | None) -> None:
    try:
        parsed = parse_command(text, region)
    except InvalidInput as error:
        assert error.user_message
    else:
        assert parsed.receivers
        assert parsed.message
        assert parsed.message in text
