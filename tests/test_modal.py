"""`/sms` alone: the compose modal, its inline errors, and a send reported in the original channel."""

from __future__ import annotations

import json

from tests.harness import SlackSender, all_sends, audit_thread, blocks_text, settled_records


def open_modal(slack, fake_slack, channel_id="COPS", user_id="UALICE"):
    response_url = fake_slack.new_response_url()
    answer = slack.command("", channel_id=channel_id, user_id=user_id, response_url=response_url)
    assert answer.status == 200 and answer.body == ""
    [opened] = fake_slack.wait_for("views.open")
    view = fake_slack.wait_for_view()  # as Slack opened it: refused, the form would never show
    view["id"] = "V0COMPOSE1"
    return opened, view, response_url


def test_the_modal_opens_at_once_with_the_channel_in_its_metadata(slack, fake_slack):
    opened, view, response_url = open_modal(slack, fake_slack)

    assert opened["trigger_id"].startswith("trigger-")
    assert [block.get("block_id") for block in view["blocks"][:3]] == ["receivers", "people", "message"]
    message_input = view["blocks"][2]["element"]
    assert message_input["multiline"] is True
    assert json.loads(view["private_metadata"]) == {"channel_id": "COPS", "response_url": response_url}


def test_a_valid_submission_sends_and_reports_in_the_channel(bot, slack, fake_slack, fake_ovh):
    _opened, view, _url = open_modal(slack, fake_slack)
    long_text = "Incident report.\n\n" + "All systems nominal. " * 30

    answer = slack.submit_modal(view, receivers="+34600000001, 600000002\n+34 600000003", message=long_text)

    assert answer.status == 200 and answer.body == ""  # closes the modal
    [(parent, reply)] = audit_thread(fake_slack, channel="COPS")
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == ["+34600000001", "+34600000002", "+34600000003"]
    assert job.body["message"] == long_text  # exactly as typed, newlines and all
    assert "<@UALICE> sent an SMS to" in blocks_text(parent)
    assert "*Accepted (3):*" in blocks_text(reply)
    record = settled_records(bot)[0]
    assert record.request_key == "view:V0COMPOSE1"
    assert record.source == "modal"


def test_wrong_input_shows_inline_errors_and_sends_nothing(bot, slack, fake_slack, fake_ovh):
    _opened, view, _url = open_modal(slack, fake_slack)

    answer = slack.submit_modal(view, receivers="+34600000001, 12345678, bogus", message="   ")

    assert answer.status == 200
    body = answer.json()
    assert body["response_action"] == "errors"
    assert "12345678" in body["errors"]["receivers"] and "bogus" in body["errors"]["receivers"]
    assert "message" in body["errors"]
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_a_too_long_message_is_an_inline_error(slack, fake_slack, fake_ovh):
    _opened, view, _url = open_modal(slack, fake_slack)

    answer = slack.submit_modal(view, receivers="+34600000001", message="ü" * 200 + "🚀" * 150)

    errors = answer.json()["errors"]
    assert list(errors) == ["message"]
    assert "402" in errors["message"]
    assert fake_ovh.jobs == []


def test_a_double_submit_sends_once(bot, slack, fake_slack, fake_ovh):
    _opened, view, _url = open_modal(slack, fake_slack)

    first = slack.submit_modal(view, receivers="+34600000001", message="Once")
    second = slack.submit_modal(view, receivers="+34600000001", message="Once")

    assert first.status == second.status == 200
    audit_thread(fake_slack)
    slack.command("+34600000002 Later")
    audit_thread(fake_slack, sends=2)
    assert [job.body["message"] for job in fake_ovh.jobs] == ["Once", "Later"]


def test_a_refused_person_gets_no_modal(start_bot, fake_slack, fake_ovh):
    from tests.harness import SlackSender

    bot = start_bot(SMS_ALLOWED_USERS="UALICE")
    url = fake_slack.new_response_url()
    SlackSender(bot.url).command("", user_id="UMALLORY", response_url=url)

    [refusal] = fake_slack.wait_for_response(url)
    assert refusal["response_type"] == "ephemeral"
    assert "not allowed to send SMS" in refusal["text"]
    assert fake_slack.calls_to("views.open") == []


def test_a_person_removed_before_submitting_gets_an_inline_refusal(start_bot, fake_slack, fake_ovh):
    from tests.harness import SlackSender

    fake_slack.usergroup_members = {"SOPS": ["UBOB"]}
    bot = start_bot(SMS_ALLOWED_USERS="", SMS_ALLOWED_USERGROUPS="SOPS", SMS_USERGROUP_CACHE_SECONDS="0")
    slack = SlackSender(bot.url)
    _opened, view, _url = open_modal(slack, fake_slack, user_id="UBOB")
    fake_slack.usergroup_members = {"SOPS": []}

    answer = slack.submit_modal(view, receivers="+34600000001", message="hi", user_id="UBOB")

    assert "not allowed" in answer.json()["errors"]["receivers"]
    assert fake_ovh.jobs == []


def test_a_submission_checked_after_slack_stopped_waiting_is_not_sent(
    start_bot, fake_slack, fake_ovh, monkeypatch
):
    # Slack gives an ack 3 s; a late one reaches nobody, and Slack tells the person the form failed. Acting
    # on it anyway would send an SMS the person believes was not sent (and may send again from a new form).
    # Bolt's own wait is 3 s: here the bot's deadline stands in for it, shortened.
    monkeypatch.setattr("bot.server.http.ACK_WAIT_SECONDS", 0.2, raising=False)
    fake_slack.usergroup_members = {"SONCALL": ["UBOB"]}
    bot = start_bot(SMS_ALLOWED_USERS="", SMS_ALLOWED_USERGROUPS="SONCALL", SMS_USERGROUP_CACHE_SECONDS="0")
    slack = SlackSender(bot.url)
    _opened, view, _response_url = open_modal(slack, fake_slack, user_id="UBOB")
    fake_slack.hangs["usergroups.users.list"] = 0.5  # checking who may send outlasts the ack's deadline

    answer = slack.submit_modal(view, receivers="+34600000001", message="late", user_id="UBOB")

    assert answer.status != 200
    bot.bot.drain()  # whatever the listener would still do after its ack is done now
    assert all_sends(bot.ledger) == [] and fake_ovh.jobs == []
