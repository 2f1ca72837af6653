"""The audit thread's "Follow up" button: the form for the same receivers, its audit in the same thread, and
clicks refused to who may not send and for values that name another thread."""

from __future__ import annotations

import json

import pytest

from tests.harness import SlackSender, all_sends, audit_thread, blocks_text, settled_records


def button_message(fake_slack, channel: str = "COPS", send_id: int | None = None) -> dict:
    """The thread reply holding a send's "Follow up" button, as Slack keeps it."""
    for message in fake_slack.messages.get(channel, []):
        for block in message.get("blocks", []):
            if block.get("type") == "actions":
                [button] = block["elements"]
                if send_id is None or button["value"] == str(send_id):
                    return message
    raise AssertionError(f"no Follow up button in {channel}")


def button_value(message: dict) -> str:
    [block] = [b for b in message["blocks"] if b.get("type") == "actions"]
    return block["elements"][0]["value"]


def told(fake_slack, url: str) -> str:
    [reply] = fake_slack.wait_for_response(url)
    return blocks_text(reply)


@pytest.fixture
def first_send(bot, slack, fake_slack):
    fake_slack.users["UBOB"] = {"name": "bob", "profile": {"phone": "600000002"}}
    bot.core.contacts.add("taller", "+34600000009", "UBOSS")
    slack.command("+34600000001 <@UBOB|bob> @taller Primera", escaped=True)
    audit_thread(fake_slack)
    [record] = settled_records(bot)
    return record


def test_follow_up_opens_the_form_for_the_same_receivers_and_reports_in_the_same_thread(
    bot, slack, fake_slack, fake_ovh, first_send
):
    message = button_message(fake_slack)
    assert button_value(message) == str(first_send.id)
    assert message["thread_ts"] == first_send.audit_ts

    answer = slack.click(message, button_value(message))

    assert answer.status == 200 and answer.body == ""
    view = fake_slack.wait_for_view()
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert blocks["receivers"]["element"]["initial_value"] == "+34 600 00 00 01, @taller"
    assert blocks["people"]["element"]["initial_users"] == ["UBOB"]
    assert json.loads(view["private_metadata"])["follows"] == first_send.id
    view["id"] = "V0FOLLOWUP"

    slack.submit_modal(view, receivers="+34 600 00 00 01, @taller", message="Segunda", people=["UBOB"])

    records = settled_records(bot, count=2)
    follow_up = records[1]
    assert follow_up.follows == first_send.id and follow_up.thread_ts == first_send.audit_ts
    assert follow_up.audit_ts == first_send.audit_ts and follow_up.channel_id == "COPS"
    assert fake_ovh.jobs[1].body["receivers"] == ["+34600000001", "+34600000009", "+34600000002"]
    in_thread = [m for m in fake_slack.messages["COPS"] if m.get("thread_ts") == first_send.audit_ts]
    parents = [m for m in fake_slack.messages["COPS"] if not m.get("thread_ts")]
    assert len(parents) == 1  # the follow-up posted no new parent in the channel
    assert any("> Segunda" in blocks_text(m) for m in in_thread)
    # The follow-up's own reply has its button too, and it names the follow-up.
    assert button_value(button_message(fake_slack, send_id=follow_up.id)) == str(follow_up.id)


def test_a_click_from_someone_who_may_not_send_is_refused_privately(bot, slack, fake_slack, first_send):
    url = fake_slack.new_response_url()
    message = button_message(fake_slack)

    slack.click(message, button_value(message), user_id="UMALLORY", response_url=url)

    assert "You are not allowed to send SMS" in told(fake_slack, url)
    assert fake_slack.calls_to("views.open") == []


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("not-a-number", "This button does not belong to this thread"),
        ("999", "That send is no longer in the bot's ledger"),
    ],
)
def test_a_button_value_names_a_row_and_nothing_else(bot, slack, fake_slack, first_send, value, says):
    url = fake_slack.new_response_url()

    slack.click(button_message(fake_slack), value, response_url=url)

    assert says in told(fake_slack, url)
    assert fake_slack.calls_to("views.open") == []


def test_a_value_naming_another_threads_send_is_refused(bot, slack, fake_slack, first_send):
    slack.command("+34600000003 Otra")
    settled_records(bot, count=2)
    other = all_sends(bot.ledger)[1]
    url = fake_slack.new_response_url()

    # The first thread's button, its value changed to name the second send: the row says its thread is
    # elsewhere.
    slack.click(button_message(fake_slack, send_id=first_send.id), str(other.id), response_url=url)
    # The button clicked in another channel than the row's.
    SlackSender(bot.url).click(button_message(fake_slack), str(first_send.id), channel_id="CRANDOM")

    assert "This button does not belong to this thread" in told(fake_slack, url)
    assert fake_slack.calls_to("views.open") == []


def test_a_follow_up_submitted_after_its_send_left_the_ledger_is_not_sent(
    bot, slack, fake_slack, fake_ovh, first_send
):
    message = button_message(fake_slack)
    slack.click(message, button_value(message))
    view = fake_slack.wait_for_view()
    view["id"] = "V0FOLLOWUP"
    metadata = json.loads(view["private_metadata"]) | {"follows": 12345}
    view["private_metadata"] = json.dumps(metadata)

    answer = slack.submit_modal(view, receivers="+34600000001", message="Tarde")

    assert "no longer in the bot's ledger" in answer.json()["errors"]["receivers"]
    assert len(fake_ovh.jobs) == 1


def test_a_follow_ups_parent_whose_answer_was_lost_is_found_in_the_thread_not_posted_twice(
    bot, slack, fake_slack, fake_ovh, first_send
):
    message = button_message(fake_slack)
    slack.click(message, button_value(message))
    view = fake_slack.wait_for_view()
    view["id"] = "V0FOLLOWUP"
    lost = []

    def lose_once(method, params):
        parent = (params.get("metadata") or {}).get("event_type") == "smsbot_send"
        if method == "chat.postMessage" and parent and params.get("thread_ts") and not lost:
            lost.append(params)
            return True
        return False

    fake_slack.lose_answer_if = lose_once

    slack.submit_modal(view, receivers="+34 600 00 00 01, @taller", message="Segunda", people=["UBOB"])

    settled_records(bot, count=2)
    assert lost  # Slack took the follow-up's parent, and its answer never came back
    in_thread = [m for m in fake_slack.messages["COPS"] if m.get("thread_ts") == first_send.audit_ts]
    assert sum("> Segunda" in blocks_text(m) for m in in_thread) == 1


def test_a_follow_up_whose_thread_was_deleted_starts_its_own(bot, slack, fake_slack, fake_ovh, first_send):
    message = button_message(fake_slack)
    slack.click(message, button_value(message))
    view = fake_slack.wait_for_view()
    view["id"] = "V0FOLLOWUP"
    # Someone deleted the first send's parent message (and so its thread) meanwhile.
    fake_slack.messages["COPS"] = [m for m in fake_slack.messages["COPS"] if m["ts"] != first_send.audit_ts]

    slack.submit_modal(view, receivers="+34600000001", message="Segunda")

    follow_up = settled_records(bot, count=2)[1]
    assert follow_up.audit_status == "thread" and follow_up.audit_ts != first_send.audit_ts
    [parent] = [m for m in fake_slack.messages["COPS"] if m["ts"] == follow_up.audit_ts]
    assert "> Segunda" in blocks_text(parent) and "thread_ts" not in parent
    assert button_value(button_message(fake_slack, send_id=follow_up.id)) == str(follow_up.id)


def test_a_follow_ups_delivery_summary_goes_on_its_own_parent_not_the_threads(
    bot, slack, fake_slack, fake_ovh, first_send
):
    from tests.delivery_support import run_pass

    fake_slack.joined.add("COPS")  # the bot reads the thread to find the follow-up's own parent
    message = button_message(fake_slack)
    slack.click(message, button_value(message))
    view = fake_slack.wait_for_view()
    view["id"] = "V0FOLLOWUP"
    slack.submit_modal(view, receivers="+34600000001", message="Segunda")
    follow_up = settled_records(bot, count=2)[1]
    first_parent = next(m for m in fake_slack.messages["COPS"] if m["ts"] == first_send.audit_ts)
    first_text = blocks_text(first_parent)

    run_pass(bot)

    # The thread's parent still tells of the first send (whose own summary may be added to it) ...
    first_now = blocks_text(next(m for m in fake_slack.messages["COPS"] if m["ts"] == first_send.audit_ts))
    assert "Primera" in first_now and "Segunda" not in first_now
    assert first_now.startswith(first_text.split("\n")[0])
    # ... and the follow-up's own parent, a reply in that thread, got the follow-up's summary.
    [own] = [
        m
        for m in fake_slack.messages["COPS"]
        if (m.get("metadata") or {}).get("event_type") == "smsbot_send"
        and m["metadata"]["event_payload"]["send_id"] == follow_up.id
    ]
    assert own["thread_ts"] == first_send.audit_ts
    assert "of 1 delivered" in blocks_text(own)
