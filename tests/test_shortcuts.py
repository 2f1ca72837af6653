"""Shortcuts: the global one opens the form anywhere, the message one with the message's text as a phone
shows it; and the form's people picker and contacts by name, through signed interactions."""

from __future__ import annotations

import pytest

from tests.harness import SlackSender, all_sends, audit_thread, blocks_text, settled_records


def people(fake_slack, **phones: str) -> None:
    for user, phone in phones.items():
        fake_slack.users[user] = {"name": user.lower()[1:], "profile": {"phone": phone}}


def opened_view(fake_slack, view_id: str = "V0SHORTCUT1") -> dict:
    view = fake_slack.wait_for_view()  # as Slack opened it: one Slack refuses would never show
    view["id"] = view_id
    return view


def test_the_global_shortcut_opens_the_form_and_sends_from_the_channel_picked(
    bot, slack, fake_slack, fake_ovh
):
    answer = slack.shortcut()

    assert answer.status == 200 and answer.body == ""
    view = opened_view(fake_slack)
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert blocks["channel"]["element"]["type"] == "conversations_select"
    assert blocks["channel"]["element"]["default_to_current_conversation"] is True
    assert blocks["people"]["element"]["type"] == "multi_users_select"

    submitted = slack.submit_modal(view, receivers="600000001", message="Desde el atajo", channel="COPS")

    assert submitted.body == ""
    [(parent, _reply)] = audit_thread(fake_slack, channel="COPS")
    assert "> Desde el atajo" in blocks_text(parent)
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == ["+34600000001"]
    [record] = settled_records(bot)
    assert record.channel_id == "COPS" and record.source == "modal"


def test_the_channel_picked_must_allow_sending(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_ALLOWED_CHANNELS="COPS", SMS_ALLOWED_USERS="")
    slack = SlackSender(bot.url)
    slack.shortcut()
    view = opened_view(fake_slack)

    elsewhere = slack.submit_modal(view, receivers="600000001", message="hola", channel="CRANDOM")
    nowhere = slack.submit_modal(view, receivers="600000001", message="hola", channel=None)

    assert "SMS cannot be sent from this conversation" in elsewhere.json()["errors"]["receivers"]
    assert "Pick the channel" in nowhere.json()["errors"]["channel"]
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_the_message_shortcut_fills_the_form_with_the_text_a_phone_can_show(bot, slack, fake_slack, fake_ovh):
    text = "Reunión con <@UBOB|bob> en <#CDEV|dev> :smile: ver <https://x.es/plan|el plan> &amp; <!here>"

    answer = slack.message_shortcut({"text": text, "user": "UCAROL"})

    assert answer.status == 200 and answer.body == ""
    view = opened_view(fake_slack)
    message_block = next(block for block in view["blocks"] if block.get("block_id") == "message")
    prefilled = "Reunión con @bob en #dev 😄 ver el plan (https://x.es/plan) & @here"
    assert message_block["element"]["initial_value"] == prefilled

    slack.submit_modal(view, receivers="+34600000001", message=prefilled)

    audit_thread(fake_slack, channel="COPS")
    [job] = fake_ovh.jobs
    assert job.body["message"] == prefilled


@pytest.mark.parametrize(
    "message",
    [
        {"text": "", "files": [{"id": "F1", "name": "foto.jpg"}]},
        {"text": "   ", "attachments": [{"fallback": "a chart"}]},
        {"subtype": "bot_message"},
    ],
)
def test_the_message_shortcut_on_a_message_without_text_says_so(bot, slack, fake_slack, message):
    url = fake_slack.new_response_url()

    slack.message_shortcut(message, response_url=url)

    [reply] = fake_slack.wait_for_response(url)
    assert "This message has no text to send as an SMS" in blocks_text(reply)
    assert fake_slack.calls_to("views.open") == []


def test_the_message_shortcut_is_refused_to_who_may_not_send_from_that_channel(start_bot, fake_slack):
    bot = start_bot(SMS_ALLOWED_CHANNELS="COPS")
    url = fake_slack.new_response_url()

    SlackSender(bot.url).message_shortcut({"text": "hola"}, channel_id="CRANDOM", response_url=url)

    [reply] = fake_slack.wait_for_response(url)
    assert "SMS cannot be sent from this conversation" in blocks_text(reply)
    assert fake_slack.calls_to("views.open") == []


def test_a_long_message_fills_the_form_up_to_what_the_field_holds(bot, slack, fake_slack):
    slack.message_shortcut({"text": "a" * 5000})

    view = opened_view(fake_slack)  # Slack refuses an initial value longer than the field's max_length
    message_block = next(block for block in view["blocks"] if block.get("block_id") == "message")
    assert message_block["element"]["initial_value"] == "a" * 3000


def test_a_form_delivered_twice_sends_once(bot, slack, fake_slack, fake_ovh):
    slack.message_shortcut({"text": "Una vez"})
    view = opened_view(fake_slack)

    first = slack.submit_modal(view, receivers="+34600000001", message="Una vez")
    second = slack.submit_modal(view, receivers="+34600000001", message="Una vez")

    assert first.status == second.status == 200
    settled_records(bot)
    bot.bot.drain()
    assert len(fake_ovh.jobs) == 1 and len(all_sends(bot.ledger)) == 1


def test_the_form_takes_numbers_contacts_and_people_picked(bot, slack, fake_slack, fake_ovh):
    people(fake_slack, UBOB="600000002", UCAROL="+34 600 000 003")
    bot.core.contacts.add("taller", "+34600000009", "UBOSS")
    slack.command("")
    view = opened_view(fake_slack)

    answer = slack.submit_modal(
        view, receivers="600000001, @taller", message="Hola", people=["UBOB", "UCAROL"]
    )

    assert answer.body == ""
    [(parent, _reply)] = audit_thread(fake_slack)
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == ["+34600000001", "+34600000009", "+34600000002", "+34600000003"]
    assert "+34 600 00 00 01, taller (+34 600 00 00 09), @bob (+34 600 00 00 02), @carol" in blocks_text(
        parent
    )


@pytest.mark.parametrize(
    ("receivers", "picked", "says"),
    [
        ("", [], "Enter at least one phone number"),
        ("+34600000001", ["UDAN"], "@dan has no phone number in their Slack profile"),
        ("oficina, 12", [], "No contact is named `oficina`"),
        ("oficina, 12", [], "`12` is too short"),
        ("", ["UGHOST"], "is not a member of this workspace"),
    ],
)
def test_the_form_names_who_cannot_get_the_sms_inline(
    bot, slack, fake_slack, fake_ovh, receivers, picked, says
):
    people(fake_slack, UDAN="")
    slack.command("")
    view = opened_view(fake_slack)

    answer = slack.submit_modal(view, receivers=receivers, message="Hola", people=picked)

    assert says in answer.json()["errors"]["receivers"]
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []
