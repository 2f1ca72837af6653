"""The exact words of the message errors, and the edges of the characters a phone cannot show."""

from __future__ import annotations

import pytest

from bot.domain.errors import (
    DATABASE_DOWN,
    NOT_RECORDED,
    DeliveryError,
    InputField,
    InvalidInput,
    LedgerUnavailable,
    SmsBotError,
)
from bot.domain.sms_text import check_message


def error_of(text: str, **options) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        check_message(text, **options)
    assert caught.value.field is InputField.MESSAGE
    return caught.value


def test_an_empty_message_says_what_to_do() -> None:
    assert error_of(" ").user_message == "The message is empty. Write the text to send."


def test_fewer_than_one_part_is_a_bug_not_an_input_error() -> None:
    with pytest.raises(ValueError, match=r"^max_parts must be at least 1, not 0$"):
        check_message("hi", max_parts=0)


def test_unsendable_characters_are_listed_by_code_point_when_they_have_no_name() -> None:
    assert error_of("a\x01b\x9f\udfff\x01").user_message == (
        "The message holds characters a phone cannot show: U+0001, U+009F, U+DFFF. Remove them and send again."
    )


def test_the_first_private_use_character_after_the_surrogates_can_be_sent() -> None:
    assert check_message("\ue000").units == 1


def test_a_long_unicode_message_with_the_stop_mention_gives_both_limits_without_it() -> None:
    message = error_of("é" * 398 + "\u2019\u201c\u201d", stop_clause=True).user_message

    assert message == (
        "The message is 401 characters (7 SMS); the limit for Unicode text is 391 "
        "(6 SMS, keeping room for the STOP mention). Shorten it by 10 characters. "
        "It counts as Unicode because of `\u2019` (right single quotation mark), "
        "`\u201c` (left double quotation mark), `\u201d` (right double quotation mark): "
        "with plain characters instead, the limit would be 907."
    )


def test_an_unnamed_character_that_makes_a_text_unicode_is_shown_by_code_point() -> None:
    message = error_of("\ue000" * 403).user_message

    assert "It counts as Unicode because of U+E000: with plain characters" in message


def test_a_visible_character_without_a_name_is_shown_alone() -> None:
    # Python's Unicode database names no Tangut ideograph, though each is printable.
    message = error_of("\U00017000" * 300).user_message

    assert "It counts as Unicode because of `\U00017000`: with plain characters" in message


def test_errors_read_as_their_message_and_a_delivery_error_is_not_maybe_sent_by_default() -> None:
    error = DeliveryError("rejected", "OVH refused the send.")

    assert str(error) == "OVH refused the send." == error.user_message
    assert (error.code, error.maybe_sent) == ("rejected", False)
    assert DeliveryError("timeout", "No answer.", maybe_sent=True).maybe_sent is True
    assert str(SmsBotError("Something to fix.")) == "Something to fix."


def test_a_database_failure_is_retold_with_its_reason_kept() -> None:
    failure = LedgerUnavailable(reason="connection refused")

    assert failure.user_message == DATABASE_DOWN == str(failure)
    retold = failure.told_as(NOT_RECORDED)
    assert (retold.user_message, str(retold), retold.reason) == (
        NOT_RECORDED,
        NOT_RECORDED,
        "connection refused",
    )
    assert LedgerUnavailable().reason == ""
