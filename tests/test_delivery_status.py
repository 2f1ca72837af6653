"""Delivery status in the audit thread: one status message per send, updated in place as OVH reports,
with OVH's reason in words, the time it took, a summary on the parent, and an end after the validity."""

from __future__ import annotations

from bot.domain.records import SendStatus
from tests.delivery_support import Clock, parent_text, run_pass, status_messages, status_text
from tests.fakes.ovh_api import PENDING, Delivery, timeline
from tests.harness import settled_records

DELIVERED_AFTER_65 = Delivery(receipt=1, ptt=4, sent_after=1.0, delivered_after=65.0)
UNKNOWN_NUMBER = Delivery(receipt=2, ptt=23, sent_after=1.0, delivered_after=None)
ABSENT = Delivery(receipt=2, ptt=24, sent_after=1.0, delivered_after=None)
BUFFERED = Delivery(receipt=8, ptt=0, sent_after=1.0, delivered_after=None)


def test_the_status_message_follows_each_receiver_through_every_state(bot, slack, fake_slack, fake_ovh):
    fake_ovh.deliveries = {
        "+34600000001": timeline((0, PENDING), (20, BUFFERED), (65, DELIVERED_AFTER_65)),
        "+34600000002": timeline((0, PENDING), (40, UNKNOWN_NUMBER)),
    }
    clock = Clock(bot, fake_ovh)
    slack.command("+34600000001,+34600000002 Servidor caído")
    [record] = settled_records(bot)
    assert record.status is SendStatus.SENT

    run_pass(bot)
    first = status_text(fake_slack)
    assert "0 of 2 delivered, 2 pending" in first
    assert "+34 600 00 00 01: pending" in first and "+34 600 00 00 02: pending" in first
    assert "0 of 2 delivered, 2 pending" in parent_text(fake_slack, record.audit_ts)

    clock.advance(30)
    run_pass(bot)
    text = status_text(fake_slack)
    assert "the phone is off or out of reach" in text

    clock.advance(30)
    run_pass(bot)
    text = status_text(fake_slack)
    assert "+34 600 00 00 02: not delivered: Unknown number" in text
    assert "0 of 2 delivered, 1 failed, 1 pending" in text

    clock.advance(30)
    run_pass(bot)
    text = status_text(fake_slack)
    assert "+34 600 00 00 01: delivered in 1 min 5 s" in text
    assert "1 of 2 delivered, 1 failed" in text and "Final: nothing more will change." in text
    assert "1 of 2 delivered, 1 failed" in parent_text(fake_slack, record.audit_ts)
    # One status message, posted once in the thread, then updated in place.
    assert len(status_messages(fake_slack)) == 1
    posts = [p for p in fake_slack.calls_to("chat.postMessage") if p.get("thread_ts") == record.audit_ts]
    assert len(posts) == 2  # OVH's answer, then the status message
    updates = [u for u in fake_slack.calls_to("chat.update") if u["ts"] != record.audit_ts]
    assert len(updates) == 3

    reads = len(fake_ovh.requests)
    clock.advance(3600)
    run_pass(bot)
    assert [r for r in fake_ovh.requests[reads:] if "/outgoing/" in r.path] == []  # nothing left to follow


def test_reasons_come_from_ovh_in_words_and_are_read_once_per_code(bot, slack, fake_slack, fake_ovh):
    fake_ovh.delivery = ABSENT
    Clock(bot, fake_ovh)
    slack.command("+34600000001,+34600000002,+34600000003 Hola")
    settled_records(bot)

    run_pass(bot)

    text = status_text(fake_slack)
    assert text.count("not delivered: Subscriber absent") == 3
    assert len([r for r in fake_ovh.requests if r.path == "/sms/ptts"]) == 1


def test_a_code_ovh_does_not_describe_is_still_shown(bot, slack, fake_slack, fake_ovh):
    fake_ovh.delivery = Delivery(receipt=2, ptt=99, delivered_after=None)
    Clock(bot, fake_ovh)
    slack.command("+34600000001 Hola")
    settled_records(bot)

    run_pass(bot)

    assert "not delivered: operator code 99" in status_text(fake_slack)


def test_following_stops_after_the_validity_period_and_says_so(bot, slack, fake_slack, fake_ovh):
    fake_ovh.delivery = PENDING
    clock = Clock(bot, fake_ovh)
    slack.command("+34600000001 Hola")
    settled_records(bot)
    run_pass(bot)

    clock.advance(48 * 3600 + 1)
    run_pass(bot)

    text = status_text(fake_slack)
    assert "no final report after 48 h; no longer followed" in text
    assert "0 of 1 delivered, 1 no final report" in text and "Final" in text
    reads = len(fake_ovh.requests)
    clock.advance(3600)
    run_pass(bot)
    assert [r for r in fake_ovh.requests[reads:] if "/outgoing/" in r.path] == []
