"""The Workflow Builder step when the bot dies after OVH accepted its send and before the step was completed:
a real `python -m bot run --http` is killed while Slack holds the audit post whose answer never came back
(as in tests/test_audit_crash.py); the event Slack delivers again completes the step from the ledger."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from bot.domain.records import SendStatus, StepStatus
from tests.events import SEND_SMS_OUTPUTS, step_inputs
from tests.harness import SlackSender, all_sends
from tests.processes import wait_for
from tests.test_workflow_step import run_step


def _is_reply(method: str, params: dict) -> bool:
    return method == "chat.postMessage" and bool(params.get("thread_ts"))


def _step_calls(fake_slack) -> list[str]:
    return [c.method for c in fake_slack.calls if c.method.startswith("functions.")]


def test_a_redelivered_event_completes_from_the_ledger_a_step_whose_bot_died_after_ovh_took_it(
    bot_processes, start_bot, fake_slack, fake_ovh, sqlite_url, caplog
):
    caplog.set_level(logging.INFO, logger="bot.slack.listeners.workflow")
    process = bot_processes("doomed")
    fake_slack.withhold_if = _is_reply  # the audit reply is stored; its answer, and what follows, never come
    execution = fake_slack.new_function_execution(SEND_SMS_OUTPUTS)

    run_step(SlackSender(process.url), fake_slack, step_inputs(), execution=execution)
    wait_for(
        "Slack to store the audit reply", lambda: any(_is_reply(c.method, c.params) for c in fake_slack.calls)
    )
    process.kill()
    fake_slack.release_withheld()

    engine = sa.create_engine(sqlite_url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT status, step_status FROM sms_sends")).one()
    engine.dispose()
    assert tuple(row) == ("sent", "open")
    assert (
        fake_slack.function_executions[execution[0]]["state"] == "running" and _step_calls(fake_slack) == []
    )

    heir = start_bot()  # its recovery does not run here: the dead process's lease still holds the row
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    run_step(SlackSender(heir.url), fake_slack, step_inputs(), execution=execution, headers=retry)

    done = fake_slack.wait_for_function(execution[0])
    [record] = all_sends(heir.ledger)
    assert done["state"] == "completed"
    assert done["outputs"] == {"job_ids": record.ovh_job_ids, "credits_used": record.credits_used}
    assert record.status is SendStatus.SENT and len(fake_ovh.jobs) == 1
    wait_for(
        "the step's completion to be recorded",
        lambda: heir.ledger.get(record.id).step_status is StepStatus.COMPLETED,
    )

    # Once the dead process's lease runs out, recovery posts the audit it left, and completes nothing again.
    with heir.ledger.engine.begin() as conn:
        conn.execute(sa.text("UPDATE sms_sends SET lease_until = NULL"))
    report = heir.recover()
    assert report.reported == [record.id] and report.steps_finished == []
    run_step(
        SlackSender(heir.url),
        fake_slack,
        step_inputs(),
        execution=execution,
        headers={"X-Slack-Retry-Num": "2"},
    )
    wait_for(
        "the second redelivery to be turned away",
        lambda: "delivered again; send #1 not repeated\n" in caplog.text,
    )
    assert heir.recover().steps_finished == []
    assert _step_calls(fake_slack) == ["functions.completeSuccess"]
    assert len(fake_ovh.jobs) == 1
