"""The recovery loop the bot starts with: a pass at start, one every interval, on a daemon thread it stops."""

from __future__ import annotations

import threading

from bot.domain.records import SendStatus
from tests.harness import orphan, settled_records


def recovery_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "smsbot-recovery"]


def test_recovery_runs_at_start_then_every_interval_until_stopped(start_bot, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0, SMS_RECOVERY_INTERVAL_SECONDS="1")
    first = orphan(bot, key="command:first")

    bot.bot.start_recovery()
    [thread] = recovery_threads()
    assert thread.daemon  # a stuck pass never keeps the process from exiting
    fake_ovh.wait_for_jobs(1)  # the pass at start
    second = orphan(bot, key="command:second", message="left later")
    jobs = fake_ovh.wait_for_jobs(2)  # a later pass, one interval on

    assert [job.body["message"] for job in jobs] == ["left behind", "left later"]
    settled = {record.id: record.status for record in settled_records(bot, count=2)}
    assert settled == {first.id: SendStatus.SENT, second.id: SendStatus.SENT}
    bot.bot.recovery_loop.stop()
    assert recovery_threads() == []
