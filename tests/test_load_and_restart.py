"""Many commands at once against a slow OVH, and a ledger that outlives the process (SQLite, PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bot.domain.records import AuditStatus, SendStatus
from tests.harness import SlackSender, all_sends, audit_thread, settled_records


def test_twenty_concurrent_commands_against_a_slow_ovh(bot, fake_slack, fake_ovh):
    fake_ovh.hold_jobs()  # OVH answers no send until every command was acknowledged
    slack = SlackSender(bot.url)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda i: slack.command(f"+346000000{i:02d} message {i}"), range(20)))

    # Every ack came while OVH held the sends: none waited for OVH, or queued behind another send.
    # (How fast the acks are is measured by `make bench`.)
    assert all(answer.status == 200 for answer in answers)
    assert fake_ovh.jobs == []
    fake_ovh.release_jobs()
    fake_ovh.wait_for_jobs(20, timeout=10)
    audit_thread(fake_slack, sends=20)
    records = settled_records(bot, count=20)
    assert sorted(r.message for r in records) == sorted(f"message {i}" for i in range(20))
    assert all(r.status is SendStatus.SENT for r in records)
    assert len({job.tag for job in fake_ovh.jobs}) == 20


def test_the_ledger_survives_a_restart_and_still_blocks_redeliveries(
    start_bot, fake_slack, fake_ovh, database_url
):
    first = start_bot(DATABASE_URL=database_url)
    SlackSender(first.url).command("+34600000001 before restart", trigger_id="trigger-restart")
    [before] = settled_records(first)
    first.close()

    second = start_bot(DATABASE_URL=database_url)
    slack = SlackSender(second.url)
    [after] = all_sends(second.ledger)
    assert after == before
    assert after.status is SendStatus.SENT and after.audit_status is AuditStatus.THREAD
    assert after.message == "before restart" and after.receivers == ["+34600000001"]

    slack.command("+34600000001 before restart", trigger_id="trigger-restart")  # redelivered after restart
    slack.command("+34600000002 after restart")
    records = settled_records(second, count=2)
    assert [r.message for r in records] == ["before restart", "after restart"]
    assert records[0].id == before.id and records[1].id > before.id  # PostgreSQL may skip ids
    assert [job.body["message"] for job in fake_ovh.jobs] == ["before restart", "after restart"]


def test_acks_never_wait_for_busy_send_workers(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMSBOT_SEND_WORKERS="2")
    fake_ovh.hold_jobs()  # both workers stay busy until every command was acknowledged
    slack = SlackSender(bot.url)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda i: slack.command(f"+346000000{i:02d} queued {i}"), range(10)))

    assert all(answer.status == 200 for answer in answers)
    assert fake_ovh.wait_for_held(2) == 2 and fake_ovh.jobs == []  # the two workers, still busy
    fake_ovh.release_jobs()
    settled_records(bot, count=10)
    assert len(fake_ovh.jobs) == 10
