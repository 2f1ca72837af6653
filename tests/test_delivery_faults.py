"""What goes wrong while following deliveries: OVH purging an SMS, limiting, failing or answering garbage,
and Slack refusing to update the status message. Each is logged, retried where it makes sense, and never a
crash or a second post."""

from __future__ import annotations

import logging

import pytest

from tests.delivery_support import Clock, run_pass, status_messages, status_text
from tests.fakes.ovh_api import PENDING, Delivery
from tests.harness import settled_records

DELIVERED = Delivery(receipt=1, ptt=4, sent_after=1.0, delivered_after=3.0)


def _send(bot, slack, fake_ovh, numbers: str = "+34600000001"):
    clock = Clock(bot, fake_ovh)
    slack.command(f"{numbers} Hola")
    [record] = settled_records(bot)
    return clock, record


def _outgoing_reads(fake_ovh, since: int = 0) -> list:
    return [r for r in fake_ovh.requests[since:] if "/outgoing/" in r.path]


def test_an_sms_ovh_purged_is_read_three_times_then_shown_as_unknown(
    bot, slack, fake_slack, fake_ovh, caplog
):
    fake_ovh.delivery = PENDING
    clock, _record = _send(bot, slack, fake_ovh)
    run_pass(bot)
    [sms_id] = fake_ovh.sms_ids()
    fake_ovh.purge(sms_id)

    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            clock.advance(30)
            run_pass(bot)

    assert "OVH no longer has this SMS, so its outcome is unknown" in status_text(fake_slack)
    assert "0 of 1 delivered, 1 unknown" in status_text(fake_slack)
    assert "OVH no longer has it" in caplog.text
    reads = len(fake_ovh.requests)
    clock.advance(3600)
    run_pass(bot)
    assert _outgoing_reads(fake_ovh, reads) == []


def test_an_sms_still_in_ovhs_queue_stays_pending(bot, slack, fake_slack, fake_ovh):
    fake_ovh.queue_jobs = True
    clock, _record = _send(bot, slack, fake_ovh)
    for _ in range(4):
        run_pass(bot)
        clock.advance(30)
    assert "+34 600 00 00 01: pending" in status_text(fake_slack)

    fake_ovh.deliver_queued()
    run_pass(bot)
    assert "1 of 1 delivered" in status_text(fake_slack)


def test_a_429_stops_the_pass_and_the_rest_is_read_later(bot, slack, fake_slack, fake_ovh):
    fake_ovh.delivery = DELIVERED
    clock, _record = _send(bot, slack, fake_ovh, "+34600000001,+34600000002,+34600000003")
    fake_ovh.fail_next(429, message="Too many requests", path_contains="/outgoing/", method="GET")

    report = run_pass(bot)

    assert report.rate_limited
    assert len(_outgoing_reads(fake_ovh)) == 1  # the others were not asked for after the 429
    clock.advance(30)
    run_pass(bot)
    assert "3 of 3 delivered" in status_text(fake_slack)


@pytest.mark.parametrize(
    "fault",
    [
        dict(status=500),
        dict(status=503),
        dict(status=502, html=True),
    ],
)
def test_ovh_failing_a_read_is_logged_and_read_again(bot, slack, fake_slack, fake_ovh, caplog, fault):
    fake_ovh.delivery = DELIVERED
    clock, _record = _send(bot, slack, fake_ovh)
    fake_ovh.fail_next(**fault, path_contains="/outgoing/", method="GET")

    with caplog.at_level(logging.WARNING):
        run_pass(bot)
    assert "could not be read" in caplog.text
    assert "0 of 1 delivered, 1 pending" in status_text(fake_slack)

    clock.advance(30)
    run_pass(bot)
    assert "1 of 1 delivered" in status_text(fake_slack)
    assert len(status_messages(fake_slack)) == 1


@pytest.mark.parametrize(
    "garbage",
    [
        ["not", "an", "sms"],
        {"deliveryReceipt": "lots", "ptt": 4},
        {"deliveryReceipt": 1, "receiver": 34},
        "x",
    ],
)
def test_garbage_from_ovh_is_logged_and_read_again(bot, slack, fake_slack, fake_ovh, caplog, garbage):
    fake_ovh.delivery = DELIVERED
    clock, _record = _send(bot, slack, fake_ovh)
    fake_ovh.garbage_next(garbage, path_contains="/outgoing/")

    with caplog.at_level(logging.WARNING):
        run_pass(bot)
    assert "unreadable" in caplog.text

    clock.advance(30)
    run_pass(bot)
    assert "1 of 1 delivered" in status_text(fake_slack)


def test_a_deleted_status_message_is_not_posted_again(bot, slack, fake_slack, fake_ovh, caplog):
    fake_ovh.delivery = PENDING
    clock, record = _send(bot, slack, fake_ovh)
    run_pass(bot)
    [status] = status_messages(fake_slack)
    fake_slack.messages["COPS"].remove(status)  # someone deleted it
    [sms_id] = fake_ovh.sms_ids()
    fake_ovh.set_delivery(sms_id, DELIVERED)

    with caplog.at_level(logging.WARNING):
        clock.advance(30)
        run_pass(bot)
        clock.advance(30)
        run_pass(bot)

    assert "message_not_found" in caplog.text
    assert status_messages(fake_slack) == []
    posts = [p for p in fake_slack.calls_to("chat.postMessage") if p.get("thread_ts") == record.audit_ts]
    assert len(posts) == 2  # OVH's answer and the first status message; nothing after the deletion


def test_an_archived_channel_ends_the_updates_without_a_crash(bot, slack, fake_slack, fake_ovh):
    fake_ovh.delivery = PENDING
    clock, _record = _send(bot, slack, fake_ovh)
    run_pass(bot)
    [sms_id] = fake_ovh.sms_ids()
    fake_ovh.set_delivery(sms_id, DELIVERED)
    fake_slack.fail_next("chat.update", error="is_archived", times=5)

    clock.advance(30)
    run_pass(bot)
    updates = len(fake_slack.calls_to("chat.update"))
    clock.advance(30)
    run_pass(bot)

    assert len(fake_slack.calls_to("chat.update")) == updates  # closed: not tried again
    assert len(status_messages(fake_slack)) == 1


def test_slack_failing_an_update_for_now_is_retried_at_a_later_pass(bot, slack, fake_slack, fake_ovh):
    fake_ovh.delivery = PENDING
    clock, _record = _send(bot, slack, fake_ovh)
    run_pass(bot)
    [sms_id] = fake_ovh.sms_ids()
    fake_ovh.set_delivery(sms_id, DELIVERED)
    fake_slack.fail_next("chat.update", status=503, times=2)  # the client retries a 503 once

    clock.advance(30)
    run_pass(bot)
    assert "0 of 1 delivered" in status_text(fake_slack)
    clock.advance(30)
    run_pass(bot)

    assert "1 of 1 delivered" in status_text(fake_slack)
    assert len(status_messages(fake_slack)) == 1
