"""Measuring SMS texts as the network counts them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InputField, InvalidInput
from bot.domain.sms_text import (
    MAX_PARTS,
    STOP_CLAUSE_UNITS,
    Encoding,
    Segmentation,
    _unsendable,
    check_message,
    describe,
    is_invisible,
    measure,
)

# GSM 03.38 basic table, written out by hand from the standard, column by column (0x1B left out).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"


def error_of(text: str, **options: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        check_message(text, **options)  # type: ignore[arg-type]
    assert caught.value.field is InputField.MESSAGE
    return caught.value


# --- the alphabet -------------------------------------------------------------------------------


def test_the_whole_basic_table_is_gsm7_and_counts_one_each() -> None:
    assert len(GSM_BASIC) == 127
    assert measure(GSM_BASIC) == Segmentation(Encoding.GSM7, 127, 1, 160, 918)


@pytest.mark.parametrize("char", list(GSM_EXTENSION))
def test_extension_characters_count_two(char: str) -> None:
    seg = measure("a" + char)
    assert (seg.encoding, seg.units) == (Encoding.GSM7, 3)


@pytest.mark.parametrize(
    "char",
    [
        "ç",  # only the capital Ç is in the table
        "á",
        "í",
        "ó",
        "ú",
        "Á",
        "È",
        "ê",
        "â",
        "ã",
        "õ",
        "`",
        "\u2019",  # right single quotation mark, what phones type for '
        "\u201c",  # left double quotation mark
        "\u2026",  # horizontal ellipsis
        "\u2013",  # en dash
        "\u00a0",  # no-break space
        "\u200b",  # zero-width space
        "\u2126",  # ohm sign, not the Greek Ω of the table
        "\x1b",  # the escape code is not a character
        "\t",
        "ş",
        "ł",
        "\u03b1",  # Greek small alpha: lower-case Greek is not there
        "Б",
        "中",
    ],
)
def test_anything_else_makes_the_text_unicode(char: str) -> None:
    seg = measure("Hola " + char)
    assert (seg.encoding, seg.units) == (Encoding.UCS2, 6)


def test_emoji_outside_the_bmp_count_two_in_ucs2() -> None:
    assert measure("ok \U0001f600").units == 5
    assert measure("\u2764").units == 1  # a heart inside the BMP counts one
    assert measure("\U0001f44d\U0001f3fd").units == 4  # thumbs up with a skin tone: two emoji
    assert measure("\ud83d").units == 1  # a stray surrogate is counted, not an error


# --- boundaries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts", "per_part"),
    [
        ("a" * 160, Encoding.GSM7, 160, 1, 160),
        ("a" * 161, Encoding.GSM7, 161, 2, 153),
        ("a" * 306, Encoding.GSM7, 306, 2, 153),
        ("a" * 307, Encoding.GSM7, 307, 3, 153),
        ("a" * 918, Encoding.GSM7, 918, 6, 153),
        ("a" * 919, Encoding.GSM7, 919, 7, 153),
        ("€" * 80, Encoding.GSM7, 160, 1, 160),
        ("a" + "€" * 80, Encoding.GSM7, 161, 2, 153),
        ("á" * 70, Encoding.UCS2, 70, 1, 70),
        ("á" * 71, Encoding.UCS2, 71, 2, 67),
        ("á" * 134, Encoding.UCS2, 134, 2, 67),
        ("á" * 135, Encoding.UCS2, 135, 3, 67),
        ("á" * 402, Encoding.UCS2, 402, 6, 67),
        ("á" * 403, Encoding.UCS2, 403, 7, 67),
        ("\U0001f600" * 35, Encoding.UCS2, 70, 1, 70),
        ("a" + "\U0001f600" * 35, Encoding.UCS2, 71, 2, 67),
        ("€" * 70 + "á", Encoding.UCS2, 71, 2, 67),  # in UCS-2, € counts one
    ],
)
def test_parts_at_the_boundaries(
    text: str, encoding: Encoding, units: int, parts: int, per_part: int
) -> None:
    seg = measure(text)
    assert (seg.encoding, seg.units, seg.parts, seg.per_part) == (encoding, units, parts, per_part)


def test_max_units_is_the_room_at_six_parts() -> None:
    assert measure("a").max_units == 918
    assert measure("á").max_units == 402


def test_the_stop_mention_takes_room() -> None:
    seg = measure("a" * (160 - STOP_CLAUSE_UNITS), stop_clause=True)
    assert (seg.units, seg.parts, seg.reserved, seg.max_units) == (160, 1, STOP_CLAUSE_UNITS, 907)
    assert measure("a" * (161 - STOP_CLAUSE_UNITS), stop_clause=True).parts == 2
    assert measure("á" * (70 - STOP_CLAUSE_UNITS), stop_clause=True).parts == 1
    assert measure("á" * (71 - STOP_CLAUSE_UNITS), stop_clause=True).parts == 2
    assert measure("á", stop_clause=True).max_units == 402 - STOP_CLAUSE_UNITS


# --- check_message ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["a" * 918, "á" * 402, "€" * 459, "\U0001f600" * 201])
def test_six_parts_are_accepted(text: str) -> None:
    assert check_message(text).parts == MAX_PARTS


@pytest.mark.parametrize("text", ["", " ", "\n\t  \n"])
def test_an_empty_message_is_refused(text: str) -> None:
    assert "The message is empty" in error_of(text).user_message


def test_a_long_gsm7_message_says_by_how_much_to_shorten_it() -> None:
    message = error_of("a" * 1919).user_message
    assert message == (
        "The message is 1,919 characters (13 SMS); the limit is 918 (6 SMS). Shorten it by 1,001 characters."
    )
    assert "Shorten it by 1 character." in error_of("a" * 919).user_message


def test_a_long_message_counts_the_stop_mention() -> None:
    check_message("a" * 907, stop_clause=True)
    message = error_of("a" * 908, stop_clause=True).user_message
    assert "The message is 908 characters (7 SMS); the limit is 907" in message
    assert "room for the STOP mention" in message
    assert "Shorten it by 1 character." in message


def test_a_long_unicode_message_names_the_characters_that_made_it_unicode() -> None:
    text = "It\u2019s " + "a" * 400 + " \u201cgreat\u201d \U0001f600 \u200b \u2019"
    message = error_of(text).user_message
    assert "the limit for Unicode text is 402 (6 SMS)" in message
    assert (
        "because of `\u2019` (right single quotation mark), `\u201c` (left double quotation mark), "
        "`\u201d` (right double quotation mark) and 2 more" in message
    )
    assert "with plain characters instead, the limit would be 918." in message


def test_invisible_characters_and_backticks_are_named_not_shown() -> None:
    message = error_of("\u00a0`" + "a" * 402).user_message
    assert "U+00A0 (no-break space), U+0060 (grave accent)" in message


def test_fewer_parts_may_be_required() -> None:
    assert check_message("a" * 160, max_parts=1).max_units == 160
    assert "the limit is 160 (1 SMS)" in error_of("a" * 161, max_parts=1).user_message
    assert check_message("á" * 134, max_parts=2).max_units == 134
    assert "Shorten it by 1 character" in error_of("á" * 135, max_parts=2).user_message


# --- describe -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "options", "description"),
    [
        ("a" * 142, {}, "142 characters, 1 SMS (GSM-7)"),
        ("á" * 75, {}, "75 characters, 2 SMS (Unicode)"),
        ("a", {}, "1 character, 1 SMS (GSM-7)"),
        ("a" * 1200, {}, "1,200 characters, 8 SMS (GSM-7)"),
        ("a" * 150, {"stop_clause": True}, "150 characters + STOP mention, 2 SMS (GSM-7)"),
    ],
)
def test_describe(text: str, options: dict[str, bool], description: str) -> None:
    assert str(describe(measure(text, **options))) == description


# --- properties ---------------------------------------------------------------------------------

# Mostly GSM text, so that both encodings and the switch between them are exercised.
texts = st.text(
    alphabet=st.one_of(
        st.sampled_from(GSM_BASIC), st.sampled_from(GSM_EXTENSION), st.characters(codec="utf-8")
    ),
    max_size=1200,
)
FAST = settings(max_examples=200, deadline=None)


@FAST
@given(texts, texts, st.booleans())
def test_appending_never_makes_a_text_shorter(text: str, more: str, stop_clause: bool) -> None:
    before, after = measure(text, stop_clause=stop_clause), measure(text + more, stop_clause=stop_clause)
    assert after.parts >= before.parts
    # Units can drop when the text switches to UCS-2 (€ counts two in GSM-7, one in UCS-2), never otherwise.
    assert after.encoding == before.encoding or after.encoding is Encoding.UCS2
    if after.encoding == before.encoding:
        assert after.units >= before.units


@FAST
@given(texts, st.booleans())
def test_the_parts_hold_the_units_and_no_more_parts_than_needed(text: str, stop_clause: bool) -> None:
    seg = measure(text, stop_clause=stop_clause)
    assert seg.parts * seg.per_part >= seg.units
    assert seg.parts == 1 or (seg.parts - 1) * seg.per_part < seg.units
    assert seg.units - seg.reserved >= len(text)


@FAST
@given(texts, st.booleans())
def test_check_message_accepts_exactly_what_fits_in_six_parts(text: str, stop_clause: bool) -> None:
    seg = measure(text, stop_clause=stop_clause)
    blank = all(char.isspace() or is_invisible(char) for char in text)  # nothing anyone would see
    try:
        checked = check_message(text, stop_clause=stop_clause)
    except InvalidInput:
        assert blank or seg.parts > MAX_PARTS or any(_unsendable(char) for char in text)
    else:
        assert not blank
        assert checked == seg
        assert seg.units - seg.reserved <= seg.max_units


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ufffd", "\ud800"])
def test_characters_a_phone_cannot_show_are_refused_by_name(char: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_message(f"before{char}after")
    assert caught.value.field is InputField.MESSAGE
    assert "characters a phone cannot show" in caught.value.user_message
    assert (
        f"U+{ord(char):04X}" in caught.value.user_message
        or "replacement character" in caught.value.user_message
    )


def test_tabs_new_lines_and_form_feeds_are_fine() -> None:
    assert check_message("a\tb\r\nc\fd").parts == 1
