"""A cancellation cut short is completed by recovery.

The Cancel button marks the send in the ledger, asks OVH to take each job back, then records what OVH
answered. A process that dies (or a database that fails) between the two leaves a send marked as being
cancelled with no outcome: nobody may cancel it again, and the thread says nothing. Once the cancellation
is CANCEL_TAKEOVER old, recovery completes it: it takes back what OVH still holds, and tells a job OVH
took back before the crash from one it sent by OVH's list of sent SMS; then the thread is told.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from bot.domain.records import AuditStatus, SendStatus
from bot.storage.ledger import CANCEL_TAKEOVER, sends
from tests.harness import blocks_text
from tests.test_compose_schedule import click_cancel, scheduled_send, the_reply, wait_for
from tests.test_fakes import ovh_client
from tests.test_recovery_races import expire_lease


def cut_short(bot, record, *, ago=CANCEL_TAKEOVER):
    """Alice clicked Cancel ``ago`` and the process died before it recorded what OVH answered."""
    claimed, mine = bot.ledger.begin_cancel(record.id, "UALICE")
    assert mine and claimed is not None
    with bot.ledger.engine.begin() as conn:
        conn.execute(
            sa.update(sends).where(sends.c.id == record.id).values(cancelled_at=datetime.now(UTC) - ago)
        )


def thread_notes(fake_slack) -> list[str]:
    return [blocks_text(p) for p in fake_slack.calls_to("chat.postMessage") if p.get("thread_ts")]


def test_a_cancellation_cut_short_before_ovh_was_asked_is_completed(
    start_bot, fake_ovh, fake_slack, database_url
):
    bot = start_bot(DATABASE_URL=database_url)
    _slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)
    credits = fake_ovh.credits_left
    cut_short(bot, record)

    report = bot.recover()

    assert report.cancels_completed == [record.id]
    assert sorted(fake_ovh.deleted_jobs) == sorted(record.ovh_job_ids)
    assert fake_ovh.credits_left == credits + 2
    done = bot.ledger.get(record.id)
    assert done.status is SendStatus.CANCELLED and done.cancelled_by == "UALICE"
    wait_for(lambda: len(thread_notes(fake_slack)) == 2, "the thread was not told")
    assert (
        "The cancellation asked for earlier had been cut short; it is done now: OVH will not send it."
        in thread_notes(fake_slack)[-1]
    )
    assert bot.recover().cancels_completed == []  # done once


def test_jobs_ovh_took_back_before_the_crash_count_as_cancelled(start_bot, fake_ovh, fake_slack):
    bot = start_bot()
    _slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)
    cut_short(bot, record)
    client = ovh_client(fake_ovh)
    for job_id in record.ovh_job_ids:  # what the dead process had done
        client.delete(f"/sms/{record.ovh_service}/jobs/{job_id}")
    credits = fake_ovh.credits_left

    assert bot.recover().cancels_completed == [record.id]

    assert bot.ledger.get(record.id).status is SendStatus.CANCELLED
    assert fake_ovh.credits_left == credits  # nothing more to give back


def test_a_send_ovh_had_sent_by_then_is_told_too_late(start_bot, fake_ovh, fake_slack):
    bot = start_bot()
    _slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)
    cut_short(bot, record)
    fake_ovh.deliver_queued()  # its time came while nobody completed the cancellation

    assert bot.recover().cancels_completed == [record.id]

    late = bot.ledger.get(record.id)
    assert late.status is SendStatus.SENT
    assert late.cancel_note == "OVH had sent it already: the cancellation came too late."
    wait_for(lambda: len(thread_notes(fake_slack)) == 2, "the thread was not told")
    assert "OVH had sent it by the time it was completed." in thread_notes(fake_slack)[-1]


def test_part_taken_back_before_the_crash_and_part_sent_is_partial(start_bot, fake_ovh, fake_slack):
    bot = start_bot()
    _slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)
    cut_short(bot, record)
    first, _second = record.ovh_job_ids
    ovh_client(fake_ovh).delete(f"/sms/{record.ovh_service}/jobs/{first}")  # taken back before the crash
    fake_ovh.deliver_queued()  # and the other went out

    bot.recover()

    partial = bot.ledger.get(record.id)
    assert partial.status is SendStatus.SENT
    assert partial.cancel_note == "Only 1 of the 2 SMS was taken back: OVH had sent the others already."


def test_a_cancellation_under_way_is_left_to_its_process(start_bot, fake_ovh, fake_slack, database_url):
    bot = start_bot(DATABASE_URL=database_url)
    _slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)
    cut_short(bot, record, ago=CANCEL_TAKEOVER / 2)

    assert bot.recover().cancels_completed == []

    assert fake_ovh.deleted_jobs == []
    assert bot.ledger.get(record.id).cancel_unfinished


def test_when_ovh_cannot_be_asked_the_cancellation_stays_asked_for_and_is_tried_again(
    start_bot, fake_ovh, fake_slack
):
    bot = start_bot()
    _slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)
    cut_short(bot, record)
    fake_ovh.fail_next(503, path_contains="/jobs/", method="DELETE")

    report = bot.recover()

    assert report.cancels_completed == [] and report.postponed == [record.id]
    kept = bot.ledger.get(record.id)
    assert kept.cancel_unfinished and kept.cancelled_by == "UALICE"  # nobody may cancel it twice meanwhile
    expire_lease(bot, record.id)  # the retry's wait, over
    assert bot.recover().cancels_completed == [record.id]
    assert bot.ledger.get(record.id).status is SendStatus.CANCELLED


def test_a_cancellation_slack_did_not_take_in_the_thread_is_posted_by_recovery(
    start_bot, fake_ovh, fake_slack
):
    bot = start_bot()
    slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)
    reply = the_reply(fake_slack)
    fake_slack.set_down(True)  # Slack fails as the button is clicked

    click_cancel(slack, fake_slack, reply, str(record.id), "UALICE")

    wait_for(lambda: bot.ledger.get(record.id).audit_status is AuditStatus.FAILED, "the update never failed")
    assert bot.ledger.get(record.id).status is SendStatus.CANCELLED  # OVH took it back all the same
    fake_slack.set_down(False)

    assert bot.recover().reported == [record.id]

    assert bot.ledger.get(record.id).audit_status is AuditStatus.THREAD
    assert len(thread_notes(fake_slack)) == 2
    assert "*Cancelled* by <@UALICE>" in thread_notes(fake_slack)[-1]
