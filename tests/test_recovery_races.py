"""The races a review found between a live send, recovery and several instances: each is closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.domain.records import AuditStatus, SendResult, SendStatus
from bot.ovh.account import CLOCK_SKEW, _ours
from bot.sending.recovery import Recovery
from bot.storage.ledger import sends
from tests.harness import SlackSender, all_sends, orphan, settled_records


def expire_lease(bot, send_id: int) -> None:
    """Time passes: the lease of whoever holds the row runs out."""
    with bot.ledger.engine.begin() as conn:
        conn.execute(
            sends.update()
            .where(sends.c.id == send_id)
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_a_worker_whose_lease_was_taken_over_cannot_send_again(start_bot, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    record = orphan(bot)
    first = bot.ledger.claim_next(lease_seconds=60)
    expire_lease(bot, record.id)  # the first worker is slow: its lease runs out
    second = bot.ledger.claim_next(lease_seconds=60)

    assert first.lease_owner != second.lease_owner
    assert bot.ledger.begin_attempt(first, 60) is None  # the slow worker may not send any more
    assert bot.ledger.begin_attempt(second, 60) is not None
    assert fake_ovh.requests == []


def test_a_worker_whose_lease_was_taken_over_cannot_let_go_of_the_row(start_bot, fake_ovh, database_url):
    bot = start_bot(unknown_grace_seconds=0, DATABASE_URL=database_url)
    record = orphan(bot)
    first = bot.ledger.claim_next(lease_seconds=60)
    expire_lease(bot, record.id)  # the first worker is slow: its lease runs out
    second = bot.ledger.claim_next(lease_seconds=60)

    # The slow worker ends its turn (postpones the row, or records where its audit went): the row stays
    # with the second worker, so a third cannot take it while the second works on it.
    bot.ledger.release(record.id, owner=first.lease_owner)
    bot.ledger.record_audit(record.id, AuditStatus.FAILED, owner=first.lease_owner, release_after=0)

    row = bot.ledger.get(record.id)
    assert (row.lease_owner, row.lease_until) == (second.lease_owner, second.lease_until)
    assert bot.ledger.claim_next(lease_seconds=60) is None
    bot.ledger.release(record.id, owner=second.lease_owner)  # its holder may
    assert bot.ledger.claim_next(lease_seconds=60).id == record.id


def test_a_settled_send_is_never_attempted_again(start_bot, fake_ovh):
    bot = start_bot()
    record = orphan(bot)
    claimed = bot.ledger.claim_next(lease_seconds=60)
    bot.ledger.record_failure(record.id, "rejected", "refused", maybe_sent=False)  # settled meanwhile

    assert bot.ledger.begin_attempt(claimed, 60) is None


def test_a_live_send_that_lost_its_lease_does_not_call_ovh(start_bot, fake_ovh):
    bot = start_bot()
    record = orphan(bot)  # the process took too long: its lease ran out before the POST

    result = bot.core.sending.attempt(record)

    assert result.status is SendStatus.PENDING
    assert [r for r in fake_ovh.requests if r.method == "POST"] == []


def test_the_live_send_renews_its_lease_before_posting(start_bot, fake_ovh, fake_slack):
    bot = start_bot()
    SlackSender(bot.url).command("+34600000001 renewed")
    [record] = settled_records(bot)

    assert record.status is SendStatus.SENT and record.lease_until is None
    assert len(fake_ovh.jobs) == 1


def test_a_queue_too_long_to_read_postpones_instead_of_resending(start_bot, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    fake_ovh.queue_jobs = True
    fake_ovh.credits_left = 1000
    for i in range(101):  # other jobs held in OVH's queue
        bot.core.gateway.post(message=f"other {i}", receivers=["+34600000002"], tag=f"other-{i}")
    record = orphan(bot)

    report = bot.recover()

    assert report.postponed == [record.id] and report.sent_again == []
    assert bot.ledger.get(record.id).status is SendStatus.PENDING
    assert len(fake_ovh.jobs) == 101


def test_a_tagged_sms_to_someone_else_is_not_taken_for_this_send(start_bot, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    record = orphan(bot)
    # Another database on the same OVH account numbered a send 1 too, to another number.
    bot.core.gateway.post(message="not ours", receivers=["+34600000009"], tag=record.tag)

    report = bot.recover()

    assert report.sent_again == [record.id]
    assert [job.body["message"] for job in fake_ovh.jobs] == ["not ours", "left behind"]


def test_an_sms_older_than_the_send_is_not_ours():
    since = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    receivers = {"+34600000001"}

    def sms(receiver: str, created: datetime | str) -> dict:
        return {
            "receiver": receiver,
            "creationDatetime": created if isinstance(created, str) else created.isoformat(),
        }

    assert _ours(sms("+34600000001", since), receivers, since - CLOCK_SKEW)
    assert _ours(sms("+34600000001", since - timedelta(minutes=4)), receivers, since - CLOCK_SKEW)
    assert not _ours(sms("+34600000001", since - timedelta(days=30)), receivers, since - CLOCK_SKEW)
    assert not _ours(sms("+34600000002", since), receivers, since - CLOCK_SKEW)
    assert _ours(sms("+34600000001", "not a date"), receivers, since - CLOCK_SKEW)
    assert _ours(sms("+34600000001", "2026-11-25T13:00:00+01:00"), receivers, since - CLOCK_SKEW)


def test_a_later_job_whose_answer_was_lost_leaves_the_send_unknown_not_rejected(
    start_bot, fake_slack, fake_ovh
):
    bot = start_bot(unknown_grace_seconds=0)
    bot.core.sending.max_receivers_per_job = 1
    fake_ovh.fail_next(502, method="POST", skip=1, after_processing=True)  # job 2 sent, its answer lost

    SlackSender(bot.url).command("+34600000001 +34600000002 split")
    [record] = settled_records(bot)

    assert record.status is SendStatus.UNKNOWN
    assert bot.recover().found_at_ovh == [record.id]
    settled = bot.ledger.get(record.id)
    assert settled.status is SendStatus.SENT
    assert sorted(settled.accepted_receivers) == ["+34600000001", "+34600000002"]
    assert settled.rejected_receivers == []
    assert len(fake_ovh.jobs) == 2


def test_recovery_takes_one_row_at_a_time_and_unsettled_sends_first(start_bot, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    audit_only = orphan(bot, key="command:audit-only")
    bot.ledger.record_failure(audit_only.id, "rejected", "refused", maybe_sent=False)
    unsettled = orphan(bot, key="command:unsettled")

    first = bot.ledger.claim_next(lease_seconds=60)

    assert first.id == unsettled.id
    with bot.ledger.engine.connect() as conn:
        held = (
            conn.execute(sa.select(sends.c.id).where(sends.c.lease_until > datetime.now(UTC))).scalars().all()
        )
    assert held == [unsettled.id]  # the other row is not held while this one is worked on


def test_a_send_asked_for_long_ago_is_not_sent_late(start_bot, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    record = orphan(bot)
    with bot.ledger.engine.begin() as conn:
        conn.execute(
            sends.update()
            .where(sends.c.id == record.id)
            .values(created_at=datetime.now(UTC) - timedelta(hours=2))
        )

    report = bot.recover()

    assert report.given_up == [record.id] and fake_ovh.jobs == []
    assert "more than an hour ago" in bot.ledger.get(record.id).error_message


class TakenOverWhileTracing:
    """OVH answers a recovery worker slowly: its lease runs out, a second worker claims the row and is
    posting it again when a number opts out; then the slow worker gets its (empty) answer."""

    def __init__(self, bot) -> None:
        self.bot = bot
        self.second = None

    def trace(self, tag: str, receivers: list[str], message: str, since: datetime):
        ledger = self.bot.ledger
        [row] = [r for r in all_sends(ledger) if r.tag == tag]
        expire_lease(self.bot, row.id)
        self.second = ledger.begin_attempt(ledger.claim_next(lease_seconds=60), 60)
        assert ledger.renew_lease(self.second, 60)  # the second worker posts the job now
        self.bot.core.opt_outs.add(receivers[0], "UBOSS")
        return self.bot.core.account.trace(tag, receivers, message, since)


def test_a_worker_whose_lease_was_taken_over_cannot_give_the_send_up(start_bot, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    record = orphan(bot)
    tracer = TakenOverWhileTracing(bot)
    slow = Recovery(
        bot.ledger, bot.core.sending, tracer, bot.core.reporter, lease_seconds=60, retry_after_seconds=60
    )

    report = slow.run_once()
    # The second worker's job went out: OVH's answer is recorded, not refused over a "not sent" verdict.
    settled = bot.ledger.record_result(
        record.id, SendResult("sms-test", [7], list(record.receivers), [], 1.0, 9.0)
    )

    assert report.given_up == [] and report.reported == []
    assert settled.status is SendStatus.SENT and settled.ovh_job_ids == [7]


def test_a_number_that_opted_out_meanwhile_stops_the_resend(start_bot, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    record = orphan(bot)
    bot.core.opt_outs.add("+34600000001", "UBOSS")

    report = bot.recover()

    assert report.given_up == [record.id] and fake_ovh.jobs == []
    assert "opted out" in bot.ledger.get(record.id).error_message


def test_another_send_to_the_same_number_is_not_taken_for_the_lost_one(start_bot, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    record = orphan(bot)
    # Someone else sent to the same number just now, under another tag: only the tag tells the two apart.
    bot.core.gateway.post(message="another send", receivers=record.receivers, tag=f"{record.tag}-other")

    report = bot.recover()

    assert report.sent_again == [record.id] and report.found_at_ovh == []
    assert [job.tag for job in fake_ovh.jobs] == [f"{record.tag}-other", record.tag]


@pytest.mark.parametrize(
    ("offset_hours", "zoned"),
    [(1, True), (-5, True), (1, False), (0, False)],
    ids=["paris-time", "zoned-behind-utc", "paris-time-without-zone", "utc-without-zone"],
)
def test_a_lost_send_is_found_whatever_zone_ovh_writes_its_dates_in(start_bot, fake_ovh, offset_hours, zoned):
    fake_ovh.utc_offset = timedelta(hours=offset_hours)
    fake_ovh.zoned_datetimes = zoned
    bot = start_bot(unknown_grace_seconds=0)
    record = orphan(bot)
    bot.core.gateway.post(message=record.message, receivers=record.receivers, tag=record.tag)

    report = bot.recover()

    assert report.found_at_ovh == [record.id] and len(fake_ovh.jobs) == 1
