"""An answer to a job that OVH's schema does not promise (a list, a field missing, an id that is no number).

OVH took the request, or may have: the send is recorded as maybe sent (``unknown``), the person is told to
check before sending it again, and recovery asks OVH by the send's tag before it ever sends it again.
"""

from __future__ import annotations

import pytest

from bot.domain.records import SendStatus
from tests.harness import SlackSender, audit_thread, blocks_text, settled_records

UNREADABLE = {
    "a list": ["10000001"],
    "no ids": {"validReceivers": ["+34600000001"], "invalidReceivers": [], "totalCreditsRemoved": 1},
    "no receivers": {"ids": [10000001], "totalCreditsRemoved": 1},
    "an id that is no number": {
        "ids": ["job-1"],
        "validReceivers": ["+34600000001"],
        "invalidReceivers": [],
        "totalCreditsRemoved": 1,
    },
}


@pytest.mark.parametrize("answer", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_an_unreadable_answer_to_a_job_ovh_took_leaves_it_maybe_sent_and_found_not_resent(
    start_bot, fake_slack, fake_ovh, answer
):
    bot = start_bot(unknown_grace_seconds=0)
    fake_ovh.answer_next(answer)

    SlackSender(bot.url).command("+34600000001 Hola, ¿qué tal?")

    [record] = settled_records(bot)
    assert record.status is SendStatus.UNKNOWN and record.error_code == "internal"
    [(parent, reply)] = audit_thread(fake_slack)
    assert "outcome unknown" in blocks_text(parent)
    assert (
        "The bot hit an unexpected error while sending. The SMS may or may not have gone out: check before "
        "sending it again, and tell an admin." in blocks_text(reply)
    )
    report = bot.recover()
    assert report.found_at_ovh == [record.id] and report.sent_again == []
    [job] = fake_ovh.jobs
    settled = bot.ledger.get(record.id)
    assert settled.status is SendStatus.SENT and settled.ovh_job_ids == job.ids


def test_an_unreadable_answer_to_a_job_ovh_did_not_take_is_sent_once_after_asking_ovh(
    start_bot, fake_slack, fake_ovh
):
    bot = start_bot(unknown_grace_seconds=0)
    fake_ovh.answer_next({"message": "Service temporarily unavailable"}, after_processing=False)

    SlackSender(bot.url).command("+34600000001 otra vez")

    [record] = settled_records(bot)
    assert record.status is SendStatus.UNKNOWN and fake_ovh.jobs == []
    report = bot.recover()
    assert report.sent_again == [record.id]
    [job] = fake_ovh.jobs
    assert job.tag == record.tag
    assert bot.recover().sent_again == []
    assert len(fake_ovh.jobs) == 1
