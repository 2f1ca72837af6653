"""The form's sender, "send later" and "allow replies", and the Cancel button of a scheduled send."""

from __future__ import annotations

import json
import time

import pytest

from bot.domain.records import SendStatus
from tests.harness import SlackSender, all_sends, audit_thread, blocks_text, settled_records


def open_form(bot, fake_slack, user_id="UALICE"):
    bot.core.senders.refresh()  # what the background read at start-up does, done now
    slack = SlackSender(bot.url)
    opened = len(fake_slack.calls_to("views.open"))
    assert slack.command("", user_id=user_id, response_url=fake_slack.new_response_url()).status == 200
    return slack, fake_slack.wait_for_view(opened + 1)


def submit(
    slack, view, *, receivers="+34600000001", message="Hola", sender=None, send_at=None, replies=False
):
    values = {
        "receivers": {"value": {"type": "plain_text_input", "value": receivers}},
        "message": {"value": {"type": "plain_text_input", "value": message}},
    }
    if sender is not None:
        values["sender"] = {"value": {"type": "static_select", "selected_option": {"value": sender}}}
    if send_at is not None:
        values["send_at"] = {"value": {"type": "datetimepicker", "selected_date_time": send_at}}
    if replies:
        values["allow_replies"] = {"value": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}}
    return slack.interaction({"type": "view_submission", "view": {**view, "state": {"values": values}}})


def block(view, block_id):
    return next((b for b in view["blocks"] if b.get("block_id") == block_id), None)


# --- sender -----------------------------------------------------------------------------------------------


def test_the_sender_select_lists_the_accounts_enabled_senders(start_bot, fake_ovh, fake_slack):
    fake_ovh.senders = {"ACME": "enable", "OLDNAME": "disable", "OPS": "enable", "NEW": "waitingValidation"}
    bot = start_bot()
    slack, view = open_form(bot, fake_slack)

    select = block(view, "sender")["element"]
    assert [option["value"] for option in select["options"]] == ["-", "ACME", "OPS"]
    assert select["initial_option"]["value"] == "-"  # the account's default, as without OVH_SMS_SENDER

    assert submit(slack, view, sender="OPS").body == ""
    [job] = fake_ovh.wait_for_jobs(1)
    assert job.body["sender"] == "OPS"
    assert settled_records(bot)[0].sender == "OPS"


def test_with_one_sender_to_choose_from_the_field_is_hidden(start_bot, fake_ovh, fake_slack):
    fake_ovh.senders = {"ACME": "enable", "OLDNAME": "disable"}
    bot = start_bot(OVH_SMS_SENDER="ACME")
    slack, view = open_form(bot, fake_slack)

    assert block(view, "sender") is None
    submit(slack, view)
    assert fake_ovh.wait_for_jobs(1)[0].body["sender"] == "ACME"


def test_a_sender_ovh_no_longer_lists_is_an_inline_error_and_nothing_is_sent(start_bot, fake_ovh, fake_slack):
    fake_ovh.senders = {"ACME": "enable", "OPS": "enable"}
    bot = start_bot()
    slack, view = open_form(bot, fake_slack)
    del fake_ovh.senders["OPS"]  # removed at OVH while the form was open

    answer = submit(slack, view, sender="OPS")

    assert answer.json() == {
        "response_action": "errors",
        "errors": {
            "sender": "OVH no longer lists OPS as an enabled sender of this account. Pick another sender."
        },
    }
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


# --- send later -------------------------------------------------------------------------------------------


def test_a_scheduled_send_goes_with_ovhs_delay_and_its_thread_says_when(start_bot, fake_ovh, fake_slack):
    bot = start_bot()
    slack, view = open_form(bot, fake_slack)
    send_at = int(time.time()) + 2 * 3600

    assert submit(slack, view, send_at=send_at).body == ""

    [job] = fake_ovh.wait_for_jobs(1)
    assert 119 <= job.body["differedPeriod"] <= 120
    [(parent, reply)] = audit_thread(fake_slack)
    assert f"scheduled for <!date^{send_at}^" in blocks_text(parent)
    assert f":alarm_clock: *OVH sends it* <!date^{send_at}^" in blocks_text(reply)
    [record] = settled_records(bot)
    assert record.send_at is not None and int(record.send_at.timestamp()) == send_at
    buttons = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    [button] = [e for e in buttons if e["action_id"] == "sms_cancel_scheduled"]
    assert (button["text"]["text"], button["value"]) == ("Cancel", str(record.id))


@pytest.mark.parametrize(
    ("offset", "error"),
    [
        (-60, "That time has passed. Pick a time to come, or leave the field empty to send now."),
        (31 * 86400, "That is more than 30 days ahead, the most the bot schedules. Pick an earlier time."),
    ],
)
def test_a_time_past_or_too_far_is_an_inline_error(start_bot, fake_ovh, fake_slack, offset, error):
    bot = start_bot()
    slack, view = open_form(bot, fake_slack)

    answer = submit(slack, view, send_at=int(time.time()) + offset, message="Kept as typed")

    assert answer.json() == {"response_action": "errors", "errors": {"send_at": error}}
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


# --- allow replies ----------------------------------------------------------------------------------------


def test_replies_are_offered_where_the_account_takes_them_and_replace_the_sender(
    start_bot, fake_ovh, fake_slack
):
    fake_ovh.senders = {"ACME": "enable"}
    fake_ovh.response_type = "cgi"
    bot = start_bot(OVH_SMS_SENDER="ACME")
    slack, view = open_form(bot, fake_slack)

    assert block(view, "allow_replies") is not None
    submit(slack, view, replies=True)

    [job] = fake_ovh.wait_for_jobs(1)
    assert job.body["senderForResponse"] is True and "sender" not in job.body
    assert settled_records(bot)[0].allow_replies is True


def test_an_account_without_replies_has_no_replies_field(start_bot, fake_ovh, fake_slack):
    bot = start_bot()
    _slack, view = open_form(bot, fake_slack)
    assert block(view, "allow_replies") is None


# --- cancel -----------------------------------------------------------------------------------------------


def scheduled_send(bot, fake_ovh, fake_slack, receivers="+34600000001, +34600000002"):
    fake_ovh.rules.append(("DELETE", "/sms/*/jobs/*"))
    slack, view = open_form(bot, fake_slack)
    submit(slack, view, receivers=receivers, send_at=int(time.time()) + 3600)
    [(_parent, reply)] = audit_thread(fake_slack)
    [record] = settled_records(bot)
    return slack, record, reply


def click_cancel(slack, fake_slack, reply, value, user_id):
    response_url = fake_slack.new_response_url()
    answer = slack.interaction(
        {
            "type": "block_actions",
            "container": {"type": "message", "message_ts": reply["ts"], "channel_id": reply["channel"]},
            "channel": {"id": reply["channel"], "name": "ops"},
            "message": {"ts": reply["ts"], "blocks": reply["blocks"]},
            "response_url": response_url,
            "actions": [
                {
                    "type": "button",
                    "block_id": "scheduled",
                    "action_id": "sms_cancel_scheduled",
                    "value": value,
                }
            ],
        },
        user_id=user_id,
    )
    assert answer.status == 200 and answer.body == ""
    return response_url


def the_reply(fake_slack):
    """The thread reply with its ts, as posted."""
    [(_parent, reply)] = audit_thread(fake_slack)
    call = next(c for c in fake_slack.calls if c.method == "chat.postMessage" and c.params.get("thread_ts"))
    return {**reply, "ts": call.response["ts"]}


def wait_for(condition, what):
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_its_author_cancels_a_scheduled_send_and_the_ledger_and_thread_say_so(
    start_bot, fake_ovh, fake_slack
):
    bot = start_bot()
    slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)
    credits = fake_ovh.credits_left

    reply = the_reply(fake_slack)
    click_cancel(slack, fake_slack, reply, str(record.id), "UALICE")

    wait_for(lambda: bot.ledger.get(record.id).status is SendStatus.CANCELLED, "the send was never cancelled")
    assert sorted(fake_ovh.deleted_jobs) == sorted(record.ovh_job_ids)
    assert fake_ovh.credits_left == credits + 2  # OVH gives the credits back
    cancelled = bot.ledger.get(record.id)
    assert cancelled.cancelled_by == "UALICE" and cancelled.cancelled_at is not None
    # The clicked message (the thread's details) is updated; the parent may be too, with its new headline.
    wait_for(lambda: any(u["ts"] == reply["ts"] for u in fake_slack.calls_to("chat.update")), "not updated")
    [update] = [u for u in fake_slack.calls_to("chat.update") if u["ts"] == reply["ts"]]
    assert "sms_cancel_scheduled" not in json.dumps(update["blocks"])  # the button goes
    assert "*Cancelled* by <@UALICE>: OVH will not send it." in blocks_text(update)

    def replies():
        return [p for p in fake_slack.calls_to("chat.postMessage") if p.get("thread_ts")]

    wait_for(lambda: len(replies()) == 2, "the thread was not told")
    assert "Cancelled: OVH will not send it." in blocks_text(replies()[-1])


def test_anyone_else_is_refused_privately_and_nothing_changes(start_bot, fake_ovh, fake_slack):
    bot = start_bot(SMS_ALLOWED_USERS="UALICE,UBOB")
    slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)

    url = click_cancel(slack, fake_slack, the_reply(fake_slack), str(record.id), "UBOB")

    [refusal] = fake_slack.wait_for_response(url)
    assert "Only the person who scheduled this SMS, or an admin of the bot, can cancel it." in refusal["text"]
    assert fake_ovh.deleted_jobs == []
    assert bot.ledger.get(record.id).status is SendStatus.SENT
    assert bot.ledger.get(record.id).cancelled_at is None


def test_an_admin_may_cancel_anyones_scheduled_send(start_bot, fake_ovh, fake_slack):
    bot = start_bot(SMS_ADMIN_USERS="UBOSS")
    slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)

    click_cancel(slack, fake_slack, the_reply(fake_slack), str(record.id), "UBOSS")

    wait_for(lambda: bot.ledger.get(record.id).status is SendStatus.CANCELLED, "the admin could not cancel")
    assert bot.ledger.get(record.id).cancelled_by == "UBOSS"


def test_a_second_click_is_told_it_was_cancelled_already(start_bot, fake_ovh, fake_slack):
    bot = start_bot()
    slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)
    reply = the_reply(fake_slack)
    click_cancel(slack, fake_slack, reply, str(record.id), "UALICE")
    wait_for(lambda: bot.ledger.get(record.id).status is SendStatus.CANCELLED, "never cancelled")

    url = click_cancel(slack, fake_slack, reply, str(record.id), "UALICE")

    [answer] = fake_slack.wait_for_response(url)
    assert "Someone already cancelled this SMS." in answer["text"]
    assert len(fake_ovh.deleted_jobs) == 2


def test_a_forged_button_value_is_refused(start_bot, fake_ovh, fake_slack):
    bot = start_bot()
    slack, _record, _reply = scheduled_send(bot, fake_ovh, fake_slack)

    url = click_cancel(slack, fake_slack, the_reply(fake_slack), "9999", "UALICE")

    [answer] = fake_slack.wait_for_response(url)
    assert "not in the bot's records" in answer["text"]
    assert fake_ovh.deleted_jobs == []


def test_a_cancel_after_ovh_sent_it_says_it_came_too_late(start_bot, fake_ovh, fake_slack):
    bot = start_bot()
    slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)
    fake_ovh.deliver_queued()  # OVH sent it (as if its time came while the ledger still thinks it is ahead)

    click_cancel(slack, fake_slack, the_reply(fake_slack), str(record.id), "UALICE")

    wait_for(lambda: bot.ledger.get(record.id).cancel_note is not None, "no outcome recorded")
    late = bot.ledger.get(record.id)
    assert late.status is SendStatus.SENT
    assert late.cancel_note == "OVH had sent it already: the cancellation came too late."

    def replies():
        return [p for p in fake_slack.calls_to("chat.postMessage") if p.get("thread_ts")]

    wait_for(lambda: len(replies()) == 2, "the thread was not told")  # everyone in it, not only the clicker
    assert "Cancel asked too late: OVH had sent it already." in blocks_text(replies()[-1])


def test_when_ovh_refuses_to_cancel_nothing_changes_and_it_can_be_tried_again(
    start_bot, fake_ovh, fake_slack
):
    bot = start_bot()
    slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)
    fake_ovh.rules.remove(("DELETE", "/sms/*/jobs/*"))  # a key without the optional rule

    url = click_cancel(slack, fake_slack, the_reply(fake_slack), str(record.id), "UALICE")

    [answer] = fake_slack.wait_for_response(url)
    assert answer["text"].startswith("OVH did not cancel the SMS, so it will still go:")
    kept = bot.ledger.get(record.id)
    assert kept.status is SendStatus.SENT and kept.cancelled_at is None
