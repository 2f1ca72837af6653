"""`/sms <numbers> <text>`: from a signed slash command to OVH and back into a channel thread."""

from __future__ import annotations

import pytest

from bot.domain.records import AuditStatus, SendStatus
from tests.harness import all_sends, audit_thread, blocks_text, settled_records


def test_a_send_is_posted_in_the_channel_with_its_audit_thread(bot, slack, fake_slack, fake_ovh):
    answer = slack.command("+34600000001 Hola equipo")

    assert answer.status == 200
    assert answer.body == ""  # acknowledged silently: the channel message is the answer
    [(parent, reply)] = audit_thread(fake_slack)
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == ["+34600000001"]
    assert job.body["message"] == "Hola equipo"
    assert job.body["noStopClause"] is True
    record = settled_records(bot)[0]
    assert job.tag == record.tag == f"smsbot-{record.id}"

    shown = blocks_text(parent)
    assert "<@UALICE> sent an SMS to +34 600 00 00 01" in shown
    assert "> Hola equipo" in shown
    details = blocks_text(reply)
    assert f"*OVH job id:* {job.ids[0]}" in details
    assert "*Credits used:* 1" in details
    assert "*Credits left:* 99" in details
    assert "*Accepted (1):* +34 600 00 00 01" in details
    assert "Rejected" not in details

    assert record.status is SendStatus.SENT
    assert record.user_id == "UALICE" and record.channel_id == "COPS"
    assert record.ovh_job_ids == job.ids
    assert record.credits_used == 1 and record.credits_left == 99
    assert record.audit_status is AuditStatus.THREAD
    assert record.audit_ts == reply["thread_ts"]


def test_several_receivers_with_one_rejected_by_ovh(bot, slack, fake_slack, fake_ovh):
    fake_ovh.invalid_receivers = {"+34600000003"}

    slack.command("+34600000001,+34600000002 , +34600000003 Server down, call me")

    [(_parent, reply)] = audit_thread(fake_slack)
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == ["+34600000001", "+34600000002", "+34600000003"]
    assert job.body["message"] == "Server down, call me"
    details = blocks_text(reply)
    assert "*Accepted (2):* +34 600 00 00 01, +34 600 00 00 02" in details
    assert "*Rejected by OVH (1):* +34 600 00 00 03" in details
    assert "*Credits used:* 2" in details
    record = settled_records(bot)[0]
    assert record.status is SendStatus.SENT
    assert record.rejected_receivers == ["+34600000003"]


@pytest.mark.parametrize(
    ("region", "typed", "sent"),
    [
        ("ES", "600000001", "+34600000001"),
        ("ES", "600-00-00-01", "+34600000001"),
        ("ES", "0033612345678", "+33612345678"),
        ("FR", "0612345678", "+33612345678"),
        ("FR", "06.12.34.56.78", "+33612345678"),
        ("GB", "(07400)123456", "+447400123456"),
    ],
)
def test_national_numbers_are_read_with_the_default_country(
    start_bot, fake_slack, fake_ovh, region, typed, sent
):
    from tests.harness import SlackSender

    bot = start_bot(SMS_DEFAULT_REGION=region)
    SlackSender(bot.url).command(f"{typed} Hello")

    [job] = fake_ovh.wait_for_jobs(1)
    assert job.body["receivers"] == [sent]


def test_text_is_sent_exactly_as_typed_and_shown_escaped(bot, slack, fake_slack, fake_ovh):
    typed = "<!channel> wire 5€ & click <https://evil.example|your bank> <@UBOSS>\n  second line"

    slack.command(f"+34600000001 {typed}")

    [(parent, _reply)] = audit_thread(fake_slack)
    assert fake_ovh.jobs[0].body["message"] == typed
    shown = blocks_text(parent) + parent["text"]
    assert "<!channel>" not in shown and "<https://" not in shown and "<@UBOSS>" not in shown
    assert (
        "&lt;!channel&gt; wire 5€ &amp; click &lt;https://evil.example|your bank&gt; &lt;@UBOSS&gt;" in shown
    )
    assert ">   second line" in shown


def test_help_explains_usage(slack, fake_ovh):
    answer = slack.command("help")

    assert answer.status == 200
    text = blocks_text(answer.json())
    assert "/sms +34600000001 Your message" in text
    assert "`/sms` alone opens a form" in text
    assert fake_ovh.jobs == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+34600000001", "Write the message after the number(s)"),
        ("Hello there", "/sms +34600000001 Your message"),
        ("+3460000 Hello", "+3460000"),
        ("+34600000001,12345678901234 Hello", "12345678901234"),
        ("+34600000001 " + "x" * 919, "918"),
        ("+34600000001 " + "é" * 100 + "😀" * 200, "402"),
    ],
)
def test_bad_input_gets_a_clear_answer_and_nothing_is_sent(bot, slack, fake_slack, fake_ovh, typed, expected):
    answer = slack.command(typed)

    assert answer.status == 200
    assert expected in blocks_text(answer.json())
    assert fake_ovh.jobs == []
    assert all_sends(bot.ledger) == []
    assert fake_slack.calls_to("chat.postMessage") == []


def test_a_request_with_a_bad_signature_is_refused(bot, slack, fake_ovh):
    from urllib.parse import urlencode

    body = urlencode({"command": "/sms", "text": "+34600000001 hi", "user_id": "UALICE", "trigger_id": "t1"})
    forged = slack.post(body, headers={"X-Slack-Signature": "v0=" + "0" * 64})
    unsigned = slack.post(body, sign=False)

    assert forged.status == 401 and unsigned.status == 401
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_a_redelivered_command_is_sent_once(bot, slack, fake_slack, fake_ovh):
    first = slack.command("+34600000001 Only once", trigger_id="trigger-same")
    again = slack.command(
        "+34600000001 Only once",
        trigger_id="trigger-same",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )

    assert first.status == again.status == 200
    audit_thread(fake_slack)
    fake_ovh.wait_for_jobs(1)
    slack.command("+34600000002 A different request")  # a later send proves the redelivery was handled
    audit_thread(fake_slack, sends=2)
    assert [job.body["message"] for job in fake_ovh.jobs] == ["Only once", "A different request"]
    assert len(all_sends(bot.ledger)) == 2
