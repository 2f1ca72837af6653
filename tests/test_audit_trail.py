"""The audit trail says everything: every receiver and every figure reaches the thread, the whole text the
parent, however long; Slack's limits (3,000 characters a section, 50 blocks and 40,000 characters a
message) split it over several blocks or replies, never cut it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.records import AuditStatus, SendRecord, SendStatus
from bot.slack.blocks import (
    MAX_BLOCKS,
    MESSAGE_LIMIT,
    SECTION_LIMIT,
    PrivateReason,
    SlackMessage,
    audit_details,
    audit_parent,
    display_number,
    info_message,
    private_result,
)
from tests.harness import blocks_text, settled_records

NUMBERS = [f"+3460000{n:04d}" for n in range(1, 301)]


def _within_limits(message: SlackMessage | dict[str, Any]) -> None:
    blocks = message.blocks if isinstance(message, SlackMessage) else message["blocks"]
    texts = [
        block["text"]["text"] if block["type"] == "section" else block["elements"][0]["text"]
        for block in blocks
        if block["type"] != "actions"  # the thread's Follow up button: no text of the send's
    ]
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(text) <= SECTION_LIMIT for text in texts)
    assert sum(len(text) for text in texts) <= MESSAGE_LIMIT
    assert not any(text.endswith("…") for text in texts)  # nothing was cut short
    for text in texts:  # no escape is cut in two
        assert re.sub(r"&(amp|lt|gt);", "", text).count("&") == 0


def _read(*messages: SlackMessage | dict[str, Any]) -> str:
    """What a person reads across ``messages``, with the seams of a split (line ends, a quote mark carried
    over, a "continued" note) taken out."""
    texts = []
    for message in messages:
        blocks = message.blocks if isinstance(message, SlackMessage) else message["blocks"]
        text = blocks_text({"blocks": blocks})
        texts.append(re.sub(r"_Continued, part \d+ of \d+_\n", "", text))
    return "\n".join(texts).replace("\n> ", "").replace("\n", "")


def _parents_in(fake_slack) -> list[dict[str, Any]]:
    return [p for p in fake_slack.calls_to("chat.postMessage") if not p.get("thread_ts")]


def _thread_text(fake_slack, parent_ts: str) -> str:
    replies = [p for p in fake_slack.calls_to("chat.postMessage") if p.get("thread_ts") == parent_ts]
    for reply in replies:
        _within_limits(reply)
    return _read(*replies)


def test_a_send_to_300_receivers_lists_every_one_and_every_figure_in_the_thread(
    start_bot, fake_slack, fake_ovh
):
    fake_ovh.credits_left = 10_000
    fake_ovh.invalid_receivers = {NUMBERS[7], NUMBERS[250]}
    bot = start_bot(SMS_ALLOWED_USERS="UALICE,UBOSS", SMS_ADMIN_USERS="UBOSS")
    from tests.harness import SlackSender

    answer = SlackSender(bot.url).command(",".join(NUMBERS) + " Incident over", user_id="UBOSS")

    assert answer.status == 200 and answer.body == ""
    [record] = settled_records(bot)
    assert record.status is SendStatus.SENT and record.audit_status is AuditStatus.THREAD
    [parent] = [p for p in fake_slack.calls_to("chat.postMessage") if not p.get("thread_ts")]
    _within_limits(parent)
    assert "and 280 more (all listed in the thread)" in blocks_text(parent)
    thread = _thread_text(fake_slack, record.audit_ts)
    [job] = fake_ovh.jobs
    accepted = [n for n in NUMBERS if n not in fake_ovh.invalid_receivers]
    assert "*Accepted (298):* " + ", ".join(display_number(n) for n in accepted) in thread
    assert f"*Rejected by OVH (2):* {display_number(NUMBERS[7])}, {display_number(NUMBERS[250])}" in thread
    assert "*Credits used:* 298" in thread and "*Credits left:* 9,702" in thread
    assert all(str(job_id) in thread for job_id in job.ids)
    assert f"Send #{record.id} · OVH tag `{record.tag}`" in thread


def test_a_message_of_918_ampersands_shows_whole_in_the_parent(bot, slack, fake_slack):
    slack.command("+34600000001 " + "&" * 918)

    [record] = settled_records(bot)
    assert record.message == "&" * 918
    [parent] = [p for p in fake_slack.calls_to("chat.postMessage") if not p.get("thread_ts")]
    _within_limits(parent)
    assert blocks_text(parent).count("&amp;") == 918
    assert len(parent["blocks"]) == 2  # 4,590 characters once escaped: two sections


def _record(**fields: Any) -> SendRecord:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": 7,
        "request_key": "command:t",
        "source": "command",
        "created_at": now,
        "updated_at": now,
        "team_id": "T0TEST",
        "user_id": "UALICE",
        "channel_id": "COPS",
        "receivers": ["+34600000001"],
        "message": "hi",
        "sender": None,
        "status": SendStatus.SENT,
        "ovh_service": "sms-tt12345-1",
        "ovh_job_ids": [1],
        "credits_used": 1.0,
        "credits_left": 99.0,
        "accepted_receivers": ["+34600000001"],
        "rejected_receivers": [],
        "error_code": None,
        "error_message": None,
        "audit_channel_id": None,
        "audit_ts": None,
        "audit_status": AuditStatus.PENDING,
        "attempts": 1,
        "last_attempt_at": now,
        "lease_until": None,
        "lease_owner": None,
        "receiver_count": 1,
        "estimated_credits": 1.0,
    }
    return SendRecord(**(values | fields))


def test_a_thread_too_long_for_one_message_goes_over_several_replies_in_order():
    numbers = [f"+34{n:09d}" for n in range(600_000_001, 600_005_001)]  # 5,000 receivers
    record = _record(
        receivers=numbers,
        accepted_receivers=numbers[:4000],
        rejected_receivers=numbers[4000:],
        ovh_job_ids=list(range(1, 11)),
    )

    replies = audit_details(record, note="OVH did take this send")

    assert len(replies) > 1
    for index, reply in enumerate(replies, start=1):
        _within_limits(reply)
        if index > 1:
            assert f"part {index} of {len(replies)}" in reply.text
    shown = _read(*replies)
    assert "*Accepted (4,000):* " + ", ".join(display_number(n) for n in numbers[:4000]) in shown
    assert "*Rejected by OVH (1,000):* " + ", ".join(display_number(n) for n in numbers[4000:]) in shown
    assert shown.startswith(":arrows_counterclockwise: *Update:* OVH did take this send")
    assert shown.endswith("service `sms-tt12345-1`")


def test_a_failed_send_to_many_still_lists_whom_it_was_for():
    record = _record(
        receivers=NUMBERS,
        status=SendStatus.FAILED,
        accepted_receivers=[],
        ovh_job_ids=[],
        error_message="Not enough credits",
    )

    [reply] = audit_details(record)

    assert "*To (300):* " + ", ".join(display_number(n) for n in NUMBERS) in _read(reply)


def test_a_private_result_is_whole_too():
    numbers = [f"+34{n:09d}" for n in range(600_000_001, 600_003_001)]
    record = _record(receivers=numbers, accepted_receivers=numbers, message="<&>" * 300)

    messages = private_result(record, PrivateReason.CHANNEL_CLOSED)

    assert len(messages) > 1
    for message in messages:
        _within_limits(message)
    shown = _read(*messages)
    assert shown.count("&lt;&amp;&gt;") == 300
    assert "*Accepted (3,000):* " + ", ".join(display_number(n) for n in numbers) in shown
    assert "Invite me with `/invite @smsbot`" in shown


def test_a_parent_never_cuts_the_text_whatever_its_lines():
    for message in ["&" * 918, "\n" * 917 + "x", ("a" * 40 + "\n") * 22, "é" * 402, "&<> " * 229]:
        parent = audit_parent(_record(message=message))
        _within_limits(parent)
        lines = blocks_text({"blocks": parent.blocks}).split("\n")
        assert lines[0].startswith(":outbox_tray: <@UALICE> sent an SMS to")
        escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert "".join(line.removeprefix(">").removeprefix(" ") for line in lines[1:]) == escaped.replace(
            "\n", ""
        ), message[:9]


def test_an_answer_too_long_for_one_message_says_how_much_it_leaves_out():
    lines = [f"+34 600 {n:06d} opted out on 2026-11-30 by <@UALICE>: asked by phone" for n in range(3000)]
    message = info_message("\n".join([*lines, "*3,000 numbers opted out.*"]))

    _within_limits(message)
    shown = blocks_text({"blocks": message.blocks})
    assert shown.startswith(lines[0]) and shown.endswith("*3,000 numbers opted out.*")
    kept = sum(line in shown for line in lines)
    assert f"_… {3000 - kept:,} more lines not shown here: too long for one Slack message._" in shown


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab &<>\n,é", max_size=918))
def test_any_text_reaches_the_parent_whole_and_within_slack_limits(message):
    parent = audit_parent(_record(message=message))

    _within_limits(parent)
    lines = blocks_text({"blocks": parent.blocks}).split("\n")[1:]
    escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert all(line.startswith("> ") or line == ">" for line in lines)
    assert "".join(line[2:] for line in lines) == escaped.replace("\n", "")


def test_direction_controls_show_as_code_points_in_the_audit_but_go_to_ovh_as_typed(
    bot, slack, fake_slack, fake_ovh
):
    text = "Pay \u202eredro\u202c now \u2067x\u2069"

    slack.command(f"+34600000001 {text}")

    [record] = settled_records(bot)
    [job] = fake_ovh.jobs
    assert job.body["message"] == record.message == text
    [parent] = _parents_in(fake_slack)
    shown = blocks_text(parent)
    assert "> Pay [U+202E]redro[U+202C] now [U+2067]x[U+2069]" in shown
    assert not any(char in shown for char in "\u202e\u202c\u2067\u2069")
