"""Several real bot processes on one PostgreSQL database: a request sent to both sends once, and a
process killed in the middle of a send is recovered by another without sending twice."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from tests.fakes.slack_api import new_trigger_id
from tests.harness import SlackSender, audit_thread, blocks_text
from tests.processes import BotProcess, HttpBotProcess

pytestmark = pytest.mark.postgres


@pytest.fixture
def processes(env, postgres_url, tmp_path):
    started: list[HttpBotProcess] = []

    def start(*names: str, **overrides: str) -> list[HttpBotProcess]:
        """Start processes side by side (start-up is the slow part), ready when this returns."""
        batch = [
            HttpBotProcess({**env, "DATABASE_URL": postgres_url, **overrides}, tmp_path, name)
            for name in names
        ]
        started.extend(batch)
        for process in batch:
            process.wait_ready()
        return batch

    yield start
    for process in started:
        process.stop()


def test_a_request_delivered_to_two_instances_at_once_sends_once(processes, fake_slack, fake_ovh):
    one, two = processes("one", "two")  # both migrate the fresh database at once, under the advisory lock
    senders = [SlackSender(one.url), SlackSender(two.url)]
    triggers = [new_trigger_id() for _ in range(10)]

    def deliver_twice(trigger: str) -> None:
        start = threading.Barrier(2)

        def deliver(sender: SlackSender) -> None:
            start.wait()
            assert sender.command(f"+34600000001 request {trigger[-6:]}", trigger_id=trigger).status == 200

        threads = [threading.Thread(target=deliver, args=(sender,)) for sender in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    for trigger in triggers:
        deliver_twice(trigger)

    audit_thread(fake_slack, sends=10)
    # Each request's other delivery is done with too, as a duplicate (were it not, it would be sending).
    for trigger in triggers:
        wait_for_log([one, two], f"command:{trigger} was delivered again")
    assert len(fake_ovh.jobs) == 10
    assert sorted(job.body["message"] for job in fake_ovh.jobs) == sorted(
        f"request {t[-6:]}" for t in triggers
    )
    parents = [p for p in fake_slack.calls_to("chat.postMessage") if not p.get("thread_ts")]
    assert len(parents) == 10
    for process in (one, two):
        assert "+34600000001" not in process.log()  # numbers are masked in logs


def test_a_process_killed_during_a_send_is_recovered_by_another_without_sending_twice(
    processes, fake_slack, fake_ovh, postgres_url
):
    fake_ovh.delay = 1.0
    [doomed] = processes("doomed", SMS_RECOVERY_INTERVAL_SECONDS="3600")
    SlackSender(doomed.url).command("+34600000001 sent by a process that died")
    deadline = time.monotonic() + 10
    while not any(r.method == "POST" for r in fake_ovh.requests):
        assert time.monotonic() < deadline, "the send never reached OVH"
        time.sleep(0.01)

    doomed.kill()  # OVH has the request; the process dies before hearing the answer
    [job] = fake_ovh.wait_for_jobs(1)
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        status, lease = conn.execute(sa.text("SELECT status, lease_until FROM sms_sends")).one()
        assert status == "pending" and lease is not None
        # Time passes: the dead process's lease runs out (instead of waiting SMS_RECOVERY_AFTER_SECONDS).
        conn.execute(sa.text("UPDATE sms_sends SET lease_until = now() - interval '1 second'"))

    [heir] = processes("heir")  # recovery runs at start-up
    [(_parent, reply)] = audit_thread(fake_slack)
    assert "OVH did take this send" in blocks_text(reply)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM sms_sends")).scalar_one() == "sent"
    engine.dispose()
    assert fake_ovh.jobs == [job]
    assert "+34600000001" not in heir.log()


def test_sigterm_lets_a_send_in_flight_finish_and_be_recorded(processes, fake_slack, fake_ovh, postgres_url):
    fake_ovh.delay = 1.0
    [bot] = processes("stopping")
    SlackSender(bot.url).command("+34600000001 in flight at shutdown")
    deadline = time.monotonic() + 10
    while not any(r.method == "POST" for r in fake_ovh.requests):
        assert time.monotonic() < deadline, "the send never reached OVH"
        time.sleep(0.01)

    bot.process.terminate()  # SIGTERM, as a container runtime or systemd stops it
    assert bot.process.wait(timeout=20) == 0

    assert len(fake_ovh.jobs) == 1
    [(_parent, reply)] = audit_thread(fake_slack)
    assert "Sent by OVH" in blocks_text(reply)
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT status, audit_status, lease_until FROM sms_sends")).one()
    engine.dispose()
    assert tuple(row) == ("sent", "thread", None)


def test_sigterm_lets_sends_still_queued_behind_a_busy_worker_go_out_and_be_recorded(
    processes, fake_slack, fake_ovh, postgres_url
):
    fake_ovh.delay = 0.5
    [bot] = processes("queued", SMSBOT_SEND_WORKERS="1")  # one send at a time: the others queue
    slack = SlackSender(bot.url)
    for n in range(3):
        slack.command(f"+3460000000{n + 1} queued {n}")  # each acked before the next is sent
    deadline = time.monotonic() + 10
    while not any(r.method == "POST" for r in fake_ovh.requests):
        assert time.monotonic() < deadline, "the first send never reached OVH"
        time.sleep(0.01)

    bot.process.terminate()  # two sends are still queued, acked but not started
    assert bot.process.wait(timeout=30) == 0

    assert sorted(job.body["message"] for job in fake_ovh.jobs) == ["queued 0", "queued 1", "queued 2"]
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT status, audit_status, lease_until FROM sms_sends")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("sent", "thread", None)] * 3


def wait_for_log(processes: list[BotProcess], text: str, timeout: float = 10.0) -> None:
    """Wait until one of the processes logged ``text``."""
    deadline = time.monotonic() + timeout
    while not any(text in process.log() for process in processes):
        assert time.monotonic() < deadline, f"no process logged {text!r}"
        time.sleep(0.01)
