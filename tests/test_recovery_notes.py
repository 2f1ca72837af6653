"""What recovery tells the channel: each verdict on a lost send, word for word, as the first line of its
update in the send's thread, and the reason recorded when it is not sent again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.domain.records import SendStatus
from bot.storage.ledger import sends
from tests.harness import SlackSender, audit_thread, blocks_text, orphan, settled_records


@pytest.fixture
def quick(start_bot):
    """A bot that asks OVH about lost answers at once (no grace period)."""
    return start_bot(unknown_grace_seconds=0)


def update_line(fake_slack) -> str:
    [(_parent, reply)] = audit_thread(fake_slack)
    [line] = [line for line in blocks_text(reply).split("\n") if line.startswith(":arrows_counterclockwise:")]
    return line.removeprefix(":arrows_counterclockwise: *Update:* ")


def test_a_send_found_by_its_tag_says_so(quick, fake_slack):
    record = orphan(quick)
    quick.core.gateway.post(message=record.message, receivers=record.receivers, tag=record.tag)

    assert quick.recover().found_at_ovh == [record.id]

    assert update_line(fake_slack) == (
        "OVH did take this send (found by its tag, the ids are OVH's SMS ids); it was not sent again."
    )


def test_a_send_found_in_ovhs_queue_says_so(quick, fake_slack, fake_ovh):
    fake_ovh.queue_jobs = True
    record = orphan(quick)
    quick.core.gateway.post(message=record.message, receivers=record.receivers, tag=record.tag)

    assert quick.recover().found_at_ovh == [record.id]

    assert update_line(fake_slack) == (
        "OVH has this send in its queue (found among its pending jobs); it was not sent again."
    )


def test_a_send_too_old_to_send_late_says_why(quick, fake_slack, fake_ovh):
    record = orphan(quick)
    with quick.ledger.engine.begin() as conn:
        conn.execute(
            sa.update(sends)
            .where(sends.c.id == record.id)
            .values(created_at=datetime.now(UTC) - timedelta(hours=2))
        )

    assert quick.recover().given_up == [record.id]

    reason = (
        "It was asked for more than an hour ago and OVH has no trace of it, so it was not sent late. "
        "Send it again if it is still needed."
    )
    given_up = quick.ledger.get(record.id)
    assert (given_up.status, given_up.error_code, given_up.error_message) == (
        SendStatus.FAILED,
        "not_sent",
        reason,
    )
    assert update_line(fake_slack) == f"OVH has no trace of this send: it is marked as not sent. {reason}"
    assert fake_ovh.jobs == []


def test_a_send_to_a_number_that_opted_out_since_says_why(quick, fake_slack, fake_ovh):
    record = orphan(quick, receivers=("+34600000001", "+34600000002"))
    quick.core.opt_outs.add("+34600000002", "UBOSS")

    assert quick.recover().given_up == [record.id]

    assert quick.ledger.get(record.id).error_message == (
        "1 of its numbers opted out since it was asked for, so it was not sent again. "
        "Send it again to the others if it is still needed."
    )
    assert fake_ovh.jobs == []


def test_a_send_ovh_never_took_after_two_attempts_says_why(quick, fake_slack, fake_ovh):
    record = orphan(quick)
    with quick.ledger.engine.begin() as conn:
        conn.execute(sa.update(sends).where(sends.c.id == record.id).values(attempts=2))

    assert quick.recover().given_up == [record.id]

    assert quick.ledger.get(record.id).error_message == (
        "OVH has no trace of this send after 2 attempts, so it was not sent. Send it again if it is still needed."
    )
    assert fake_ovh.jobs == []


def test_the_parent_message_is_brought_up_to_date_with_what_recovery_found(quick, fake_slack, fake_ovh):
    fake_ovh.fail_next(502, method="POST", after_processing=True)
    SlackSender(quick.url).command("+34600000001 ¿llegó?")
    [record] = settled_records(quick)
    [parent] = fake_slack.posted("COPS")
    assert parent["text"] == "<@UALICE> tried to send an SMS (outcome unknown) to +34 600 00 00 01"

    assert quick.recover().found_at_ovh == [record.id]

    [parent] = fake_slack.posted("COPS")
    assert parent["text"] == "<@UALICE> sent an SMS to +34 600 00 00 01"
    assert parent["blocks"][0]["text"]["text"].startswith(":outbox_tray: <@UALICE> sent an SMS to")
