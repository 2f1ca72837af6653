"""The exact words of the receivers errors, and the boundaries of reading numbers (sizes, digits, lists)."""

from __future__ import annotations

import pytest

from bot.domain.errors import InputField, InvalidInput
from bot.domain.receivers import MAX_INPUT_CHARS, parse_command, parse_receiver, parse_receivers

ES_1 = "+34600000001"
FORMAT = "Write numbers in international format, like `+34600000001`."
COMMAND = (
    "If it is part of the message, start the message with a word, or type `/sms` alone to open the form."
)


def error_of(call, *args) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    return caught.value


def test_one_bad_number_in_the_form_gives_the_reason_and_one_advice() -> None:
    error = error_of(parse_receiver, "hello", None)

    assert error.field is InputField.RECEIVERS
    assert error.user_message == f"`hello` is not a phone number. {FORMAT}"


def test_a_national_number_without_a_region_gives_the_no_region_advice() -> None:
    assert error_of(parse_receiver, "600000001", None).user_message == (
        "`600000001` has no country code. Write numbers in international format, like `+34600000001`, "
        "or have `SMS_DEFAULT_REGION` set so that national numbers are understood."
    )


def test_an_unknown_country_code_keeps_the_format_advice() -> None:
    assert error_of(parse_receiver, "+999 123 456", None).user_message == (
        f"`+999 123 456` has an unknown country code. {FORMAT}"
    )


def test_an_empty_number_is_an_error_of_the_receivers_field() -> None:
    error = error_of(parse_receiver, " ", "ES")

    assert error.field is InputField.RECEIVERS
    assert error.user_message == "Enter a phone number, like `+34600000001`."


def test_several_bad_numbers_in_a_command_are_listed_with_the_command_advice() -> None:
    assert error_of(parse_command, "+34 1234567 +999123456 hi", None).user_message == (
        "3 numbers are not valid:\n"
        "• `+34` is not a phone number\n"
        "• `1234567` has no country code\n"
        "• `+999123456` has an unknown country code\n"
        "Write numbers in international format, like `+34600000001`. Write numbers in international format, "
        "like `+34600000001`, or have `SMS_DEFAULT_REGION` set so that national numbers are understood. "
        f"{COMMAND}"
    )


def test_exactly_ten_bad_numbers_are_all_listed_without_a_remainder() -> None:
    bad = ", ".join(f"x{n}" for n in range(10))

    message = error_of(parse_receivers, bad, None).user_message

    assert message.startswith("10 numbers are not valid:\n• `x0` is not a phone number\n")
    assert "• `x9` is not a phone number\n" in message
    assert "more" not in message


def test_the_list_of_numbers_may_be_exactly_the_longest_input() -> None:
    text = (ES_1 + ",") * 384
    text += "," * (MAX_INPUT_CHARS - len(text))

    assert [receiver.e164 for receiver in parse_receivers(text, None)] == [ES_1]
    assert error_of(parse_receivers, text + ",", None).user_message == (
        "The list of numbers is 5,001 characters long; the bot reads at most 5,000. "
        "A message can be up to 918 characters: check what was pasted."
    )


def test_the_command_may_be_exactly_the_longest_input() -> None:
    text = ES_1 + " " + "a" * (MAX_INPUT_CHARS - len(ES_1) - 1)

    assert parse_command(text, None).message == "a" * (MAX_INPUT_CHARS - len(ES_1) - 1)
    error = error_of(parse_command, text + "a", None)
    assert error.field is InputField.RECEIVERS
    assert error.user_message == (
        "The command is 5,001 characters long; the bot reads at most 5,000. "
        "A message can be up to 918 characters: check what was pasted."
    )


@pytest.mark.parametrize("call", [parse_receivers, parse_command])
def test_every_reader_refuses_an_unknown_default_region(call) -> None:
    with pytest.raises(ValueError, match="unknown phone region 'XX'"):
        call("+34600000001 hi", "XX")


def test_a_word_of_six_digits_is_read_as_a_number_and_five_as_the_message() -> None:
    assert parse_command(f"{ES_1} 12345 is the code", None).message == "12345 is the code"
    assert (
        "`123456` has no country code"
        in error_of(parse_command, f"{ES_1} 123456 is the code", None).user_message
    )


def test_the_00_prefix_is_read_whatever_surrounds_it() -> None:
    assert parse_receiver("(0034) 600000001", None).e164 == ES_1


def test_a_number_of_a_possible_length_that_no_number_has_says_so() -> None:
    message = error_of(parse_receiver, "+376 312 3451", None).user_message

    assert message.startswith("`+376 312 3451` has the wrong number of digits for AD (+376); a mobile number")


def test_a_possible_but_unassigned_number_is_not_a_valid_number() -> None:
    message = error_of(parse_receiver, "+34 500 000 000", None).user_message

    assert message.startswith("`+34 500 000 000` is not a valid number for ES (+34); a mobile number there")


def test_a_number_of_no_country_names_only_its_code() -> None:
    assert error_of(parse_receiver, "+800 1234", None).user_message == (
        "`+800 1234` is too short for +800. Check the digits; for another country, start with `+` and its "
        "country code."
    )


def test_typed_text_of_thirty_characters_is_quoted_whole_and_longer_is_cut() -> None:
    thirty = "a" * 30

    assert error_of(parse_receiver, thirty, None).user_message.startswith(f"`{thirty}` is not")
    assert error_of(parse_receiver, thirty + "b", None).user_message.startswith(f"`{'a' * 29}…` is not")
