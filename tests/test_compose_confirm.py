"""Costly sends wait for their author's confirmation: above SMS_CONFIRM_ABOVE_CREDITS estimated credits or
SMS_CONFIRM_ABOVE_RECEIVERS receivers, from the form and from the slash command; below, they go at once."""

from __future__ import annotations

import time

import pytest

from tests.harness import SlackSender, all_sends, audit_thread, blocks_text, settled_records
from tests.test_follow_up import button_message, button_value
from tests.test_people_receivers import ONCALL, people


@pytest.fixture
def costly(start_bot, fake_ovh):
    """A bot asking to confirm above 2 receivers or 3 credits, with Spain at 1.3 credits per part."""
    fake_ovh.rates = {"es": 1.3}
    return start_bot(SMS_CONFIRM_ABOVE_RECEIVERS="2", SMS_CONFIRM_ABOVE_CREDITS="3")


def open_form(bot, fake_slack):
    slack = SlackSender(bot.url)
    assert slack.command("", response_url=fake_slack.new_response_url()).status == 200
    return slack, fake_slack.wait_for_view()


def confirm(slack, pushed, user_id="UALICE"):
    view = {**pushed, "id": "VCONFIRM01", "hash": "h1", "state": {"values": {}}}
    return slack.interaction({"type": "view_submission", "view": view}, user_id=user_id)


def test_a_form_above_the_receivers_threshold_asks_first_and_sends_once_confirmed(
    costly, fake_ovh, fake_slack
):
    slack, view = open_form(costly, fake_slack)
    text = "Corte de luz: el servidor está caído"

    answer = slack.submit_modal(view, receivers="600000001, 600000002, 600000003", message=text)

    body = answer.json()
    assert body["response_action"] == "push"
    pushed = body["view"]
    shown = blocks_text(pushed)
    assert pushed["callback_id"] == "sms_confirm" and pushed["submit"]["text"] == "Send it"
    assert "*This SMS goes to 3 receivers:* +34 600 00 00 01, +34 600 00 00 02, +34 600 00 00 03" in shown
    assert f"> {text}" in shown  # the text as the phone shows it
    assert "*Estimated cost:* 3.9 credits (1 SMS part, Unicode, to each receiver)" in shown
    assert "*From:* the account's default sender   *Sent:* now" in shown
    assert fake_ovh.jobs == [] and all_sends(costly.ledger) == []  # nothing until confirmed

    first, second = confirm(slack, pushed), confirm(slack, pushed)  # clicked twice

    assert first.json() == second.json() == {"response_action": "clear"}
    audit_thread(fake_slack)
    [record] = settled_records(costly)
    assert record.request_key == f"view:{view['id']}" and record.message == text
    assert len(fake_ovh.jobs) == 1
    assert fake_ovh.jobs[0].body["receivers"] == ["+34600000001", "+34600000002", "+34600000003"]


def test_a_form_above_the_credits_threshold_asks_first(costly, fake_ovh, fake_slack):
    slack, view = open_form(costly, fake_slack)

    answer = slack.submit_modal(view, receivers="600000001, 600000002", message="x" * 200)  # 2 x 2 x 1.3

    assert answer.json()["response_action"] == "push"
    assert "*Estimated cost:* 5.2 credits (2 SMS parts, GSM-7" in blocks_text(answer.json()["view"])
    assert fake_ovh.jobs == []


def test_at_the_thresholds_a_form_sends_at_once(costly, fake_ovh, fake_slack):
    slack, view = open_form(costly, fake_slack)

    answer = slack.submit_modal(view, receivers="600000001, 600000002", message="Hola")  # 2 and 2.6

    assert answer.body == ""
    assert len(fake_ovh.wait_for_jobs(1)) == 1


def test_a_slash_command_above_the_thresholds_opens_the_same_confirmation(costly, fake_ovh, fake_slack):
    slack = SlackSender(costly.url)

    answer = slack.command("600000001,600000002,600000003 Llamad al 112")

    assert answer.status == 200 and answer.body == ""
    [opened] = fake_slack.wait_for("views.open")
    view = fake_slack.wait_for_view()
    assert view["callback_id"] == "sms_confirm"
    assert "*This SMS goes to 3 receivers:*" in blocks_text(view)
    assert fake_ovh.jobs == [] and all_sends(costly.ledger) == []

    assert confirm(slack, view).json() == {"response_action": "clear"}
    audit_thread(fake_slack)
    [record] = settled_records(costly)
    assert record.request_key == f"command:{opened['trigger_id']}" and record.source == "command"


def test_below_the_thresholds_a_slash_command_sends_at_once(costly, fake_ovh, fake_slack):
    SlackSender(costly.url).command("600000001 Hola")

    assert len(fake_ovh.wait_for_jobs(1)) == 1
    assert fake_slack.calls_to("views.open") == []


def test_someone_else_cannot_confirm_anothers_send(costly, fake_ovh, fake_slack):
    slack, view = open_form(costly, fake_slack)
    pushed = slack.submit_modal(view, receivers="600000001, 600000002, 600000003", message="Hola").json()[
        "view"
    ]

    answer = confirm(slack, pushed, user_id="UMALLORY")

    assert answer.json()["response_action"] == "update"
    assert "out of date, so nothing was sent" in blocks_text(answer.json()["view"])
    assert fake_ovh.jobs == [] and all_sends(costly.ledger) == []


def test_a_scheduled_costly_send_says_when_in_its_confirmation(costly, fake_ovh, fake_slack):
    costly.core.senders.refresh()
    slack, view = open_form(costly, fake_slack)
    send_at = int(time.time()) + 3600
    values = {
        "receivers": {"value": {"type": "plain_text_input", "value": "600000001, 600000002, 600000003"}},
        "message": {"value": {"type": "plain_text_input", "value": "Mañana"}},
        "send_at": {"value": {"type": "datetimepicker", "selected_date_time": send_at}},
    }

    answer = slack.interaction({"type": "view_submission", "view": {**view, "state": {"values": values}}})

    pushed = answer.json()["view"]
    assert pushed["submit"]["text"] == "Schedule it"
    assert f"*Sent:* at <!date^{send_at}^" in blocks_text(pushed)
    confirm(slack, pushed)
    [job] = fake_ovh.wait_for_jobs(1)
    assert job.body["differedPeriod"] >= 59


def test_a_user_group_counts_by_its_members_and_a_confirmed_send_still_names_them(
    costly, fake_ovh, fake_slack
):
    people(fake_slack, UBOB="600000002", UCAROL="600000003", UEVE="600000005")
    fake_slack.usergroup_members = {"SONCALL": ["UBOB", "UCAROL", "UEVE"]}
    slack = SlackSender(costly.url)

    slack.command(f"{ONCALL} Servidor caído", escaped=True)

    view = fake_slack.wait_for_view()
    assert "*This SMS goes to 3 receivers:*" in blocks_text(view)
    assert fake_ovh.jobs == []
    confirm(slack, view)
    [(parent, _reply)] = audit_thread(fake_slack)
    assert "@bob (+34 600 00 00 02), @carol (+34 600 00 00 03), @eve (+34 600 00 00 05)" in blocks_text(
        parent
    )


def test_a_confirmed_follow_up_still_reports_in_the_thread_it_follows(costly, fake_ovh, fake_slack):
    slack = SlackSender(costly.url)
    slack.command("600000001 Primera")
    audit_thread(fake_slack)
    [first] = settled_records(costly)
    message = button_message(fake_slack)
    slack.click(message, button_value(message))
    view = {**fake_slack.wait_for_view(), "id": "V0FOLLOWUP"}

    pushed = slack.submit_modal(view, receivers="600000001, 600000002, 600000003", message="Segunda").json()
    assert pushed["response_action"] == "push"
    confirm(slack, pushed["view"])

    follow_up = settled_records(costly, count=2)[1]
    assert follow_up.follows == first.id and follow_up.audit_ts == first.audit_ts
    assert len([m for m in fake_slack.messages["COPS"] if not m.get("thread_ts")]) == 1
