"""Following deliveries with several instances on one database, after a restart, and within OVH's limits."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests.delivery_support import run_pass, status_messages, status_text
from tests.fakes.ovh_api import PENDING, Delivery, timeline
from tests.harness import SlackSender, settled_records

DELIVERED = Delivery(receipt=1, ptt=4, sent_after=1.0, delivered_after=50.0)
FAILED = Delivery(receipt=2, ptt=24, sent_after=1.0, delivered_after=None)
NUMBERS = [f"+346000{n:05d}" for n in range(1, 301)]


class SharedClock:
    """One clock for every instance's follower, and the fake OVH's."""

    def __init__(self, fake_ovh, *bots) -> None:
        self.now = datetime.now(UTC)
        self.fake_ovh = fake_ovh
        for bot in bots:
            bot.core.follower.clock = lambda: self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.fake_ovh.advance(seconds)


def _together(*bots) -> None:
    """A pass on every instance at the same moment."""
    start = threading.Barrier(len(bots))
    errors: list[BaseException] = []

    def one(bot) -> None:
        start.wait()
        try:
            run_pass(bot)
        except BaseException as error:  # noqa: BLE001 - shown by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=one, args=(bot,)) for bot in bots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.postgres
def test_two_instances_on_postgresql_post_each_change_once(start_bot, postgres_url, fake_slack, fake_ovh):
    fake_ovh.deliveries = {
        "+34600000001": timeline((0, PENDING), (40, DELIVERED)),
        "+34600000002": timeline((0, PENDING), (70, FAILED)),
    }
    one = start_bot(DATABASE_URL=postgres_url)
    two = start_bot(DATABASE_URL=postgres_url)
    clock = SharedClock(fake_ovh, one, two)
    SlackSender(one.url).command("+34600000001,+34600000002 Hola")
    [record] = settled_records(one)

    for _ in range(5):
        _together(one, two)
        clock.advance(30)

    assert len(status_messages(fake_slack)) == 1
    text = status_text(fake_slack)
    assert "1 of 2 delivered, 1 failed" in text
    [status] = status_messages(fake_slack)
    updates = [u for u in fake_slack.calls_to("chat.update") if u["ts"] == status["ts"]]
    # Two changes after the first post (delivered at 40 s, failed at 70 s), each shown once.
    assert len(updates) == 2
    reads = [r.path for r in fake_ovh.requests if "/outgoing/" in r.path]
    # Never two reads of one SMS in one pass: 2 SMS, read at 0, 30, 60 and (the failed one) 90 s.
    assert len(reads) == 7, reads
    assert record.audit_ts


def test_a_restart_resumes_following_the_same_status_message(start_bot, fake_slack, fake_ovh):
    fake_ovh.delivery = PENDING
    first = start_bot()
    SlackSender(first.url).command("+34600000001 Hola")
    settled_records(first)
    run_pass(first)
    first.close()
    [sms_id] = fake_ovh.sms_ids()
    fake_ovh.set_delivery(sms_id, DELIVERED)

    second = start_bot()
    clock = SharedClock(fake_ovh, second)
    clock.advance(30)
    run_pass(second)

    assert len(status_messages(fake_slack)) == 1
    assert "1 of 1 delivered" in status_text(fake_slack)


def test_reads_stay_within_the_budget_every_instance_shares(start_bot, fake_slack, fake_ovh):
    fake_ovh.credits_left = 10_000
    fake_ovh.delivery = PENDING
    settings = dict(SMS_ALLOWED_USERS="UALICE,UBOSS", SMS_ADMIN_USERS="UBOSS")
    one = start_bot(**settings)
    two = start_bot(**settings)  # the same SQLite file: another instance
    clock = SharedClock(fake_ovh, one, two)
    SlackSender(one.url).command(",".join(NUMBERS) + " Hola", user_id="UBOSS")
    settled_records(one)

    def reads() -> int:
        return len([r for r in fake_ovh.requests if "/outgoing/" in r.path or "/incoming" in r.path])

    for _ in range(4):  # four passes on each within the same minute
        run_pass(one)
        run_pass(two)
    assert reads() == 30  # SMS_OVH_READS_PER_MINUTE's default, across both instances

    clock.advance(60)
    run_pass(one)
    run_pass(two)
    assert reads() == 60
    # Each pass reads at most its share: 15 at the default 30 s poll.
    assert len(set(r.path for r in fake_ovh.requests if "/outgoing/" in r.path)) == 56


@pytest.mark.postgres
def test_two_instances_on_postgresql_post_each_reply_once(start_bot, postgres_url, fake_slack, fake_ovh):
    one = start_bot(DATABASE_URL=postgres_url)
    two = start_bot(DATABASE_URL=postgres_url)
    clock = SharedClock(fake_ovh, one, two)
    SlackSender(one.url).command("+34600000001,+34600000002 ¿Venís?")
    settled_records(one)
    _together(one, two)
    for number, text in (("+34600000001", "sí"), ("+34600000002", "no"), ("+34600000001", "STOP")):
        fake_ovh.receive(number, text)

    for _ in range(3):
        clock.advance(30)
        _together(one, two)

    posted = [
        m
        for m in fake_slack.messages["COPS"]
        if (m.get("metadata") or {}).get("event_type") == "smsbot_sms_reply"
    ]
    assert len(posted) == 3
    assert [o.e164 for o in one.core.opt_outs.all()] == ["+34600000001"]
    assert len(status_messages(fake_slack)) == 1
