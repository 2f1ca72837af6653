"""The estimate of a send, from OVH's public rates: in the audit thread next to what OVH took."""

from __future__ import annotations

from tests.harness import SlackSender, audit_thread, blocks_text, settled_records


def test_the_audit_shows_the_estimate_from_ovhs_rates_next_to_the_credits_used(
    start_bot, fake_ovh, fake_slack
):
    fake_ovh.rates = {"es": 1.3, "fr": 1.0}
    bot = start_bot()

    answer = SlackSender(bot.url).command("+34600000001,+33612345678 Hola")

    assert answer.status == 200
    [(_parent, reply)] = audit_thread(fake_slack)
    [record] = settled_records(bot)
    assert record.estimated_credits == 2.3
    assert "*Credits used:* 2 (estimated 2.3)" in blocks_text(reply)


def test_without_ovhs_rates_the_estimate_counts_one_credit_per_part(start_bot, fake_ovh, fake_slack):
    fake_ovh.fail_next(503, path_contains="/rates", times=100)
    bot = start_bot()

    SlackSender(bot.url).command("+34600000001 " + "x" * 200)

    [(_parent, reply)] = audit_thread(fake_slack)
    [record] = settled_records(bot)
    assert record.estimated_credits == 2.0
    assert "(estimated 2)" in blocks_text(reply)
