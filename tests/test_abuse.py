"""Abuse and mistakes: destinations, number types, limits (held in the database), admins and opt-outs."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.domain.records import SendStatus
from tests.fakes.slack_api import new_trigger_id
from tests.harness import SlackSender, all_sends, audit_thread, blocks_text, settled_records


def answer_text(answer) -> str:
    return blocks_text(answer.json()) if answer.body else ""


def private_answer(bot, fake_slack, text, *, user_id="UALICE", channel_id="COPS") -> str:
    url = fake_slack.new_response_url()
    answer = SlackSender(bot.url).command(text, user_id=user_id, channel_id=channel_id, response_url=url)
    if answer.body:  # refused before the ack (bad input)
        return answer_text(answer)
    [reply] = fake_slack.wait_for_response(url)
    return reply["text"]


@pytest.mark.parametrize(
    ("number", "says"),
    [
        ("+34803123456", "premium-rate number"),
        ("+34901123456", "shared-cost number"),
        ("+34810123456", "landline"),
        ("+351912345678", "SMS may only go to: ES, FR, GB (SMS_ALLOWED_COUNTRIES)"),
    ],
)
def test_numbers_that_cannot_or_must_not_receive_are_refused(bot, slack, fake_ovh, number, says):
    answer = slack.command(f"+34600000001 {number} Hola")

    text = answer_text(answer)
    assert says in text and "Not sent" in text
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_the_default_region_alone_is_allowed_by_default(start_bot, fake_ovh):
    bot = start_bot(SMS_ALLOWED_COUNTRIES="")

    answer = SlackSender(bot.url).command("+33612345678 Bonjour")

    assert "SMS may only go to: ES" in answer_text(answer)
    assert fake_ovh.jobs == []


def test_destinations_are_inline_errors_in_the_form(bot, slack, fake_slack, fake_ovh):
    slack.command("")
    opened = fake_slack.wait_for_view()

    answer = slack.submit_modal({**opened, "id": "V1"}, receivers="+34600000001, +34803123456", message="hi")

    assert "premium-rate" in answer.json()["errors"]["receivers"]
    assert fake_ovh.jobs == []


def test_too_many_receivers_in_one_send(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_LIMIT_RECEIVERS_PER_SEND="2")

    text = private_answer(bot, fake_slack, "+34600000001 +34600000002 +34600000003 hi")

    assert "at most 2 numbers" in text and "SMS_LIMIT_RECEIVERS_PER_SEND" in text
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_the_daily_limit_of_a_person(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_LIMIT_USER_SMS_PER_DAY="3")
    slack = SlackSender(bot.url)

    slack.command("+34600000001 +34600000002 first")
    audit_thread(fake_slack)
    text = private_answer(bot, fake_slack, "+34600000003 +34600000004 second")
    slack.command("+34600000005 third", user_id="UALICE")  # 3 in all: exactly the limit

    assert "bring you to 4 SMS in 24 hours, over the limit of 3" in text
    settled_records(bot, count=2)
    assert [job.body["message"] for job in fake_ovh.jobs] == ["first", "third"]


def test_failed_sends_do_not_count(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_LIMIT_USER_SMS_PER_DAY="1")
    fake_ovh.fail_next(403, method="POST", error_code="NOT_GRANTED_CALL")
    slack = SlackSender(bot.url)

    slack.command("+34600000001 refused by OVH")
    settled_records(bot)
    slack.command("+34600000001 fine now")

    settled_records(bot, count=2)
    assert [r.status for r in all_sends(bot.ledger)] == [SendStatus.FAILED, SendStatus.SENT]


def test_the_daily_limit_of_a_channel_and_of_credits(start_bot, fake_slack, fake_ovh):
    bot = start_bot(
        SMS_ALLOWED_USERS="UALICE,UBOB", SMS_LIMIT_CHANNEL_SMS_PER_DAY="2", SMS_LIMIT_USER_CREDITS_PER_DAY="3"
    )
    slack = SlackSender(bot.url)

    slack.command("+34600000001 +34600000002 from alice")
    audit_thread(fake_slack)
    channel_text = private_answer(bot, fake_slack, "+34600000003 from bob", user_id="UBOB")
    slack.command("+34600000003 " + "x" * 400, user_id="UBOB", channel_id="COTHER")  # 3 parts: 3 credits
    fake_ovh.wait_for_jobs(2)

    assert "bring this channel to 3 SMS" in channel_text and "SMS_LIMIT_CHANNEL_SMS_PER_DAY" in channel_text
    long_text = private_answer(
        bot, fake_slack, "+34600000004 " + "y" * 700, user_id="UBOB", channel_id="COTHER"
    )
    assert "bring you to 8 credits in 24 hours, over the limit of 3" in long_text


def test_admins_are_not_limited(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_ALLOWED_USERS="UALICE", SMS_ADMIN_USERS="UBOSS", SMS_LIMIT_RECEIVERS_PER_SEND="1")

    SlackSender(bot.url).command("+34600000001 +34600000002 from the boss", user_id="UBOSS")

    [job] = fake_ovh.wait_for_jobs(1)
    assert job.body["receivers"] == ["+34600000001", "+34600000002"]


def test_workspace_admins_can_be_the_bots_admins(start_bot, fake_slack, fake_ovh):
    fake_slack.users = {"UOWNER": {"is_owner": True}}
    bot = start_bot(SMS_ALLOWED_USERS="", SMS_WORKSPACE_ADMINS_ARE_ADMINS="true")

    SlackSender(bot.url).command("+34600000001 from the owner", user_id="UOWNER")
    refused = private_answer(bot, fake_slack, "+34600000001 from someone", user_id="USOMEONE")

    fake_ovh.wait_for_jobs(1)
    assert [job.body["message"] for job in fake_ovh.jobs] == ["from the owner"]
    assert "not allowed" in refused


def test_limits_hold_across_two_instances_on_one_postgres(start_bot, fake_slack, fake_ovh, postgres_url):
    one = start_bot(DATABASE_URL=postgres_url, SMS_LIMIT_USER_SMS_PER_DAY="5")
    two = start_bot(DATABASE_URL=postgres_url, SMS_LIMIT_USER_SMS_PER_DAY="5")
    senders = [SlackSender(one.url), SlackSender(two.url)]

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(lambda i: senders[i % 2].command(f"+346000000{i:02d} n{i}"), range(12)))

    settled_records(one, count=5)
    records = all_sends(one.ledger)
    assert len(records) == 5 and len(fake_ovh.wait_for_jobs(5)) == 5
    assert len(fake_ovh.jobs) == 5


def test_admins_manage_opt_outs_and_sends_to_them_are_refused(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_ADMIN_USERS="UBOSS")

    assert "Opted out: +34 600 00 00 09" in private_answer(
        bot, fake_slack, "optout +34600000009 asked by phone", user_id="UBOSS"
    )
    refused = private_answer(bot, fake_slack, "+34600000001,+34600000009 hello")
    listed = private_answer(bot, fake_slack, "optouts", user_id="UBOSS")
    not_admin = private_answer(bot, fake_slack, "optin +34600000009")
    assert "can receive SMS again" in private_answer(bot, fake_slack, "optin 600000009", user_id="UBOSS")
    SlackSender(bot.url).command("+34600000009 after opting in")

    assert "+34 600 00 00 09 asked not to receive SMS" in refused
    assert "+34 600 00 00 09 (by <@UBOSS>" in listed and "asked by phone" in listed
    assert "Only the bot's admins manage opt-outs" in not_admin
    [job] = fake_ovh.wait_for_jobs(1)
    assert job.body["message"] == "after opting in"


def test_usage_tells_a_person_where_they_stand(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_LIMIT_USER_SMS_PER_DAY="10")
    SlackSender(bot.url).command("+34600000001 +34600000002 two")
    settled_records(bot)

    text = private_answer(bot, fake_slack, "usage")

    assert "*Your SMS over the last 24 hours:* 2 (2 credits)" in text
    assert "10 SMS" in text


def test_when_slack_cannot_say_who_is_a_workspace_admin_nobody_is(start_bot, fake_slack, fake_ovh):
    # Both would be workspace admins, were Slack able to say so.
    fake_slack.users = {"UALICE": {"is_admin": True}, "USOMEONE": {"is_owner": True}}
    fake_slack.fail_next("users.info", error="fatal_error", times=100)
    bot = start_bot(
        SMS_ALLOWED_USERS="UALICE", SMS_WORKSPACE_ADMINS_ARE_ADMINS="true", SMS_LIMIT_RECEIVERS_PER_SEND="1"
    )

    limited = private_answer(bot, fake_slack, "+34600000001 +34600000002 as an admin?")
    refused = private_answer(bot, fake_slack, "+34600000001 as an owner?", user_id="USOMEONE")

    assert "at most 1 number" in limited  # Alice is allowed, but not as an admin
    assert "not allowed" in refused
    assert fake_slack.calls_to("users.info") and fake_ovh.jobs == []


def test_a_send_whose_outcome_is_unknown_counts_toward_the_daily_limit(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_LIMIT_USER_SMS_PER_DAY="1", SMS_UNKNOWN_GRACE_SECONDS="3600")
    fake_ovh.fail_next(502, method="POST", after_processing=True)  # OVH sent it; its answer was lost
    SlackSender(bot.url).command("+34600000001 maybe sent")
    [record] = settled_records(bot)
    assert record.status is SendStatus.UNKNOWN

    text = private_answer(bot, fake_slack, "+34600000002 one more")

    assert "bring you to 2 SMS in 24 hours, over the limit of 1" in text
    assert [job.body["message"] for job in fake_ovh.jobs] == ["maybe sent"]


def test_a_send_whose_outcome_is_unknown_counts_its_estimated_credits(start_bot, fake_slack, fake_ovh):
    # OVH never said what the first send cost: the estimate recorded with it (1 part x 1 receiver) stands in.
    bot = start_bot(SMS_LIMIT_USER_CREDITS_PER_DAY="2", SMS_UNKNOWN_GRACE_SECONDS="3600")
    fake_ovh.fail_next(502, method="POST", after_processing=True)
    SlackSender(bot.url).command("+34600000001 maybe sent")
    [record] = settled_records(bot)
    assert (record.status, record.credits_used, record.estimated_credits) == (SendStatus.UNKNOWN, None, 1.0)

    text = private_answer(bot, fake_slack, "+34600000002,+34600000003 two more")

    assert "bring you to 3 credits in 24 hours, over the limit of 2" in text
    assert [job.body["message"] for job in fake_ovh.jobs] == ["maybe sent"]


def test_a_redelivery_when_the_person_is_at_their_limit_is_a_duplicate_not_a_refusal(
    start_bot, fake_slack, fake_ovh, caplog
):
    caplog.set_level(logging.INFO)
    bot = start_bot(SMS_LIMIT_USER_SMS_PER_DAY="1")
    slack = SlackSender(bot.url)
    trigger = new_trigger_id()
    slack.command("+34600000001 only once", trigger_id=trigger)
    settled_records(bot)  # Alice is at her limit now
    url = fake_slack.new_response_url()

    assert slack.command("+34600000001 only once", trigger_id=trigger, response_url=url).status == 200

    handled = wait_for_log(caplog, f"command:{trigger} was delivered again", f"command:{trigger} refused")
    assert "delivered again" in handled
    assert fake_slack.responses(url) == []  # no "over your limit" for a request that was sent
    assert len(fake_ovh.jobs) == 1


def wait_for_log(caplog, *texts: str, timeout: float = 10.0) -> str:
    """Wait for a log message containing one of ``texts``; return that message."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r.getMessage() for r in caplog.records if any(t in r.getMessage() for t in texts)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no log message with any of {texts}: {caplog.text}"
        time.sleep(0.01)
