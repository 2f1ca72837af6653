"""What `/sms help` tells people, written from the rules themselves: the dispatcher's sub-commands, the
send examples as the parser reads them, the length the check allows, the sender."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.command_syntax import (
    NATIONAL,
    SEND_EXAMPLES,
    SUBCOMMANDS,
    find_subcommand,
    length_rule,
    read_examples,
)
from bot.domain.errors import InvalidInput
from bot.domain.receivers import parse_command
from bot.domain.sms_text import MAX_PARTS, check_message
from bot.slack.help import help_message, help_text


def lines_and_footer(
    region: str | None, sender: str | None, *, stop_clause: bool = False
) -> tuple[list[str], str]:
    message = help_message(region, sender, stop_clause=stop_clause)
    assert message.text == "How to use /sms"
    section, context = message.blocks
    assert (section["type"], section["text"]["type"]) == ("section", "mrkdwn")
    assert len(section["text"]["text"]) <= 3000
    [footer] = context["elements"]
    return section["text"]["text"].split("\n"), footer["text"]


def test_the_help_with_a_region_and_a_sender_reads_like_this() -> None:
    lines, footer = lines_and_footer("ES", "ACME")

    assert lines == [
        "*Send an SMS from Slack* :iphone:",
        "• `/sms +34600000001 Your message`: one number (sends to +34 600 00 00 01).",
        "• `/sms +34600000001,+34600000002 Your message`: several numbers, separated by commas "
        "(sends to +34 600 00 00 01, +34 600 00 00 02).",
        "• `/sms +34600000001 +34600000002 Your message`: several numbers, separated by spaces "
        "(sends to +34 600 00 00 01, +34 600 00 00 02).",
        "• `/sms 0034600000001 Your message`: the 00 international prefix (sends to +34 600 00 00 01).",
        "• `/sms 612-34-56-78 Your message`: a national number, with dashes (sends to +34 612 34 56 78).",
        "• `/sms @alice @oncall-team Your message`: people and user groups, mentioned (sends to the phone in "
        "@alice's Slack profile, and in each @oncall-team member's).",
        "• `/sms` alone opens a form, handy for long messages.",
        "Numbers without a country code are read as ES numbers. Dashes, dots and parentheses inside a number "
        "are fine. The message starts at the first word that is not a phone number.",
        "A message can be up to 6 SMS long: 918 plain characters, or 402 once it holds an emoji or a "
        "character outside the SMS alphabet.",
        "*Other commands*",
        "• `/sms help`: shows this.",
        "• `/sms usage`: how much you sent in the last 24 hours, and your limits.",
        "• `/sms credits`: the credits left, and the team's use this month.",
        "• `/sms history [@person]`: your latest sends with links to their threads (admins: anyone's, and a "
        "CSV of the month).",
        "• `/sms contacts [add NAME NUMBER | remove NAME]`: the team's contacts (admins add and remove them); "
        "`/sms @NAME Your message` sends to one.",
        "*Admins only*",
        "• `/sms optout NUMBER [note]`: stops all SMS to a number.",
        "• `/sms optin NUMBER`: undoes an opt-out.",
        "• `/sms optouts`: lists the opted-out numbers.",
        "The bot posts each send in the channel with a thread holding OVH's answer: that thread is the audit "
        "trail. The app's Home tab shows your credits, your limits and your latest sends.",
    ]
    assert footer == "Messages go out from sender `ACME`."


def test_without_a_region_national_numbers_are_not_offered() -> None:
    lines, footer = lines_and_footer(None, None)

    assert not any("national number" in line for line in lines)
    assert "Write numbers with their country code (`+34…` or `0034…`)." in "\n".join(lines)
    assert footer == "Messages use the default sender."


def test_the_stop_mention_takes_room_and_the_help_says_so() -> None:
    lines, _ = lines_and_footer("ES", None, stop_clause=True)
    assert (
        "A message can be up to 6 SMS long: 907 plain characters, or 391 once it holds an emoji or a character "
        "outside the SMS alphabet, keeping room for OVH's STOP mention." in lines
    )


def test_a_sender_name_cannot_inject_slack_markup() -> None:
    assert lines_and_footer("ES", "<!here>&")[1] == "Messages go out from sender `&lt;!here&gt;&amp;`."


@pytest.mark.parametrize("stop_clause", [False, True])
def test_the_lengths_the_help_states_are_the_ones_the_check_enforces(stop_clause: bool) -> None:
    rule = length_rule(stop_clause)
    assert rule.parts == MAX_PARTS
    assert check_message("a" * rule.plain, stop_clause=stop_clause).parts == MAX_PARTS
    assert check_message("á" * rule.unicode, stop_clause=stop_clause).parts == MAX_PARTS
    for too_long in ("a" * (rule.plain + 1), "á" * (rule.unicode + 1)):
        with pytest.raises(InvalidInput):
            check_message(too_long, stop_clause=stop_clause)


@pytest.mark.parametrize("region", [None, *sorted(phonenumbers.SUPPORTED_REGIONS)])
def test_every_example_the_help_shows_is_a_send_the_parser_takes(region: str | None) -> None:
    examples = read_examples(region)
    for read in examples:
        assert read.parsed.message == "Your message"
        assert read.parsed == parse_command(read.example.text, region)
        assert len(read.parsed.receivers) == (2 if "several" in read.example.purpose else 1)
    national = [read for read in examples if read.example.purpose == NATIONAL]
    if region in ("ES", "FR", "GB", "US", "DE", "IT", "PT"):
        assert [read.parsed.receivers[0].region for read in national] == [region]
    assert len(examples) == len(SEND_EXAMPLES) + len(national)


def test_every_subcommand_is_in_the_help_and_found_by_each_of_its_words() -> None:
    text = help_text("ES", stop_clause=False)
    for sub in SUBCOMMANDS:
        assert f"`/sms {sub.name}" in text
        for word in sub.words:
            assert find_subcommand(word) is sub
            assert find_subcommand(word.upper()) is sub


@given(st.text(min_size=1, max_size=12))
def test_only_the_registered_words_are_subcommands(word: str) -> None:
    found = find_subcommand(word)
    assert (found is None) == (word.lower() not in {w for sub in SUBCOMMANDS for w in sub.words})
