"""Crashes and lost answers at each step of a send: every send settles once, none is lost or doubled.

A process that dies leaves its row behind with a lease that runs out; here the row is written as the
dead process left it (with an expired lease) and a fresh bot recovers it, as its start-up pass would.
"""

from __future__ import annotations

import pytest

from bot.domain.records import AuditStatus, SendResult, SendStatus
from tests.harness import SlackSender, audit_thread, blocks_text, orphan, record_send, settled_records


@pytest.fixture
def quick(start_bot):
    """A bot that asks OVH about lost answers at once (no grace period)."""
    return start_bot(unknown_grace_seconds=0)


def updates(fake_slack):
    return [p for p in fake_slack.calls_to("chat.postMessage") if "Update:" in blocks_text(p)]


def test_crash_after_recording_before_ovh_is_sent_once_on_recovery(quick, fake_slack, fake_ovh):
    record = orphan(quick)

    report = quick.recover()

    assert report.sent_again == [record.id]
    [job] = fake_ovh.jobs
    assert job.tag == record.tag and job.body["message"] == "left behind"
    [(parent, reply)] = audit_thread(fake_slack)
    assert "sent an SMS to +34 600 00 00 01" in blocks_text(parent)
    assert "sent again" in blocks_text(reply)
    assert quick.ledger.get(record.id).status is SendStatus.SENT
    assert quick.recover().sent_again == []  # nothing left to do: never a second send


def test_crash_after_ovh_accepted_before_the_ledger_knew_is_not_sent_again(quick, fake_slack, fake_ovh):
    record = orphan(quick)
    quick.core.gateway.post(message=record.message, receivers=record.receivers, tag=record.tag)

    report = quick.recover()

    assert report.found_at_ovh == [record.id]
    assert len(fake_ovh.jobs) == 1
    settled = quick.ledger.get(record.id)
    assert settled.status is SendStatus.SENT and settled.accepted_receivers == ["+34600000001"]
    [(_parent, reply)] = audit_thread(fake_slack)
    assert "OVH did take this send" in blocks_text(reply)


def test_crash_after_the_ledger_was_settled_before_slack_heard_of_it(quick, fake_slack, fake_ovh):
    record = orphan(quick)
    quick.ledger.record_result(record.id, SendResult("sms-tt12345-1", [77], ["+34600000001"], [], 1.0, 50.0))

    report = quick.recover()

    assert report.reported == [record.id] and fake_ovh.jobs == []
    [(_parent, reply)] = audit_thread(fake_slack)
    assert "*OVH job id:* 77" in blocks_text(reply)
    assert quick.ledger.get(record.id).audit_status is AuditStatus.THREAD


def test_an_answer_lost_to_a_timeout_is_found_at_ovh_not_resent(start_bot, fake_slack, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0, OVH_READ_TIMEOUT="0.3", OVH_CONNECT_TIMEOUT="1")
    fake_ovh.delay = 0.8  # OVH takes the job, but only after the bot stopped waiting

    SlackSender(bot.url).command("+34600000001 slow OVH")

    [(_parent, reply)] = audit_thread(fake_slack)
    assert "may or may not have gone out" in blocks_text(reply)
    [record] = settled_records(bot)
    assert record.status is SendStatus.UNKNOWN
    fake_ovh.wait_for_jobs(1)
    report = bot.recover()
    assert report.found_at_ovh == [record.id]
    assert len(fake_ovh.jobs) == 1
    assert bot.ledger.get(record.id).status is SendStatus.SENT
    [note] = updates(fake_slack)
    assert note["thread_ts"] == record.audit_ts
    assert [c["ts"] for c in fake_slack.calls_to("chat.update")] == [record.audit_ts]


def test_a_5xx_after_ovh_took_the_job_is_found_not_resent(quick, fake_slack, fake_ovh):
    fake_ovh.fail_next(502, method="POST", after_processing=True)

    SlackSender(quick.url).command("+34600000001 answer lost")
    [record] = settled_records(quick)
    assert record.status is SendStatus.UNKNOWN

    assert quick.recover().found_at_ovh == [record.id]
    assert len(fake_ovh.jobs) == 1


def test_a_5xx_before_ovh_took_the_job_is_sent_once_more(quick, fake_slack, fake_ovh):
    fake_ovh.fail_next(502, method="POST")

    SlackSender(quick.url).command("+34600000001 try again")
    [record] = settled_records(quick)
    assert record.status is SendStatus.UNKNOWN and fake_ovh.jobs == []

    assert quick.recover().sent_again == [record.id]
    [job] = fake_ovh.jobs
    assert job.tag == record.tag
    recovered = quick.ledger.get(record.id)
    assert recovered.status is SendStatus.SENT and recovered.attempts == 2
    assert "sent again" in blocks_text(updates(fake_slack)[0])


def test_a_send_ovh_never_takes_is_given_up_after_two_attempts(quick, fake_slack, fake_ovh):
    fake_ovh.fail_next(502, method="POST", times=2)

    SlackSender(quick.url).command("+34600000001 never")
    [record] = settled_records(quick)
    first = quick.recover()
    second = quick.recover()

    assert first.sent_again == [record.id] and second.given_up == [record.id]
    final = quick.ledger.get(record.id)
    assert final.status is SendStatus.FAILED and final.error_code == "not_sent"
    assert fake_ovh.jobs == []
    assert "marked as not sent" in blocks_text(updates(fake_slack)[-1])


def test_when_ovh_cannot_be_asked_the_send_waits(quick, fake_slack, fake_ovh, caplog):
    record = orphan(quick)
    fake_ovh.fail_next(503, path_contains="/outgoing")

    report = quick.recover()

    assert report.postponed == [record.id]
    assert fake_ovh.jobs == [] and quick.ledger.get(record.id).status is SendStatus.PENDING
    # The operator reads why (OVH's answer) in the log.
    assert f"send #{record.id}: OVH cannot be asked about it (OVH's SMS service is unavailable" in caplog.text


def test_a_slack_outage_loses_nothing_and_the_thread_comes_later(bot, slack, fake_slack, fake_ovh):
    fake_slack.set_down(True)
    url = fake_slack.new_response_url()

    slack.command("+34600000001 during the outage", response_url=url)
    [record] = settled_records(bot)

    assert record.status is SendStatus.SENT and record.audit_status is AuditStatus.FAILED
    assert fake_slack.responses(url) == []  # an outage is not a closed channel: no private fallback
    fake_slack.set_down(False)
    assert bot.recover().reported == [record.id]
    [(parent, _reply)] = audit_thread(fake_slack)
    assert "during the outage" in blocks_text(parent)
    assert bot.ledger.get(record.id).audit_status is AuditStatus.THREAD
    assert len(fake_ovh.jobs) == 1


def test_a_send_in_progress_elsewhere_is_left_alone(quick, fake_ovh):
    record_send(
        quick.ledger, key="command:live", message="still being sent by its process", lease_seconds=300
    )

    report = quick.recover()

    assert report.sent_again == [] and report.found_at_ovh == [] and fake_ovh.requests == []


def test_a_send_still_in_ovhs_queue_is_not_sent_again(quick, fake_slack, fake_ovh):
    fake_ovh.queue_jobs = True
    fake_ovh.fail_next(502, method="POST", after_processing=True)  # OVH queued it; the answer was lost

    SlackSender(quick.url).command("+34600000001 queued at OVH")
    [record] = settled_records(quick)
    report = quick.recover()

    assert report.found_at_ovh == [record.id] and report.sent_again == []
    assert len(fake_ovh.jobs) == 1
    assert "in its queue" in blocks_text(updates(fake_slack)[0])
    fake_ovh.deliver_queued()
    assert quick.recover().sent_again == []


def test_another_queued_job_is_not_mistaken_for_this_send(quick, fake_slack, fake_ovh):
    fake_ovh.queue_jobs = True
    quick.core.gateway.post(message="something else", receivers=["+34600000001"], tag="other")
    record = orphan(quick, message="left behind")

    assert quick.recover().sent_again == [record.id]
    assert [job.body["message"] for job in fake_ovh.jobs] == ["something else", "left behind"]
