"""The daily limits count what they name: SMS are receivers, not the credits a long message costs."""

from __future__ import annotations

from tests.harness import SlackSender, audit_thread, settled_records


def test_the_daily_sms_limit_counts_receivers_whatever_the_credits(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_LIMIT_USER_SMS_PER_DAY="3")
    slack = SlackSender(bot.url)

    slack.command("+34600000001 +34600000002 " + "x" * 200)  # 2 SMS of 2 parts each: 4 credits
    audit_thread(fake_slack)
    slack.command("+34600000003 third")  # 3 SMS in all: exactly the limit, whatever the credits

    records = settled_records(bot, count=2)
    assert [(r.receiver_count, r.credits_used) for r in records] == [(2, 4.0), (1, 1.0)]
    assert [job.body["message"] for job in fake_ovh.jobs] == ["x" * 200, "third"]
