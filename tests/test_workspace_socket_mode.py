"""The Home tab, its buttons and the Workflow Builder step in Socket Mode: `smsbot run` as a real process,
events over the WebSocket."""

from __future__ import annotations

import re

from tests import test_socket_mode as socket_fixtures
from tests.events import (
    SEND_SMS_OUTPUTS,
    click_payload,
    event_body,
    function_executed_event,
    home_opened_event,
    step_inputs,
)
from tests.harness import blocks_text

# The Socket Mode bot of tests/test_socket_mode.py, one process for this module (pytest finds them by name).
slack_api = socket_fixtures.slack_api
ovh_api = socket_fixtures.ovh_api
socket_mode = socket_fixtures.socket_mode
bot_env = socket_fixtures.bot_env
socket_bot = socket_fixtures.socket_bot


def test_opening_the_home_tab_publishes_it(socket_bot, socket_mode, slack_api):
    # The module's bot is shared: count only what this event publishes (a send elsewhere publishes too).
    before = len([c for c in slack_api.calls_to("views.publish") if c.get("user_id") == "UALICE"])
    envelope = socket_mode.deliver("events_api", event_body(home_opened_event("UALICE")))

    socket_mode.wait_for_ack(envelope)
    shown = blocks_text(slack_api.wait_for_home("UALICE", before + 1))
    assert ":white_check_mark: *You can send SMS*." in shown
    assert re.search(r"\*Credits left:\* \d+", shown)


def test_the_send_button_opens_the_form(socket_bot, socket_mode, slack_api):
    envelope = socket_mode.deliver("interactive", click_payload("home_send_sms", user_id="UALICE"))

    socket_mode.wait_for_ack(envelope)
    [opened] = slack_api.wait_for("views.open")
    assert opened["view"]["callback_id"] == "sms_compose"


def test_the_workflow_step_sends_and_completes(socket_bot, socket_mode, slack_api, ovh_api):
    execution_id, token = slack_api.new_function_execution(SEND_SMS_OUTPUTS)
    inputs = step_inputs(message="Aviso desde Socket Mode", channel="CSTEP")
    envelope = socket_mode.deliver(
        "events_api", event_body(function_executed_event(execution_id, token, inputs))
    )

    socket_mode.wait_for_ack(envelope)
    done = slack_api.wait_for_function(execution_id)
    [job] = [job for job in ovh_api.jobs if job.body["message"] == "Aviso desde Socket Mode"]
    assert done["state"] == "completed" and done["outputs"]["job_ids"] == job.ids
    [record] = socket_bot.settled("CSTEP")
    assert record.request_key == f"function:{execution_id}"


def test_a_redelivered_step_envelope_sends_once(socket_bot, socket_mode, slack_api, ovh_api):
    execution_id, token = slack_api.new_function_execution(SEND_SMS_OUTPUTS)
    body = event_body(
        function_executed_event(execution_id, token, step_inputs(message="Una vez", channel="CONCE"))
    )
    first = socket_mode.deliver("events_api", body)
    socket_mode.wait_for_ack(first)
    slack_api.wait_for_function(execution_id)
    again = socket_mode.deliver("events_api", body, retry_attempt=1, retry_reason="timeout")

    socket_mode.wait_for_ack(again)
    [record] = socket_bot.settled("CONCE")
    socket_fixtures.eventually(
        lambda: (
            f"{record.request_key} was delivered again; send #{record.id} not repeated" in socket_bot.log()
        ),
        "the redelivery turned away",
    )
    assert len([job for job in ovh_api.jobs if job.body["message"] == "Una vez"]) == 1
    calls = [
        c
        for c in slack_api.calls
        if c.method.startswith("functions.") and c.params.get("function_execution_id") == execution_id
    ]
    assert [c.method for c in calls] == ["functions.completeSuccess"]


def test_a_redelivered_envelope_completes_a_step_left_open_from_the_ledger(
    socket_bot, socket_mode, slack_api, ovh_api
):
    # Slack could not take the completion (the SDK retries a 5xx once): the send is settled, its step open.
    slack_api.fail_next("functions.completeSuccess", status=503, times=2)
    execution_id, token = slack_api.new_function_execution(SEND_SMS_OUTPUTS)
    body = event_body(
        function_executed_event(execution_id, token, step_inputs(message="Abierto", channel="COPEN"))
    )
    first = socket_mode.deliver("events_api", body)
    socket_mode.wait_for_ack(first)
    [record] = socket_bot.settled("COPEN")
    socket_fixtures.eventually(
        lambda: f"send #{record.id}: its workflow step was not completed" in socket_bot.log(),
        "the first completion to fail",
    )
    assert slack_api.function_executions[execution_id]["state"] == "running"

    again = socket_mode.deliver("events_api", body, retry_attempt=1, retry_reason="timeout")

    socket_mode.wait_for_ack(again)
    done = slack_api.wait_for_function(execution_id)
    [job] = [job for job in ovh_api.jobs if job.body["message"] == "Abierto"]
    assert done["state"] == "completed" and done["outputs"]["job_ids"] == job.ids
    assert "its step completed from the ledger" in socket_bot.log()
