"""Who may send, and from where: refusals are private, say how to get access, and send nothing."""

from __future__ import annotations

import pytest

from tests.harness import SlackSender, all_sends, audit_thread


def refusal_for(bot, fake_slack, *, user_id="UALICE", channel_id="COPS") -> str:
    url = fake_slack.new_response_url()
    answer = SlackSender(bot.url).command(
        "+34600000001 hi", user_id=user_id, channel_id=channel_id, response_url=url
    )
    assert answer.status == 200
    [refusal] = fake_slack.wait_for_response(url)
    assert refusal["response_type"] == "ephemeral"
    return refusal["text"]


def test_with_nothing_configured_nobody_may_send(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_ALLOWED_USERS="")

    text = refusal_for(bot, fake_slack)

    assert "Nobody may send SMS" in text and "SMS_ALLOWED_USERS" in text
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []
    assert fake_slack.calls_to("chat.postMessage") == []


def test_a_person_not_listed_is_refused(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_ALLOWED_USERS="UALICE")

    text = refusal_for(bot, fake_slack, user_id="UMALLORY")

    assert "not allowed to send SMS" in text
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_members_of_an_allowed_user_group_may_send(start_bot, fake_slack, fake_ovh):
    fake_slack.usergroup_members = {"SONCALL": ["UBOB", "UCAROL"]}
    bot = start_bot(SMS_ALLOWED_USERS="", SMS_ALLOWED_USERGROUPS="SONCALL")

    SlackSender(bot.url).command("+34600000001 from bob", user_id="UBOB")
    audit_thread(fake_slack)
    text = refusal_for(bot, fake_slack, user_id="UDAVE")

    assert [job.body["message"] for job in fake_ovh.jobs] == ["from bob"]
    assert "not allowed" in text


def test_group_membership_is_cached_briefly(start_bot, fake_slack, fake_ovh):
    fake_slack.usergroup_members = {"SONCALL": ["UBOB"]}
    bot = start_bot(SMS_ALLOWED_USERS="", SMS_ALLOWED_USERGROUPS="SONCALL", SMS_USERGROUP_CACHE_SECONDS="600")
    slack = SlackSender(bot.url)

    slack.command("+34600000001 one", user_id="UBOB")
    audit_thread(fake_slack)  # the second send starts once the first one's answer is cached
    slack.command("+34600000001 two", user_id="UBOB")
    audit_thread(fake_slack, sends=2)

    assert len(fake_slack.calls_to("usergroups.users.list")) == 1


def test_when_slack_cannot_tell_group_members_the_send_is_refused(start_bot, fake_slack, fake_ovh):
    fake_slack.usergroup_members = {"SONCALL": ["UBOB"]}
    bot = start_bot(SMS_ALLOWED_USERS="", SMS_ALLOWED_USERGROUPS="SONCALL")
    fake_slack.fail_next("usergroups.users.list", error="missing_scope", times=5)

    text = refusal_for(bot, fake_slack, user_id="UBOB")

    assert "could not be checked" in text
    assert fake_ovh.jobs == []


@pytest.mark.parametrize(
    ("users", "channel", "allowed"),
    [("", "COPS", True), ("", "CRANDOM", False), ("UALICE", "COPS", True), ("UALICE", "CRANDOM", False)],
)
def test_allowed_channels_restrict_where(start_bot, fake_slack, fake_ovh, users, channel, allowed):
    bot = start_bot(SMS_ALLOWED_USERS=users, SMS_ALLOWED_CHANNELS="COPS")

    if allowed:
        SlackSender(bot.url).command("+34600000001 hi", channel_id=channel)
        fake_ovh.wait_for_jobs(1)
    else:
        assert "cannot be sent from this conversation" in refusal_for(bot, fake_slack, channel_id=channel)
        assert fake_ovh.jobs == []
