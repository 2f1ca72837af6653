"""What people see when OVH refuses, when the bot cannot post in the channel, and when Slack pushes back."""

from __future__ import annotations

import pytest
from slack_sdk.http_retry import builtin_interval_calculators  # noqa: F401  (imported for monkeypatching)

from bot.domain.records import AuditStatus, SendStatus
from tests.harness import SlackSender, audit_thread, blocks_text, settled_records


@pytest.mark.parametrize(
    ("failure", "status", "code", "says"),
    [
        (
            dict(status=403, error_code="NOT_GRANTED_CALL"),
            SendStatus.FAILED,
            "not_granted",
            "POST /sms/*/jobs",
        ),
        (
            dict(status=403, error_code="INVALID_CREDENTIAL"),
            SendStatus.FAILED,
            "invalid_credentials",
            "OVH_CONSUMER_KEY",
        ),
        (
            dict(status=403, error_code="INVALID_KEY"),
            SendStatus.FAILED,
            "invalid_credentials",
            "OVH_APPLICATION_KEY",
        ),
        (
            dict(status=400, message="Not enough credits to send this message"),
            SendStatus.FAILED,
            "no_credits",
            "add credits",
        ),
        (
            dict(status=400, message="Invalid receivers list"),
            SendStatus.FAILED,
            "rejected",
            "Invalid receivers list",
        ),
        (
            dict(status=429, message="Too many requests"),
            SendStatus.FAILED,
            "rate_limited",
            "try again in a minute",
        ),
        (
            dict(status=503, message="Service unavailable"),
            SendStatus.FAILED,
            "unavailable",
            "try again later",
        ),
        (
            dict(status=500, message="Internal server error"),
            SendStatus.UNKNOWN,
            "unavailable",
            "may or may not",
        ),
        (dict(status=502, html=True), SendStatus.UNKNOWN, "unavailable", "may or may not"),
    ],
)
def test_ovh_errors_end_up_in_the_thread_with_a_reason(
    bot, slack, fake_slack, fake_ovh, failure, status, code, says
):
    fake_ovh.fail_next(method="POST", **failure)

    slack.command("+34600000001 Hola")

    [(parent, reply)] = audit_thread(fake_slack)
    record = settled_records(bot)[0]
    assert (record.status, record.error_code) == (status, code)
    assert says in blocks_text(reply)
    assert "+34 600 00 00 01" in blocks_text(parent)
    assert fake_ovh.jobs == []


def test_an_unknown_sender_is_explained(start_bot, fake_slack, fake_ovh):
    bot = start_bot(OVH_SMS_SENDER="AcmeOps")
    SlackSender(bot.url).command("+34600000001 Hola")

    [(_parent, reply)] = audit_thread(fake_slack)
    assert "OVH does not accept the sender `AcmeOps`" in blocks_text(reply)
    assert settled_records(bot)[0].error_code == "unknown_sender"


def test_a_configured_and_enabled_sender_is_used(start_bot, fake_slack, fake_ovh):
    fake_ovh.senders = {"AcmeOps": "enable"}
    bot = start_bot(OVH_SMS_SENDER="AcmeOps")
    SlackSender(bot.url).command("+34600000001 Hola")

    [(_parent, reply)] = audit_thread(fake_slack)
    assert fake_ovh.jobs[0].body["sender"] == "AcmeOps"
    assert "sender `AcmeOps`" in blocks_text(reply)


def test_wrong_ovh_keys_fail_the_signature_check_and_say_so(start_bot, fake_slack, fake_ovh):
    bot = start_bot(OVH_APPLICATION_SECRET="not-the-secret")
    SlackSender(bot.url).command("+34600000001 Hola")

    [(_parent, reply)] = audit_thread(fake_slack)
    assert fake_ovh.signature_failures >= 1
    assert "rejected the bot's API keys" in blocks_text(reply)
    assert "not-the-secret" not in str(fake_slack.calls)


def test_every_receiver_rejected_is_a_failed_send(bot, slack, fake_slack, fake_ovh):
    fake_ovh.invalid_receivers = {"+34600000001"}

    slack.command("+34600000001 Hola")

    [(_parent, reply)] = audit_thread(fake_slack)
    record = settled_records(bot)[0]
    assert record.status is SendStatus.FAILED and record.error_code == "all_rejected"
    assert "*Rejected by OVH (1):* +34 600 00 00 01" in blocks_text(reply)


def test_credits_left_are_read_from_the_account_when_the_answer_lacks_them(bot, slack, fake_slack, fake_ovh):
    fake_ovh.include_credits_left = False
    fake_ovh.credits_left = 42.5

    slack.command("+34600000001 Hola")

    [(_parent, reply)] = audit_thread(fake_slack)
    assert "*Credits left:* 41.5" in blocks_text(reply)
    assert "*Credits left:* 41.5" in blocks_text(fake_slack.wait_for_home("UALICE"))  # asked again


def test_the_balance_ovh_answers_with_the_job_is_shown_without_asking_the_account(
    bot, slack, fake_slack, fake_ovh
):
    fake_ovh.credits_left = 42.5

    slack.command("+34600000001 Hola")

    [(_parent, reply)] = audit_thread(fake_slack)
    assert "*Credits left:* 41.5" in blocks_text(reply)
    # The author's Home tab, published once the send was reported, shows the same balance.
    assert "*Credits left:* 41.5" in blocks_text(fake_slack.wait_for_home("UALICE"))
    # One request per job: the account is asked only when OVH's answer lacks the balance (above), neither
    # for the audit nor for the Home tab.
    asked = [(r.method, r.path) for r in fake_ovh.requests]
    assert asked.count(("POST", "/sms/sms-tt12345-1/jobs")) == 1
    assert ("GET", "/sms/sms-tt12345-1") not in asked


def test_the_only_sms_service_of_the_account_is_found(bot, slack, fake_slack, fake_ovh):
    slack.command("+34600000001 Hola")

    audit_thread(fake_slack)
    assert fake_ovh.jobs[0].service == "sms-tt12345-1"
    assert ("GET", "/sms", {}, None) in fake_ovh.requests


def test_several_sms_services_need_one_chosen(fake_slack, fake_ovh, start_bot):
    fake_ovh.services = ["sms-aa11111-1", "sms-bb22222-1"]
    bot = start_bot()
    SlackSender(bot.url).command("+34600000001 Hola")

    [(_parent, reply)] = audit_thread(fake_slack)
    assert "OVH_SMS_SERVICE" in blocks_text(reply)
    assert fake_ovh.jobs == []

    other = start_bot(OVH_SMS_SERVICE="sms-bb22222-1")
    SlackSender(other.url).command("+34600000002 Hola")
    [job] = fake_ovh.wait_for_jobs(1)
    assert job.service == "sms-bb22222-1"


def test_where_the_bot_cannot_post_the_person_gets_the_result_privately(bot, slack, fake_slack, fake_ovh):
    fake_slack.not_in_channel = {"CPRIVATE"}
    url = fake_slack.new_response_url()

    slack.command("+34600000001 Hola", channel_id="CPRIVATE", response_url=url)

    [private] = fake_slack.wait_for_response(url)
    text = blocks_text(private)
    assert private["response_type"] == "ephemeral"
    assert "sent an SMS to +34 600 00 00 01" in text
    assert f"*OVH job id:* {fake_ovh.jobs[0].ids[0]}" in text
    assert "/invite @smsbot" in text
    record = settled_records(bot)[0]
    assert record.status is SendStatus.SENT and record.audit_status is AuditStatus.PRIVATE


def test_a_modal_send_from_a_dm_falls_back_to_the_commands_response_url(bot, slack, fake_slack, fake_ovh):
    fake_slack.channel_not_found = {"D0SOMEDM"}
    url = fake_slack.new_response_url()
    slack.command("", channel_id="D0SOMEDM", response_url=url)
    opened = fake_slack.wait_for_view()

    slack.submit_modal({**opened, "id": "V0DM"}, receivers="+34600000001", message="From a DM")

    [private] = fake_slack.wait_for_response(url)
    assert "sent an SMS to +34 600 00 00 01" in blocks_text(private)
    assert fake_ovh.jobs[0].body["message"] == "From a DM"


def test_slack_rate_limits_are_retried_and_the_thread_is_posted(
    bot, slack, fake_slack, fake_ovh, monkeypatch
):
    monkeypatch.setattr("random.random", lambda: 0.0)  # the SDK adds up to 1 s of jitter to Retry-After
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0, times=2)

    slack.command("+34600000001 Hola")

    [(_parent, _reply)] = audit_thread(fake_slack)
    assert [call.status for call in fake_slack.calls if call.method == "chat.postMessage"] == [
        429,
        429,
        200,
        200,
    ]
    assert settled_records(bot)[0].audit_status is AuditStatus.THREAD
