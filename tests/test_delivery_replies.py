"""Replies by SMS: read from OVH, posted once in the thread of the latest send to the number (or in
SMS_REPLIES_CHANNEL, or logged), STOP opting the number out, and the "Reply by SMS" button."""

from __future__ import annotations

import json
import logging

import pytest

from bot.slack.delivery import REPLY_EVENT
from tests.delivery_support import Clock, run_pass
from tests.harness import SlackSender, blocks_text, settled_records

REPLY_ACTION = "sms_reply_by_sms"


def replies_in(fake_slack, channel: str = "COPS") -> list[dict]:
    """The replies the bot posted in ``channel``, as Slack keeps them."""
    return [
        m
        for m in fake_slack.messages.get(channel, [])
        if (m.get("metadata") or {}).get("event_type") == REPLY_EVENT
    ]


def reply_button(message: dict) -> str | None:
    for block in message.get("blocks", []):
        if block.get("type") == "actions":
            for element in block["elements"]:
                if element.get("action_id") == REPLY_ACTION:
                    return element["value"]
    return None


def _send(bot, slack, text: str = "+34600000001 ¿Vienes?") -> object:
    # Counted before the command: its send may already be in the ledger by the time the command returns.
    before = len(bot_sends(bot))
    slack.command(text)
    records = settled_records(bot, count=before + 1)
    return records[-1]


def bot_sends(bot) -> list:
    from tests.harness import all_sends

    return all_sends(bot.ledger)


def test_a_reply_is_posted_once_in_the_thread_of_the_latest_send_to_the_number(
    bot, slack, fake_slack, fake_ovh
):
    Clock(bot, fake_ovh)
    first = _send(bot, slack)
    second = _send(bot, slack, "+34600000001,+34600000002 Segunda")
    run_pass(bot)  # follow both sends
    fake_ovh.receive("+34600000001", "Sí, voy 🚗")

    run_pass(bot)
    run_pass(bot)

    [reply] = replies_in(fake_slack)
    assert reply["thread_ts"] == second.audit_ts != first.audit_ts
    text = blocks_text(reply)
    assert "Reply from +34 600 00 00 01" in text and "> Sí, voy 🚗" in text
    assert reply_button(reply) is not None


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("", "_(an empty message)_"),
        ("   ", "_(an empty message)_"),
        ("😀🎉👍", "> 😀🎉👍"),
        ("<!channel> & <https://evil|bank>", "&lt;!channel&gt; &amp; &lt;https://evil|bank&gt;"),
    ],
)
def test_odd_replies_are_shown_as_sent_and_never_ping(bot, slack, fake_slack, fake_ovh, body, shown):
    Clock(bot, fake_ovh)
    _send(bot, slack)
    run_pass(bot)
    fake_ovh.receive("+34600000001", body)

    run_pass(bot)

    [reply] = replies_in(fake_slack)
    assert shown in blocks_text(reply)


def test_a_reply_of_1600_characters_is_shown_whole(bot, slack, fake_slack, fake_ovh):
    Clock(bot, fake_ovh)
    _send(bot, slack)
    run_pass(bot)
    body = ("Llego tarde, el tren va lento. " * 60)[:1600]
    fake_ovh.receive("+34600000001", body)

    run_pass(bot)

    [reply] = replies_in(fake_slack)
    assert blocks_text(reply).replace("\n> ", "").count("Llego tarde") == body.count("Llego tarde")


def test_a_reply_matching_no_send_goes_to_the_replies_channel(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_REPLIES_CHANNEL="CREPLIES")
    Clock(bot, fake_ovh)
    fake_ovh.receive("+34699999999", "¿Quién es?")

    run_pass(bot)

    [reply] = replies_in(fake_slack, "CREPLIES")
    assert "thread_ts" not in reply
    assert "Reply from +34 699 99 99 99" in blocks_text(reply) and "no send to this number" in blocks_text(
        reply
    )


def test_without_a_replies_channel_it_is_logged_and_kept(bot, fake_slack, fake_ovh, caplog):
    Clock(bot, fake_ovh)
    fake_ovh.receive("+34699999999", "¿Quién es?")

    with caplog.at_level(logging.INFO):
        run_pass(bot)

    assert "matches no send and SMS_REPLIES_CHANNEL is unset" in caplog.text
    assert "699999999" not in caplog.text and "¿Quién es?" not in caplog.text
    assert fake_slack.calls_to("chat.postMessage") == []


def test_each_reply_is_posted_once_across_passes_restarts_and_failures(start_bot, fake_slack, fake_ovh):
    first = start_bot()
    clock = Clock(first, fake_ovh)
    _send(first, SlackSender(first.url))
    run_pass(first)  # the status message is posted
    fake_ovh.receive("+34600000001", "uno")
    # Slack takes the reply but its answer is lost: the next attempt must find it, not post it again.
    fake_slack.lose_answer_if = lambda method, params: method == "chat.postMessage" and "uno" in str(params)
    run_pass(first)
    fake_slack.lose_answer_if = None
    first.close()

    second = start_bot()
    second.core.follower.clock = lambda: clock.now
    fake_ovh.receive("+34600000001", "dos")
    fake_slack.fail_next("chat.postMessage", status=503)  # Slack down for one post: tried again later
    for _ in range(4):
        clock.advance(60)
        run_pass(second)

    texts = [blocks_text(r) for r in replies_in(fake_slack)]
    assert len(texts) == 2
    assert sum("> uno" in t for t in texts) == 1 and sum("> dos" in t for t in texts) == 1


@pytest.mark.parametrize("word", ["STOP", " stop ", "Baja", "STOP SMS", "arrêt"])
def test_stop_opts_the_number_out_says_so_in_the_thread_and_refuses_later_sends(
    bot, slack, fake_slack, fake_ovh, word
):
    Clock(bot, fake_ovh)
    record = _send(bot, slack)
    run_pass(bot)
    fake_ovh.receive("+34600000001", word)

    run_pass(bot)

    [reply] = replies_in(fake_slack)
    assert reply["thread_ts"] == record.audit_ts
    assert "is opted out" in blocks_text(reply) and "/sms optin +34600000001" in blocks_text(reply)
    assert reply_button(reply) is None
    assert [o.e164 for o in bot.core.opt_outs.all()] == ["+34600000001"]
    url = fake_slack.new_response_url()
    slack.command("+34600000001 otra vez", response_url=url)
    assert "opted out" in blocks_text(fake_slack.wait_for_response(url)[0])
    assert len(fake_ovh.jobs) == 1

    bot.core.opt_outs.remove("+34600000001")  # an admin's /sms optin
    slack.command("+34600000001 otra vez")
    settled_records(bot, count=2)
    assert len(fake_ovh.jobs) == 2


def _posted_reply(bot, slack, fake_slack, fake_ovh):
    Clock(bot, fake_ovh)
    record = _send(bot, slack)
    run_pass(bot)
    fake_ovh.receive("+34600000001", "¿A qué hora?")
    run_pass(bot)
    [reply] = replies_in(fake_slack)
    return record, reply


def test_reply_by_sms_opens_the_form_with_the_number_and_audits_in_the_thread(
    bot, slack, fake_slack, fake_ovh
):
    record, reply = _posted_reply(bot, slack, fake_slack, fake_ovh)

    answer = slack.click(reply, reply_button(reply), action_id=REPLY_ACTION)

    assert answer.status == 200
    view = fake_slack.wait_for_view()
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert blocks["receivers"]["element"]["initial_value"] == "+34 600 00 00 01"
    assert json.loads(view["private_metadata"])["follows"] == record.id
    view["id"] = "V0REPLY"
    slack.submit_modal(view, receivers="+34 600 00 00 01", message="A las 9")
    records = settled_records(bot, count=2)
    assert records[1].thread_ts == record.audit_ts
    parents = [m for m in fake_slack.messages["COPS"] if not m.get("thread_ts")]
    assert len(parents) == 1  # the answer's audit stayed in the thread


def test_reply_by_sms_is_refused_privately_to_who_may_not_send(bot, slack, fake_slack, fake_ovh):
    _record, reply = _posted_reply(bot, slack, fake_slack, fake_ovh)
    url = fake_slack.new_response_url()

    slack.click(reply, reply_button(reply), action_id=REPLY_ACTION, user_id="UMALLORY", response_url=url)

    assert "not allowed" in blocks_text(fake_slack.wait_for_response(url)[0]).lower()
    assert fake_slack.calls_to("views.open") == []


@pytest.mark.parametrize("value", ["999999", "abc", "", "1" * 40, "-1"])
def test_a_button_value_that_names_no_reply_here_does_nothing(bot, slack, fake_slack, fake_ovh, value):
    _record, reply = _posted_reply(bot, slack, fake_slack, fake_ovh)
    url = fake_slack.new_response_url()

    slack.click(reply, value, action_id=REPLY_ACTION, response_url=url)

    assert "does not belong to this message" in blocks_text(fake_slack.wait_for_response(url)[0])
    assert fake_slack.calls_to("views.open") == []


def test_a_real_value_copied_into_another_message_does_nothing(bot, slack, fake_slack, fake_ovh):
    record, reply = _posted_reply(bot, slack, fake_slack, fake_ovh)
    url = fake_slack.new_response_url()
    elsewhere = {**reply, "ts": record.audit_ts}

    slack.click(elsewhere, reply_button(reply), action_id=REPLY_ACTION, response_url=url)

    assert "does not belong to this message" in blocks_text(fake_slack.wait_for_response(url)[0])
    assert fake_slack.calls_to("views.open") == []


def test_sms_allow_replies_asks_ovh_for_a_sender_people_can_answer(start_bot, fake_ovh):
    bot = start_bot(SMS_ALLOW_REPLIES="true")
    SlackSender(bot.url).command("+34600000001 Contesta")
    settled_records(bot)
    [job] = fake_ovh.jobs
    assert job.body["senderForResponse"] is True and "sender" not in job.body


def test_retention_erases_the_numbers_and_texts_followed_after_a_send(bot, slack, fake_slack, fake_ovh):
    from datetime import timedelta

    import sqlalchemy as sa

    from bot.storage.deliveries import deliveries, replies
    from bot.storage.retention import Retention

    clock = Clock(bot, fake_ovh)
    _send(bot, slack)
    run_pass(bot)
    fake_ovh.receive("+34600000001", "Mi dirección es Calle Mayor 1")
    run_pass(bot)
    later = clock.now + timedelta(days=31)

    Retention(bot.core.engine, 30, clock=lambda: later).purge()

    with bot.core.engine.connect() as conn:
        [receiver] = conn.execute(sa.select(deliveries.c.receiver)).scalars()
        [(message, sender, e164)] = conn.execute(
            sa.select(replies.c.message, replies.c.sender, replies.c.e164)
        )
    assert "600000001" not in receiver and receiver.startswith("+34")
    assert message == "" and "600000001" not in sender and "600000001" not in (e164 or "")
