"""Slack messages and views the bot builds, as pure values: the send form, and long answers split safely."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.records import SIMULATED_SERVICE, SendStatus
from bot.i18n import for_locale
from bot.slack.blocks import (
    MAX_BLOCKS,
    MESSAGE_LIMIT,
    NOT_IN_CHANNEL_HINT,
    SECTION_LIMIT,
    PrivateReason,
    audit_details,
    audit_parent,
    display_number,
    info_message,
    private_result,
    slack_date,
)
from bot.slack.compose import COMPOSE_CALLBACK_ID, compose_modal
from tests.test_audit_trail import _record as record


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
    receivers, message, summary, context = view["blocks"]
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
    for field in (receivers, message):  # each keystroke refreshes the summary
        assert field["dispatch_action"] is True
        assert field["element"]["dispatch_action_config"] == {"trigger_actions_on": ["on_character_entered"]}
    assert (summary["type"], summary["block_id"]) == ("context", "summary")
    assert summary["elements"][0]["text"] == "Type a message to see its length and what it will cost."
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
    assert "more lines not shown here" in json.dumps(cut.blocks)


# --- the audit trail's messages: what is named, what is split, what carries over ----------------------


def test_a_parent_names_the_first_20_receivers_and_counts_the_others() -> None:
    numbers = [f"+346000000{n:02d}" for n in range(1, 26)]
    shown = ", ".join(display_number(n) for n in numbers[:20])

    assert audit_parent(record(receivers=numbers)).text == (
        f"<@UALICE> sent an SMS to {shown} and 5 more (all listed in the thread)"
    )
    assert audit_parent(record(receivers=numbers[:20])).text == f"<@UALICE> sent an SMS to {shown}"


def test_every_line_of_a_quoted_text_split_over_sections_stays_quoted() -> None:
    message = "Aviso:\n" + "&" * 700 + " " + "ñ" * 1500 + "\nFin"

    parent = audit_parent(record(message=message))

    texts = section_texts(parent.blocks)
    assert len(texts) == 2
    assert texts[0].split("\n")[0].startswith(":outbox_tray: <@UALICE> sent an SMS to")
    quoted = [line for text in texts for line in text.split("\n")][1:]
    assert all(line.startswith("> ") for line in quoted), [line[:10] for line in quoted]
    assert texts[1].startswith("> ")


def test_a_private_result_over_several_messages_says_its_own_parts_only() -> None:
    numbers = [f"+34{n:09d}" for n in range(600_000_001, 600_003_001)]
    details = audit_details(record(receivers=numbers, accepted_receivers=numbers))
    assert len(details) > 1  # the thread reply alone needs several messages

    messages = private_result(record(receivers=numbers, accepted_receivers=numbers), PrivateReason.NO_CHANNEL)

    count = len(messages)
    contexts = [
        block["elements"][0]["text"] for m in messages for block in m.blocks if block["type"] == "context"
    ]
    continued = [text for text in contexts if text.startswith("_Continued")]
    assert continued == [f"_Continued, part {index} of {count}_" for index in range(2, count + 1)]
    assert [m.blocks[0] in [b for b in m.blocks if b["type"] == "context"] for m in messages] == [False] + [
        True
    ] * (count - 1)
    assert sum(text.startswith("Send #7 · OVH tag `") for text in contexts) == 1
    assert contexts[-1] == NOT_IN_CHANNEL_HINT


def test_each_part_of_a_long_reply_says_which_part_it_is() -> None:
    numbers = [f"+34{n:09d}" for n in range(600_000_001, 600_003_001)]

    replies = audit_details(record(receivers=numbers, accepted_receivers=numbers))

    count = len(replies)
    assert count > 1
    summary = ":white_check_mark: Sent by OVH OVH job id: 1"  # the notification: the first two lines
    assert replies[0].text == summary
    assert [reply.text for reply in replies[1:]] == [
        f"{summary} (part {index} of {count})" for index in range(2, count + 1)
    ]
    assert replies[0].blocks[0]["type"] == "section"
    assert [reply.blocks[0] for reply in replies[1:]] == [
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"_Continued, part {index} of {count}_"}],
            "block_id": f"continued_{index}",
        }
        for index in range(2, count + 1)
    ]
    assert all(len(reply.blocks) <= MAX_BLOCKS for reply in replies)


@pytest.mark.parametrize(
    "lines",
    [["a" * SECTION_LIMIT], ["a" * 1499, "b" * 1500], ["a" * 999, "b" * 999, "c" * 1000]],
    ids=["one line", "two lines", "three lines"],
)
def test_a_text_that_fills_a_section_exactly_takes_one_section(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert len(text) == SECTION_LIMIT

    assert section_texts(info_message(text).blocks) == [text]
    assert section_texts(info_message(text + "z").blocks) != [text + "z"]


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (SendStatus.SENT, ":white_check_mark: *Sent by OVH*"),
        (SendStatus.FAILED, ":x: *Not sent*"),
        (SendStatus.UNKNOWN, ":grey_question: *Outcome unknown*"),
        (SendStatus.PENDING, ":hourglass_flowing_sand: *Waiting for OVH*"),
    ],
)
def test_a_thread_reply_starts_with_the_outcome_and_notifies_it(status: SendStatus, line: str) -> None:
    [reply] = audit_details(record(status=status, ovh_job_ids=[], error_message="OVH said no."))

    first, second = section_texts(reply.blocks)[0].split("\n")[:2]
    assert (first, second) == (line, "*Reason:* OVH said no.")
    assert reply.text == f"{line} *Reason:* OVH said no.".replace("*", "")


def test_an_update_says_what_recovery_found_first() -> None:
    note = "OVH did take this send; it was not sent again."

    [reply] = audit_details(record(), note=note)
    [simulated] = audit_details(record(ovh_service=SIMULATED_SERVICE), note=note)

    assert reply.text == f"Update on send #7: {note}"
    assert section_texts(reply.blocks)[0].startswith(f":arrows_counterclockwise: *Update:* {note}\n")
    assert simulated.text == f"[Simulated] Update on send #7: {note}"


def test_a_date_is_read_in_each_readers_time_zone_with_the_words_of_their_language() -> None:
    christmas_eve = datetime(2026, 12, 24, 17, 30, tzinfo=ZoneInfo("Europe/Madrid"))

    # Slack shows {date_short_pretty} and {time} in the reader's zone; the fallback is in UTC.
    assert (
        slack_date(christmas_eve) == "<!date^1798129800^{date_short_pretty} at {time}|2026-12-24 16:30 UTC>"
    )
    assert (
        slack_date(christmas_eve, for_locale("es-ES"))
        == "<!date^1798129800^{date_short_pretty} a las {time}|2026-12-24 16:30 UTC>"
    )


def test_one_line_left_out_of_a_long_answer_is_counted_in_the_singular() -> None:
    lines = [f"{n:02d}" + "x" * 2997 for n in range(14)]  # one section each; together past one message

    blocks = info_message("\n".join(lines)).blocks

    assert section_texts(blocks) == [*lines[:12], lines[13]]  # the first ones and the last one
    assert blocks[12]["elements"][0]["text"] == (
        "_… 1 more line not shown here: too long for one Slack message._"
    )
