"""How much one recovery pass takes on: at most 50 rows, unsettled sends first, and audits for a week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.domain.records import AuditStatus, SendResult, SendStatus
from bot.storage.ledger import sends
from tests.harness import orphan


def _settled_without_audit(bot, key: str, *, days_ago: float = 0, channel_id: str | None = None):
    """A send OVH took whose audit never reached Slack (a CLI send: its author gets it in a DM)."""
    record = orphan(bot, key=key, source="cli", channel_id=channel_id)
    bot.ledger.record_result(
        record.id, SendResult("sms-tt12345-1", [1], list(record.receivers), [], 1.0, 9.0)
    )
    bot.ledger.record_audit(record.id, AuditStatus.FAILED, owner=None)
    if days_ago:
        with bot.ledger.engine.begin() as conn:
            conn.execute(
                sa.update(sends)
                .where(sends.c.id == record.id)
                .values(created_at=datetime.now(UTC) - timedelta(days=days_ago))
            )
    return record


def test_a_pass_takes_at_most_50_rows_and_the_next_pass_the_rest(start_bot, fake_slack):
    bot = start_bot()
    records = [_settled_without_audit(bot, f"cli:{n}") for n in range(51)]

    first = bot.recover()
    second = bot.recover()

    assert len(first.reported) == 50 and len(set(first.reported)) == 50
    assert sorted(first.reported + second.reported) == [record.id for record in records]
    assert bot.recover().reported == []
    assert {bot.ledger.get(r.id).audit_status for r in records} == {AuditStatus.PRIVATE}


def test_an_audit_slack_never_took_is_retried_for_a_week_then_left_in_the_ledger(start_bot, fake_slack):
    bot = start_bot()
    recent = _settled_without_audit(bot, "cli:recent", days_ago=6.9)
    old = _settled_without_audit(bot, "cli:old", days_ago=7.1)

    assert bot.recover().reported == [recent.id]

    assert bot.ledger.get(old.id).audit_status is AuditStatus.FAILED
    assert bot.ledger.get(old.id).status is SendStatus.SENT


def test_an_unsettled_send_is_settled_whatever_its_age(start_bot, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    record = orphan(bot)
    with bot.ledger.engine.begin() as conn:
        conn.execute(
            sa.update(sends)
            .where(sends.c.id == record.id)
            .values(created_at=datetime.now(UTC) - timedelta(days=30))
        )

    assert bot.recover().given_up == [record.id]  # found nowhere at OVH, and too old to send late
    assert fake_ovh.jobs == []


def test_a_send_ovh_may_hold_among_more_queued_jobs_than_can_be_read_waits(start_bot, fake_ovh, caplog):
    from bot.ovh.account import TRACE_DETAILS
    from bot.ovh.gateway import OvhGateway

    bot = start_bot(unknown_grace_seconds=0)
    fake_ovh.queue_jobs = True  # OVH holds every job in its queue, to be sent later
    fake_ovh.credits_left = 1000.0
    others = [f"+346000{n:05d}" for n in range(TRACE_DETAILS + 1)]
    OvhGateway.from_settings(bot.core.settings).post(message="otros", receivers=others, tag="smsbot-999")
    record = orphan(bot)

    report = bot.recover()

    assert report.postponed == [record.id] and report.sent_again == []
    assert f"send #{record.id}: OVH holds more pending jobs than can be read, this one may be among them" in (
        caplog.text
    )
