"""The credit alert: posted once in SMS_ALERT_CHANNEL when the credits left fall below
SMS_CREDITS_ALERT_BELOW (per crossing, not per send, across instances), with the balance and where to buy."""

from __future__ import annotations

from tests.delivery_support import run_pass
from tests.harness import SlackSender, blocks_text, settled_records

ALERT = dict(SMS_ALERT_CHANNEL="CALERTS", SMS_CREDITS_ALERT_BELOW="99")


def alerts(fake_slack) -> list[dict]:
    return fake_slack.posted("CALERTS")


def _send(bot, count: int) -> None:
    SlackSender(bot.url).command("+34600000001 Hola")
    settled_records(bot, count=count)


def test_the_alert_is_posted_once_per_crossing(start_bot, fake_slack, fake_ovh):
    bot = start_bot(**ALERT)  # the fake starts with 100 credits; one per SMS
    _send(bot, 1)
    run_pass(bot)
    assert alerts(fake_slack) == []  # 99 left: not below 99

    _send(bot, 2)
    run_pass(bot)
    [alert] = alerts(fake_slack)
    text = blocks_text(alert)
    assert "SMS credits are running low" in text and "98 left (alert below 99)" in text
    assert "OVHcloud Control Panel" in text and "sms-tt12345-1" in text

    _send(bot, 3)
    run_pass(bot)
    run_pass(bot)
    assert len(alerts(fake_slack)) == 1  # still below: not per send

    fake_ovh.credits_left = 500  # credits bought: above again, the alert is armed anew
    _send(bot, 4)
    run_pass(bot)
    fake_ovh.credits_left = 50
    _send(bot, 5)
    run_pass(bot)
    assert len(alerts(fake_slack)) == 2


def test_two_instances_post_the_alert_once(start_bot, fake_slack, fake_ovh):
    one = start_bot(**ALERT)
    two = start_bot(**ALERT)  # the same database
    fake_ovh.credits_left = 10
    _send(one, 1)

    run_pass(one)
    run_pass(two)
    run_pass(one)

    assert len(alerts(fake_slack)) == 1


def test_an_alert_slack_did_not_take_is_posted_later(start_bot, fake_slack, fake_ovh):
    bot = start_bot(**ALERT)
    fake_ovh.credits_left = 10
    _send(bot, 1)
    fake_slack.channel_not_found.add("CALERTS")

    run_pass(bot)
    assert alerts(fake_slack) == []
    fake_slack.channel_not_found.discard("CALERTS")
    from tests.delivery_support import Clock

    clock = Clock(bot)
    clock.advance(600)  # the failed post's claim ran out
    run_pass(bot)

    assert len(alerts(fake_slack)) == 1


def test_without_the_settings_no_alert_is_posted(bot, fake_slack, fake_ovh):
    fake_ovh.credits_left = 1
    _send(bot, 1)
    run_pass(bot)
    assert [p for p in fake_slack.calls_to("chat.postMessage") if "running low" in str(p)] == []
