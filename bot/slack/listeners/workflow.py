"""The Workflow Builder step "Send an SMS" (custom step `send_sms`, Slack's `function_executed` event).

Inputs: ``receivers`` (numbers, as in the form), ``message``, ``user`` (the person the step acts for: the
access rules, limits and audit apply to them) and ``channel`` (where the audit thread goes). The send takes
the same path as `/sms`, keyed by the step's execution id, so a redelivered event never sends twice. The
step completes with ``job_ids`` and ``credits_used`` once OVH accepted the send, or with an error that says
why: refused, an invalid number, an OVH failure. While the outcome is unknown (OVH's answer was lost) the
step stays open: recovery completes it once OVH says. A redelivered event whose send is settled but whose
step is still open (its first delivery died before completing it) completes it from the ledger.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import App
from slack_bolt.context.fail import Fail
from slack_sdk import WebClient

from bot.domain.errors import (
    ANSWER_NOT_RECORDED,
    RECORDED_NOT_SENT,
    InvalidInput,
    LedgerUnavailable,
    NotAllowed,
)
from bot.domain.receivers import parse_receivers
from bot.domain.records import DuplicateRequest, SendRecord
from bot.i18n import ENGLISH, N_, Translator
from bot.sending.service import SendRequest
from bot.slack.client import SLACK_FAILURES
from bot.slack.ids import CHANNEL_ID, USER_ID, is_id
from bot.slack.listeners.requester import SendDeps
from bot.slack.steps import WorkflowSteps, execution_key

log = logging.getLogger(__name__)
CALLBACK_ID = "send_sms"
SOURCE = "workflow"
# A database failure after the send was recorded: recovery settles it and completes the step then.
_RECORDED = (RECORDED_NOT_SENT, ANSWER_NOT_RECORDED)


@dataclass(frozen=True)
class WorkflowDeps:
    """What the step needs: the send path (with its workers and audit) and the numbers' default region."""

    sends: SendDeps
    default_region: str | None
    steps: WorkflowSteps  # completes a step from its settled send (with the bot's token; see `via`)
    translator: Callable[[str], Translator] = lambda _user_id: ENGLISH  # the language of the step's person


class _Refused(Exception):
    """The step's inputs cannot make a send; the message says which and how to fix the step."""


def register(app: App, deps: WorkflowDeps) -> None:
    """Bind the custom step (Bolt acknowledges the event before the listener runs)."""
    app.function(CALLBACK_ID)(partial(handle_step, deps=deps))


def handle_step(
    event: dict[str, Any], inputs: dict[str, Any], client: WebClient, fail: Fail, *, deps: WorkflowDeps
) -> None:
    """Read the inputs, then send on the send workers; the step is completed (or failed) from there.
    ``client`` carries the execution's own token (Bolt attaches it)."""
    execution_id = event.get("function_execution_id")
    if not isinstance(execution_id, str) or not execution_id:
        log.warning("a function_executed event without its execution id was ignored")
        return
    user = (inputs or {}).get("user")
    t = deps.translator(user) if is_id(USER_ID, user) else ENGLISH
    try:
        request = _request(execution_id, inputs or {}, deps, event)
        deps.sends.sending.check_content(request.receivers, request.message, opt_outs=False)
    except (_Refused, InvalidInput) as error:
        _fail(fail, _message(error, t), execution_id)
        return
    deps.sends.workers.submit(partial(_send, request, deps, deps.steps.via(client), fail, t))


def _request(
    execution_id: str, inputs: dict[str, Any], deps: WorkflowDeps, event: dict[str, Any]
) -> SendRequest:
    user, channel = inputs.get("user"), inputs.get("channel")
    if not is_id(USER_ID, user):
        raise _Refused(N_("The step's `user` input must be a Slack user (the person the SMS is sent for)."))
    if not is_id(CHANNEL_ID, channel):
        raise _Refused(
            N_("The step's `channel` input must be a Slack channel (where the audit thread goes).")
        )
    receivers, message = inputs.get("receivers"), inputs.get("message")
    if not isinstance(receivers, str) or not receivers.strip():
        raise _Refused(
            N_("The step's `receivers` input is empty: give one or more phone numbers, like +34600000001.")
        )
    if not isinstance(message, str):
        raise _Refused(N_("The step's `message` input is empty: give the text to send."))
    function = event.get("function")
    team = function.get("team_id") if isinstance(function, dict) else None
    return SendRequest(
        request_key=execution_key(execution_id),
        source=SOURCE,
        user_id=user,
        channel_id=channel,
        team_id=team if isinstance(team, str) else None,
        receivers=parse_receivers(receivers, deps.default_region),
        message=message,
        step=True,
    )


def _message(error: Exception, t: Translator) -> str:
    return error.user_message_in(t) if isinstance(error, InvalidInput) else t._(str(error))


def _send(
    request: SendRequest, deps: WorkflowDeps, steps: WorkflowSteps, fail: Fail, t: Translator = ENGLISH
) -> None:
    """The whole send on a send worker; the step is completed as it settles (see bot/slack/steps.py)."""
    request = dataclasses.replace(request, language=t.language)  # the audit in the step's person's language
    try:
        reported = deps.sends.sending.send_and_report(request, deps.sends.audit, step=steps)
    except DuplicateRequest as duplicate:
        _again(duplicate.existing, request, steps)
        return
    except LedgerUnavailable as error:
        if error.message in _RECORDED:  # the send is in the ledger: recovery settles it, then the step
            log.warning("%s: the ledger failed mid-send; the step waits for recovery", request.request_key)
        else:
            _fail(fail, error.user_message_in(t), request.request_key)
        return
    except (NotAllowed, InvalidInput) as refusal:
        _fail(fail, refusal.user_message_in(t), request.request_key)
        return
    except Exception:
        log.exception("the workflow step %s hit an unexpected error", request.request_key)
        _fail(
            fail,
            t._(
                "The bot hit an unexpected error: the SMS may or may not have gone out. Check the audit thread "
                "before running the step again, and tell an admin."
            ),
            request.request_key,
        )
        return
    deps.sends.after_send(reported.record)


def _again(existing: SendRecord, request: SendRequest, steps: WorkflowSteps) -> None:
    """A redelivered event: nothing is sent again; a settled send whose step still waits completes it
    (its first delivery died before it could), an open one is left to whoever settles it."""
    if existing.step_owed:
        log.info(
            "%s was delivered again; send #%d not repeated, its step completed from the ledger",
            request.request_key,
            existing.id,
        )
        steps.finish(existing)
    else:
        log.info("%s was delivered again; send #%d not repeated", request.request_key, existing.id)


def _fail(fail: Fail, message: str, key: str) -> None:
    """Fail a step no send was recorded for (nothing to complete later); a refusal by Slack is logged."""
    try:
        fail(error=message)
    except SLACK_FAILURES as error:
        log.warning("the outcome of workflow step %s was not taken by Slack: %s", key, error)
