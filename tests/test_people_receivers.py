"""`/sms @alice …` and `/sms @oncall …`: people and user groups as receivers, through signed commands."""

from __future__ import annotations

import pytest

from bot.domain.records import SendStatus
from tests.harness import SlackSender, all_sends, audit_thread, blocks_text, settled_records

BOB = "<@UBOB|bob>"
ONCALL = "<!subteam^SONCALL|@oncall>"


def people(fake_slack, **phones: str) -> None:
    """Members of the workspace with the phone in their profile ("" for none)."""
    for user, phone in phones.items():
        fake_slack.users[user] = {"name": user.lower()[1:], "profile": {"phone": phone}}


def private_answer(bot, fake_slack, text: str, *, user_id: str = "UALICE") -> str:
    """What the person alone is told (an inline answer, or through the response URL after the ack)."""
    url = fake_slack.new_response_url()
    answer = SlackSender(bot.url).command(text, user_id=user_id, response_url=url, escaped=True)
    if answer.body:
        return blocks_text(answer.json())
    [reply] = fake_slack.wait_for_response(url)
    return blocks_text(reply)


def test_a_person_gets_the_sms_on_their_profile_phone(bot, slack, fake_slack, fake_ovh):
    people(fake_slack, UBOB="600 000 002")

    slack.command(f"{BOB} Hola Bob", escaped=True)

    [(parent, reply)] = audit_thread(fake_slack)
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == ["+34600000002"]
    assert job.body["message"] == "Hola Bob"
    assert "<@UALICE> sent an SMS to @bob (+34 600 00 00 02)" in blocks_text(parent)
    assert "*Accepted (1):* @bob (+34 600 00 00 02)" in blocks_text(reply)
    [record] = settled_records(bot)
    assert record.receivers == ["+34600000002"]
    assert record.recipients == [{"e164": "+34600000002", "label": "@bob", "user_id": "UBOB"}]


def test_people_and_numbers_together_each_once(bot, slack, fake_slack, fake_ovh):
    people(fake_slack, UBOB="+34 600 000 002", UCAROL="0034600000003")

    slack.command(f"{BOB},+34600000001 <@UCAROL|carol> +34600000002 Reunión a las 5", escaped=True)

    audit_thread(fake_slack)
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == ["+34600000002", "+34600000001", "+34600000003"]
    assert job.body["message"] == "Reunión a las 5"


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"profile": {"phone": ""}}, "@bob has no phone number in their Slack profile"),
        (
            {"profile": {"phone": "call me"}},
            "@bob has a phone number in their Slack profile that is not a valid one (`call me`)",
        ),
        ({"deleted": True, "profile": {"phone": "600000002"}}, "@bob is deactivated"),
        ({"is_bot": True, "profile": {"phone": "600000002"}}, "@bob is a bot"),
    ],
)
def test_a_person_who_cannot_get_an_sms_stops_the_whole_send(bot, fake_slack, fake_ovh, fields, says):
    fake_slack.users["UBOB"] = {"name": "bob", **fields}

    text = private_answer(bot, fake_slack, f"+34600000001 {BOB} Hola")

    assert says in text and "Nothing was sent" in text
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_every_person_who_cannot_get_it_is_named_at_once(bot, fake_slack, fake_ovh):
    people(fake_slack, UBOB="", UCAROL="600000003")
    fake_slack.users["UDAN"] = {"name": "dan", "deleted": True}

    text = private_answer(bot, fake_slack, f"{BOB} <@UCAROL|carol> <@UDAN|dan> <@UGHOST|ghost> Hola")

    assert "3 receivers cannot get the SMS" in text
    assert "@bob has no phone number" in text and "@dan is deactivated" in text
    assert "@ghost is not a member of this workspace" in text  # Slack: user_not_found
    assert "@carol" not in text
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_a_group_goes_to_its_members_and_names_those_without_a_phone(bot, slack, fake_slack, fake_ovh):
    people(fake_slack, UBOB="600000002", UCAROL="", UEVE="600 00 00 05")
    fake_slack.users["UDAN"] = {"name": "dan", "deleted": True, "profile": {"phone": "600000004"}}
    fake_slack.usergroup_members = {"SONCALL": ["UBOB", "UCAROL", "UDAN", "UEVE"]}

    slack.command(f"{ONCALL} Servidor caído", escaped=True)

    [(parent, _reply)] = audit_thread(fake_slack)
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == ["+34600000002", "+34600000005"]
    shown = blocks_text(parent)
    assert "@bob (+34 600 00 00 02), @eve (+34 600 00 00 05)" in shown
    assert "*Not sent to (1):* @carol has no phone number in their Slack profile" in shown
    [record] = settled_records(bot)
    assert {
        "e164": "+34600000002",
        "label": "@bob",
        "user_id": "UBOB",
        "group": "@oncall",
    } in record.recipients
    assert {"label": "@carol", "skipped": record.skipped()[0][1]} in record.recipients


@pytest.mark.parametrize(
    ("members", "says"),
    [
        ({"SONCALL": []}, "@oncall has no members: nobody in it can get the SMS"),
        ({"SONCALL": ["UCAROL"]}, "@oncall has 1 member, none with a usable phone"),
        ({}, "@oncall is not a user group of this workspace"),
    ],
)
def test_a_group_nobody_in_which_can_get_it_is_an_error(bot, fake_slack, fake_ovh, members, says):
    people(fake_slack, UCAROL="")
    fake_slack.usergroup_members = members

    text = private_answer(bot, fake_slack, f"{ONCALL} Hola")

    assert says in text
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_a_group_counts_as_its_size_for_the_limits(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_LIMIT_RECEIVERS_PER_SEND="2")
    people(fake_slack, UBOB="600000002", UCAROL="600000003", UEVE="600000005")
    fake_slack.usergroup_members = {"SONCALL": ["UBOB", "UCAROL", "UEVE"]}

    text = private_answer(bot, fake_slack, f"{ONCALL} Hola")

    assert "at most 2 numbers (SMS_LIMIT_RECEIVERS_PER_SEND); this one has 3" in text
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_nobody_is_looked_up_for_someone_who_may_not_send(bot, fake_slack, fake_ovh):
    people(fake_slack, UBOB="600000002")

    text = private_answer(bot, fake_slack, f"{BOB} Hola", user_id="UMALLORY")

    assert "not allowed" in text
    # Only the refused person's own locale is asked (to tell them in their language): not Bob's profile.
    asked = [call["user"] for call in fake_slack.calls_to("users.info")]
    assert "UBOB" not in asked and fake_ovh.jobs == []


def test_slack_failing_to_say_who_people_are_sends_nothing(bot, fake_slack, fake_ovh):
    people(fake_slack, UBOB="600000002")
    fake_slack.fail_next("users.info", error="internal_error", times=5)

    text = private_answer(bot, fake_slack, f"+34600000001 {BOB} Hola")

    assert "Slack did not say who the people you named are, so nothing was sent" in text
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_a_redelivered_command_naming_people_sends_once(bot, fake_slack, fake_ovh):
    people(fake_slack, UBOB="600000002")
    sender = SlackSender(bot.url)
    sender.command(f"{BOB} Hola", trigger_id="trigger-1-abc", escaped=True)
    settled_records(bot)

    sender.command(f"{BOB} Hola", trigger_id="trigger-1-abc", escaped=True)

    # The second delivery is resolved again, then stopped by the ledger's key: nothing more is sent.
    fake_slack.wait_for("users.info", 1)
    assert len(fake_ovh.jobs) == 1
    assert [r.status for r in settled_records(bot)] == [SendStatus.SENT]


def test_mentions_and_links_in_the_message_reach_the_phone_as_text(bot, slack, fake_slack, fake_ovh):
    people(fake_slack, UBOB="600000002")

    slack.command(
        f"+34600000001 Pregunta a {BOB} en <#CDEV|dev> &amp; mira <https://status.example.es|status.example.es> "
        "o <https://x.es/a?b=1&amp;c=2|el panel> &lt;3 <!here>",
        escaped=True,
    )

    audit_thread(fake_slack)
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == ["+34600000001"]
    assert job.body["message"] == (
        "Pregunta a @bob en #dev & mira https://status.example.es o el panel (https://x.es/a?b=1&c=2) <3 @here"
    )


def test_a_channel_where_a_receiver_should_be_is_quoted_as_seen(bot, slack, fake_ovh):
    answer = slack.command("<#CDEV|dev> Hola", escaped=True)

    assert "`#dev` is not a phone number" in blocks_text(answer.json())
    assert fake_ovh.jobs == []


@pytest.mark.parametrize(
    ("scope", "text"),
    [("users:read", f"{BOB} Hola"), ("usergroups:read", f"{ONCALL} Hola")],
)
def test_a_missing_scope_is_named_for_an_admin_to_add(bot, fake_slack, fake_ovh, scope, text):
    people(fake_slack, UBOB="600000002")
    fake_slack.usergroup_members = {"SONCALL": ["UBOB"]}
    fake_slack.scopes = [granted for granted in fake_slack.scopes if granted != scope]

    told = private_answer(bot, fake_slack, text)

    assert f"The bot's Slack app lacks the {scope} scope" in told and "nothing was sent" in told
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_a_large_group_is_sent_to_with_each_member_looked_up_once(bot, slack, fake_slack, fake_ovh):
    members = [f"UM{index:03d}" for index in range(30)]
    for index, user in enumerate(members):
        fake_slack.users[user] = {"name": f"m{index}", "profile": {"phone": f"6000001{index:02d}"}}
    fake_slack.usergroup_members = {"SONCALL": members}

    slack.command(f"{ONCALL} Hola a todos", escaped=True)

    audit_thread(fake_slack)
    [job] = fake_ovh.jobs
    assert len(job.body["receivers"]) == 30
    # The requester's language is asked for too (include_locale), for the audit; the members' phones once each.
    asked = [
        call.params["user"]
        for call in fake_slack.calls
        if call.method == "users.info" and not call.params.get("include_locale")
    ]
    assert sorted(asked) == members  # once each: the lookups made together are kept for the send


def test_a_parent_names_twenty_members_without_a_phone_and_counts_the_rest(bot, slack, fake_slack, fake_ovh):
    members = {f"U{n:03d}": "" for n in range(23)}  # 23 members without a phone
    people(fake_slack, UBOB="600000002", **members)
    fake_slack.usergroup_members = {"SONCALL": ["UBOB", *members]}

    slack.command(f"{ONCALL} Servidor caído", escaped=True)

    [(parent, _reply)] = audit_thread(fake_slack)
    assert fake_ovh.jobs[0].body["receivers"] == ["+34600000002"]
    shown = blocks_text(parent)
    assert "*Not sent to (23):* @000 has no phone number" in shown
    assert (
        "@019 has no phone number in their Slack profile (they can add it under Profile → Edit); and 3 more"
        in shown
    )
    assert "@020" not in shown
    # The record keeps every one of them.
    [record] = settled_records(bot)
    assert len(record.skipped()) == 23
