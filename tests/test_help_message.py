"""What `/sms help` tells people: every command, how numbers are read, the real size limits, the sender."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.sms_text import MAX_PARTS, check_message
from bot.slack.blocks import help_message

COMMANDS = [
    "*Send an SMS from Slack* :iphone:",
    "• `/sms +34600000001 Your message` sends a message to one number.",
    "• `/sms +34600000001,+34600000002 Your message` sends it to several (commas and/or spaces).",
    "• `/sms @alice @oncall-team Your message` sends it to the phone in each person's Slack profile "
    "(for a user group, each member's).",
    "• `/sms` alone opens a form, handy for long messages.",
    "• `/sms usage` shows how much you sent in the last 24 hours, and your limits.",
    "• `/sms contacts` lists the team's contacts; `/sms @NAME Your message` sends to one.",
    "• `/sms help` shows this.",
]
AFTER = [
    "A message can be up to 6 SMS long (918 plain characters, or 402 with accents outside the SMS alphabet "
    "or emoji).",
    "The bot posts each send in the channel with a thread holding OVH's answer: that thread is the audit trail.",
    "Admins: `/sms optout +34600000001 [note]` stops all SMS to a number, `/sms optin …` undoes it, "
    "`/sms optouts` lists them.",
]


def lines_and_footer(region: str | None, sender: str | None) -> tuple[list[str], str]:
    message = help_message(region, sender)
    assert message.text == "How to use /sms"
    section, context = message.blocks
    assert (section["type"], section["text"]["type"]) == ("section", "mrkdwn")
    assert context["type"] == "context"
    [footer] = context["elements"]
    assert footer["type"] == "mrkdwn"
    return section["text"]["text"].split("\n"), footer["text"]


def test_the_help_lists_every_command_and_the_rules_with_a_default_region_and_sender() -> None:
    lines, footer = lines_and_footer("ES", "ACME")

    assert lines == [
        *COMMANDS,
        "Numbers without a country code are read as ES numbers. Dashes, dots and parentheses inside a number "
        "are fine.",
        *AFTER,
    ]
    assert footer == "Messages go out from sender `ACME`."


def test_without_a_region_the_help_asks_for_country_codes_and_names_the_default_sender() -> None:
    lines, footer = lines_and_footer(None, None)

    assert lines[len(COMMANDS)] == (
        "Write numbers with their country code (`+34…` or `0034…`). Dashes, dots and parentheses inside a "
        "number are fine."
    )
    assert footer == "Messages use the default sender."


def test_a_sender_name_cannot_inject_slack_markup() -> None:
    assert lines_and_footer("ES", "<!here>&")[1] == "Messages go out from sender `&lt;!here&gt;&amp;`."


def test_the_sizes_the_help_states_are_the_ones_the_bot_enforces() -> None:
    assert MAX_PARTS == 6
    assert check_message("a" * 918).parts == 6
    assert check_message("á" * 402).parts == 6
    for too_long in ["a" * 919, "á" * 403]:
        with pytest.raises(InvalidInput):
            check_message(too_long)
    assert "918 plain characters, or 402 with accents" in AFTER[0]
