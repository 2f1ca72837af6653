"""An audit Slack does not take is posted later, but not at every recovery pass while Slack still refuses it.

The live send leaves a failed audit to recovery at once (Slack may be back in a moment); recovery, once it
failed to post it too, looks at it again only after SMS_RECOVERY_INTERVAL_SECONDS.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.domain.records import AuditStatus, SendStatus
from tests.harness import SlackSender, audit_thread, blocks_text, orphan, settled_records

INTERVAL = 600


def _expire_leases(bot) -> None:
    """Time passes: every lease on the ledger runs out."""
    with bot.ledger.engine.begin() as conn:
        conn.execute(sa.text("UPDATE sms_sends SET lease_until = NULL"))


def test_an_audit_slack_still_refuses_waits_for_the_recovery_interval(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_RECOVERY_INTERVAL_SECONDS=str(INTERVAL))
    fake_slack.set_down(True)

    SlackSender(bot.url).command("+34600000001 durante la caída")
    [record] = settled_records(bot)
    assert (record.status, record.audit_status) == (SendStatus.SENT, AuditStatus.FAILED)
    assert record.lease_until is None  # the live send leaves it to recovery at once

    before = datetime.now(UTC)
    assert bot.recover().reported == [record.id]  # tried, and Slack still refuses it
    after = datetime.now(UTC)

    waiting = bot.ledger.get(record.id)
    assert waiting.audit_status is AuditStatus.FAILED
    assert before + timedelta(seconds=INTERVAL) <= waiting.lease_until <= after + timedelta(seconds=INTERVAL)
    assert bot.recover().reported == []  # not at the next pass
    fake_slack.set_down(False)
    assert bot.recover().reported == []

    _expire_leases(bot)
    assert bot.recover().reported == [record.id]
    [(parent, _reply)] = audit_thread(fake_slack)
    assert "durante la caída" in blocks_text(parent)
    posted = bot.ledger.get(record.id)
    assert posted.audit_status is AuditStatus.THREAD and posted.lease_until is None
    assert len(fake_ovh.jobs) == 1


def test_an_unknown_outcome_whose_audit_failed_waits_for_the_grace_period(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_UNKNOWN_GRACE_SECONDS="90", SMS_RECOVERY_INTERVAL_SECONDS=str(INTERVAL))
    fake_ovh.fail_next(502, method="POST", after_processing=True)
    fake_slack.set_down(True)

    before = datetime.now(UTC)
    SlackSender(bot.url).command("+34600000001 respuesta perdida")
    [record] = settled_records(bot)
    after = datetime.now(UTC)

    # OVH may record the job a while after its answer was lost: recovery asks it only after the grace.
    assert (record.status, record.audit_status) == (SendStatus.UNKNOWN, AuditStatus.FAILED)
    assert before + timedelta(seconds=90) <= record.lease_until <= after + timedelta(seconds=90)
    assert bot.recover().found_at_ovh == []
    fake_slack.set_down(False)
    _expire_leases(bot)
    report = bot.recover()
    assert report.found_at_ovh == [record.id] and report.reported == [record.id]
    assert bot.ledger.get(record.id).lease_until is None
    assert len(fake_ovh.jobs) == 1


def test_a_send_ovh_cannot_be_asked_about_is_asked_again_after_the_interval(start_bot, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0, SMS_RECOVERY_INTERVAL_SECONDS=str(INTERVAL))
    record = orphan(bot)
    fake_ovh.fail_next(503, path_contains="/outgoing")

    before = datetime.now(UTC)
    assert bot.recover().postponed == [record.id]
    after = datetime.now(UTC)

    waiting = bot.ledger.get(record.id)
    assert waiting.status is SendStatus.PENDING
    assert before + timedelta(seconds=INTERVAL) <= waiting.lease_until <= after + timedelta(seconds=INTERVAL)
    assert bot.recover().postponed == []  # not at the next pass
    _expire_leases(bot)
    assert bot.recover().sent_again == [record.id]
    assert len(fake_ovh.jobs) == 1
