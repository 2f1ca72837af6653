"""The Workflow Builder step `send_sms`: a `function_executed` event in, a send, the step completed (or
failed with why) through the fake Slack's functions.completeSuccess / completeError, with the execution's
own token. HTTP mode here; Socket Mode in tests/test_workspace_socket_mode.py."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

from slack_sdk import WebClient

from bot.domain.records import SendStatus, StepStatus
from bot.sending.recovery import RecoveryReport
from tests.events import SEND_SMS_OUTPUTS, event_body, function_executed_event, step_inputs
from tests.harness import SlackSender, all_sends, audit_thread, blocks_text, settled_records

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"


def run_step(slack, fake_slack, inputs: dict, *, headers: dict | None = None, execution=None):
    execution_id, token = execution or fake_slack.new_function_execution(SEND_SMS_OUTPUTS)
    body = event_body(function_executed_event(execution_id, token, inputs))
    answer = slack.post(json.dumps(body), headers={"Content-Type": "application/json", **(headers or {})})
    assert answer.status == 200
    return execution_id, token


def test_the_step_sends_and_completes_with_the_job_ids_and_credits(bot, slack, fake_slack, fake_ovh):
    execution_id, _ = run_step(slack, fake_slack, step_inputs(receivers="+34600000001, 611111111"))

    done = fake_slack.wait_for_function(execution_id)
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == ["+34600000001", "+34611111111"]
    assert job.body["message"] == "Hola desde un flujo"
    assert done["state"] == "completed"
    assert done["outputs"] == {"job_ids": job.ids, "credits_used": 2.0}
    [record] = settled_records(bot)
    assert (record.source, record.request_key) == ("workflow", f"function:{execution_id}")
    assert (record.user_id, record.channel_id, record.status) == ("UALICE", "COPS", SendStatus.SENT)
    [(parent, _reply)] = audit_thread(fake_slack)
    assert "<@UALICE> sent an SMS to +34 600 00 00 01, +34 611 11 11 11" in blocks_text(parent)
    [completion] = [c for c in fake_slack.calls if c.method == "functions.completeSuccess"]
    assert completion.status == 200 and completion.error is None


def test_a_person_who_may_not_send_gets_the_step_failed_with_why(bot, slack, fake_slack, fake_ovh):
    execution_id, _ = run_step(slack, fake_slack, step_inputs(user="UBOB"))

    done = fake_slack.wait_for_function(execution_id)
    assert done["state"] == "failed"
    assert "You are not allowed to send SMS with this bot" in done["error"]
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_an_invalid_number_fails_the_step_and_nothing_is_sent(bot, slack, fake_slack, fake_ovh):
    execution_id, _ = run_step(slack, fake_slack, step_inputs(receivers="+34600000001, +3460"))

    done = fake_slack.wait_for_function(execution_id)
    assert done["state"] == "failed" and "`+3460` is too short" in done["error"]
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_inputs_that_are_not_slack_ids_fail_the_step(bot, slack, fake_slack, fake_ovh):
    execution_id, _ = run_step(slack, fake_slack, step_inputs(channel="#ops"))

    done = fake_slack.wait_for_function(execution_id)
    assert (
        done["error"] == "The step's `channel` input must be a Slack channel (where the audit thread goes)."
    )
    assert fake_ovh.jobs == []


def test_an_ovh_refusal_fails_the_step_with_ovhs_reason(bot, slack, fake_slack, fake_ovh):
    fake_ovh.fail_next(400, message="Invalid sender", method="POST")

    execution_id, _ = run_step(slack, fake_slack, step_inputs())

    done = fake_slack.wait_for_function(execution_id)
    assert done["state"] == "failed" and done["error"].startswith("Not sent: ")
    assert settled_records(bot)[0].status is SendStatus.FAILED


def _step_calls(fake_slack, execution_id: str) -> list:
    return [
        c
        for c in fake_slack.calls
        if c.method.startswith("functions.") and c.params.get("function_execution_id") == execution_id
    ]


def test_an_unknown_outcome_leaves_the_step_open_and_recovery_completes_it_once(
    start_bot, fake_slack, fake_ovh
):
    bot = start_bot(unknown_grace_seconds=0)
    fake_ovh.fail_next(502, method="POST", after_processing=True)  # OVH took it; its answer was lost

    execution_id, _ = run_step(SlackSender(bot.url), fake_slack, step_inputs())

    [record] = settled_records(bot)
    assert record.status is SendStatus.UNKNOWN and record.step_status is StepStatus.OPEN
    assert fake_slack.function_executions[execution_id]["state"] == "running"
    assert _step_calls(fake_slack, execution_id) == []
    fake_slack.expire_function_token(execution_id)  # recovery comes long after the event's token ran out

    report = bot.recover()

    assert report.found_at_ovh == [record.id] and report.steps_finished == [record.id]
    done = fake_slack.wait_for_function(execution_id)
    settled = bot.ledger.get(record.id)
    assert done["state"] == "completed"
    assert done["outputs"] == {"job_ids": settled.ovh_job_ids, "credits_used": settled.credits_used}
    assert settled.step_status is StepStatus.COMPLETED
    assert bot.recover().steps_finished == []
    assert [c.method for c in _step_calls(fake_slack, execution_id)] == ["functions.completeSuccess"]
    assert len(fake_ovh.jobs) == 1


def test_an_unknown_outcome_recovery_gives_up_on_fails_the_step_saying_why(start_bot, fake_slack, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    fake_ovh.fail_next(502, method="POST")  # lost before OVH took it: OVH has no trace
    fake_ovh.fail_next(502, method="POST")  # and the one more attempt fails alike

    execution_id, _ = run_step(SlackSender(bot.url), fake_slack, step_inputs())
    [record] = settled_records(bot)
    assert record.status is SendStatus.UNKNOWN
    assert bot.recover().sent_again == [record.id]  # unknown again: the step still waits
    assert fake_slack.function_executions[execution_id]["state"] == "running"

    assert bot.recover().given_up == [record.id]

    done = fake_slack.wait_for_function(execution_id)
    assert done["state"] == "failed"
    assert done["error"].startswith("Not sent: OVH has no trace of this send after 2 attempts")
    assert fake_ovh.jobs == []


def test_a_step_slack_will_not_complete_is_logged_and_not_tried_again(
    start_bot, fake_slack, fake_ovh, caplog
):
    bot = start_bot(unknown_grace_seconds=0)
    fake_ovh.fail_next(502, method="POST", after_processing=True)
    execution_id, token = run_step(SlackSender(bot.url), fake_slack, step_inputs())
    [record] = settled_records(bot)
    # Meanwhile the step ended otherwise (someone completed it, or Slack gave up on it).
    WebClient(token=token, base_url=fake_slack.api_url).functions_completeError(
        function_execution_id=execution_id, error="stopped by hand"
    )

    assert bot.recover().found_at_ovh == [record.id]

    assert bot.ledger.get(record.id).step_status is StepStatus.REFUSED
    assert "Slack refused to complete its workflow step" in caplog.text
    assert "function_execution_not_found" in caplog.text
    assert bot.recover() == RecoveryReport()
    assert [c.method for c in _step_calls(fake_slack, execution_id)] == [
        "functions.completeError",
        "functions.completeSuccess",
    ]
    assert fake_slack.function_executions[execution_id]["error"] == "stopped by hand"


def test_a_step_slack_could_not_take_is_completed_by_recovery(bot, slack, fake_slack, fake_ovh):
    fake_slack.fail_next("functions.completeSuccess", status=503, times=2)  # the SDK retries a 5xx once

    execution_id, _ = run_step(slack, fake_slack, step_inputs())

    [record] = settled_records(bot)
    assert record.status is SendStatus.SENT
    assert bot.ledger.get(record.id).step_status is StepStatus.OPEN
    assert bot.recover().steps_finished == [record.id]
    assert fake_slack.wait_for_function(execution_id)["state"] == "completed"
    assert bot.ledger.get(record.id).step_status is StepStatus.COMPLETED
    assert len(fake_ovh.jobs) == 1


def test_a_step_slack_still_refuses_is_tried_again_after_a_while_not_at_every_pass(
    bot, slack, fake_slack, fake_ovh
):
    # The live send's try and recovery's first one (the SDK retries a 5xx once) are refused.
    fake_slack.fail_next("functions.completeSuccess", status=503, times=4)
    execution_id, _ = run_step(slack, fake_slack, step_inputs())
    [record] = settled_records(bot)

    assert bot.recover().steps_finished == []
    tries = len(_step_calls(fake_slack, execution_id))
    assert bot.recover().steps_finished == []  # the next pass leaves it: Slack is asked again later

    assert len(_step_calls(fake_slack, execution_id)) == tries
    assert bot.ledger.get(record.id).step_status is StepStatus.OPEN


def test_a_redelivered_event_sends_once(bot, slack, fake_slack, fake_ovh, caplog):
    caplog.set_level(logging.INFO, logger="bot.slack.listeners.workflow")
    fake_ovh.hold_jobs()
    execution = fake_slack.new_function_execution(SEND_SMS_OUTPUTS)
    run_step(slack, fake_slack, step_inputs(), execution=execution)
    fake_ovh.wait_for_held(1)

    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    run_step(slack, fake_slack, step_inputs(), execution=execution, headers=retry)
    run_step(slack, fake_slack, step_inputs(), execution=execution, headers={"X-Slack-Retry-Num": "2"})
    # Both redeliveries are turned away while OVH still holds the first send (Bolt acks an event before its
    # listener runs: released earlier, the send could settle first and the race would decide the outcome).
    deadline = time.monotonic() + 5
    while len([r for r in caplog.records if "was delivered again" in r.getMessage()]) < 2:
        assert time.monotonic() < deadline, "the two redeliveries were not both turned away"
        time.sleep(0.01)
    fake_ovh.release_jobs()

    done = fake_slack.wait_for_function(execution[0])
    settled_records(bot)
    assert done["state"] == "completed"
    assert len(fake_ovh.jobs) == 1 and len(all_sends(bot.ledger)) == 1
    calls = [c for c in fake_slack.calls if c.method.startswith("functions.")]
    assert [c.method for c in calls] == ["functions.completeSuccess"]


def test_another_apps_step_is_not_ours(bot, slack, fake_slack, fake_ovh):
    execution_id, token = fake_slack.new_function_execution(SEND_SMS_OUTPUTS)
    body = event_body(function_executed_event(execution_id, token, step_inputs(), callback_id="other_step"))
    # Bolt answers 404 to an event no listener takes, as to any unhandled request.
    assert slack.post(json.dumps(body), headers={"Content-Type": "application/json"}).status == 404
    run_step(slack, fake_slack, step_inputs(message="second"))  # a step of ours after it, as a marker

    settled_records(bot)
    assert [job.body["message"] for job in fake_ovh.jobs] == ["second"]
    assert fake_slack.function_executions[execution_id]["state"] == "running"


def test_the_manifest_declares_the_step_the_bot_serves():
    text = MANIFEST.read_text()
    step = text[text.index("functions:") : text.index("oauth_config:")]
    assert "\n  send_sms:\n" in step
    inputs = step[step.index("input_parameters:") : step.index("output_parameters:")]
    outputs = step[step.index("output_parameters:") :]
    assert re.findall(r"^      (\w+):$", inputs, re.M) == ["receivers", "message", "user", "channel"]
    assert re.findall(r"^      (\w+):$", outputs, re.M) == list(SEND_SMS_OUTPUTS)
    assert re.findall(r"^        type: (\S+)$", outputs, re.M) == list(SEND_SMS_OUTPUTS.values())
    assert "      - function_executed" in text and "function_runtime: remote" in text


def test_the_steps_error_is_in_the_language_of_the_person_it_acts_for(bot, slack, fake_slack, fake_ovh):
    fake_slack.users["UBOB"] = {"locale": "es-ES"}

    execution_id, _ = run_step(slack, fake_slack, step_inputs(user="UBOB"))

    done = fake_slack.wait_for_function(execution_id)
    assert done["error"].startswith("No tienes permiso para enviar SMS con este bot.")
    assert fake_ovh.jobs == []
