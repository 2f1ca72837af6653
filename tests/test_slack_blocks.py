"""Slack messages and views the bot builds, as pure values: the send form, and long answers split safely."""

from __future__ import annotations

import json

from bot.slack.blocks import COMPOSE_CALLBACK_ID, MESSAGE_LIMIT, compose_modal, info_message


def section_texts(blocks: list[dict]) -> list[str]:
    return [block["text"]["text"] for block in blocks if block["type"] == "section"]


def test_the_send_form_says_what_each_field_takes() -> None:
    view = compose_modal(channel_id="COPS", response_url="https://hooks.example/1", default_region="ES")

    assert (view["type"], view["callback_id"]) == ("modal", COMPOSE_CALLBACK_ID)
    assert json.loads(view["private_metadata"]) == {
        "channel_id": "COPS",
        "response_url": "https://hooks.example/1",
    }
    assert [view[key]["text"] for key in ("title", "submit", "close")] == ["Send an SMS", "Send", "Cancel"]
    receivers, message, context = view["blocks"]
    assert (receivers["block_id"], receivers["label"]["text"]) == ("receivers", "To")
    assert receivers["hint"]["text"] == (
        "One or more numbers, separated by commas; numbers without a country code are read as ES numbers."
    )
    assert receivers["element"]["placeholder"]["text"] == "+34600000001, +34600000002"
    assert (message["block_id"], message["label"]["text"]) == ("message", "Message")
    assert message["hint"]["text"] == (
        "Up to 6 SMS: 918 plain characters, or 402 with emoji or other characters outside the SMS alphabet."
    )
    assert message["element"]["multiline"] is True
    assert context["elements"][0]["text"] == (
        "The send and OVH's answer are posted in the channel where you typed `/sms`."
    )


def test_without_a_region_the_form_asks_for_country_codes() -> None:
    view = compose_modal(channel_id="COPS", response_url=None, default_region=None)

    assert view["blocks"][0]["hint"]["text"] == (
        "One or more numbers, separated by commas; write numbers with their country code, e.g. +34600000001."
    )


def test_a_long_line_is_never_cut_inside_a_link_or_a_mention() -> None:
    link = "<https://example.com/" + "x" * 30 + "|the report>"
    mention = "<@U0123ABCD>"

    for inner in (link, mention):
        texts = section_texts(info_message("a" * 2990 + inner + "b" * 50).blocks)

        assert texts == ["a" * 2990, inner + "b" * 50]


def test_an_answer_up_to_the_room_of_one_message_is_shown_whole() -> None:
    def answer(last_line: int) -> str:
        return "\n".join(["l" * 1000] * 39 + ["z" * last_line])

    whole = answer(MESSAGE_LIMIT - 100 - 39 * 1001)
    assert len(whole) == MESSAGE_LIMIT - 100
    shown = "".join(section_texts(info_message(whole).blocks))
    assert (shown.count("l"), shown.count("z")) == (whole.count("l"), whole.count("z"))

    cut = info_message(answer(MESSAGE_LIMIT - 100 - 39 * 1001 + 1))
    assert "more line(s) not shown here" in json.dumps(cut.blocks)
