"""The Workflow Builder step "Send an SMS" (custom step `send_sms`, Slack's `function_executed` event).

Inputs: ``receivers`` (numbers, as in the form), ``message``, ``user`` (the person the step acts for: the
access rules, limits and audit apply to them) and ``channel`` (where the audit thread goes). The send takes
the same path as `/sms`, keyed by the step's execution id, so a redelivered event never sends twice. The
step completes with ``job_ids`` and ``credits_used`` once OVH accepted the send, or with an error that says
why: refused, an invalid number, an OVH failure, or an outcome OVH's lost answer left unknown.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import App
from slack_bolt.context.complete import Complete
from slack_bolt.context.fail import Fail

from bot.domain.errors import InvalidInput, LedgerUnavailable, NotAllowed
from bot.domain.receivers import parse_receivers
from bot.domain.records import DuplicateRequest, SendRecord, SendStatus
from bot.i18n import ENGLISH, N_, Translator
from bot.sending.service import SendRequest
from bot.slack.client import SLACK_FAILURES
from bot.slack.ids import CHANNEL_ID, USER_ID, is_id
from bot.slack.listeners.requester import SendDeps

log = logging.getLogger(__name__)
CALLBACK_ID = "send_sms"
SOURCE = "workflow"


@dataclass(frozen=True)
class WorkflowDeps:
    """What the step needs: the send path (with its workers and audit) and the numbers' default region."""

    sends: SendDeps
    default_region: str | None
    translator: Callable[[str], Translator] = lambda _user_id: ENGLISH  # the language of the step's person


class _Refused(Exception):
    """The step's inputs cannot make a send; the message says which and how to fix the step."""


def register(app: App, deps: WorkflowDeps) -> None:
    """Bind the custom step (Bolt acknowledges the event before the listener runs)."""
    app.function(CALLBACK_ID)(partial(handle_step, deps=deps))


def handle_step(
    event: dict[str, Any], inputs: dict[str, Any], complete: Complete, fail: Fail, *, deps: WorkflowDeps
) -> None:
    """Read the inputs, then send on the send workers; the step is completed (or failed) from there."""
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
        _fail(fail, t._(_message(error)), execution_id)
        return
    deps.sends.workers.submit(partial(_send, request, deps, complete, fail, t))


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
        request_key=f"function:{execution_id}",
        source=SOURCE,
        user_id=user,
        channel_id=channel,
        team_id=team if isinstance(team, str) else None,
        receivers=parse_receivers(receivers, deps.default_region),
        message=message,
    )


def _message(error: Exception) -> str:
    return (
        error.user_message if isinstance(error, InvalidInput | NotAllowed | LedgerUnavailable) else str(error)
    )


def _send(
    request: SendRequest, deps: WorkflowDeps, complete: Complete, fail: Fail, t: Translator = ENGLISH
) -> None:
    """The whole send on a send worker, then the step's outcome."""
    request = dataclasses.replace(request, language=t.language)  # the audit in the step's person's language
    try:
        reported = deps.sends.sending.send_and_report(request, deps.sends.audit)
    except DuplicateRequest as duplicate:
        # A redelivery: the first delivery sends and completes the step; nothing is sent again.
        log.info("%s was delivered again; send #%d not repeated", request.request_key, duplicate.existing.id)
        return
    except (NotAllowed, InvalidInput, LedgerUnavailable) as refusal:
        _fail(fail, t._(refusal.user_message), request.request_key)
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
    finish(reported.record, complete, fail, t)
    deps.sends.after_send(request.user_id)


def finish(record: SendRecord, complete: Complete, fail: Fail, t: Translator = ENGLISH) -> None:
    """Complete the step from a settled send: success with its outputs once OVH accepted it, else why not."""
    if record.status is SendStatus.SENT:
        outputs = {"job_ids": list(record.ovh_job_ids), "credits_used": record.credits_used or 0.0}
        _call(lambda: complete(outputs=outputs), record.request_key)
    elif record.status is SendStatus.UNKNOWN:
        lost = t._(
            "OVH's answer was lost: the SMS may or may not have gone out. The bot checks with OVH and reports in "
            "the audit thread (send #{id}); do not run the step again before reading it."
        )
        _fail(fail, lost.format(id=record.id), record.request_key)
    else:
        reason = record.error_message or t._("OVH sent nothing.")
        _fail(fail, t._("Not sent: {reason}").format(reason=reason), record.request_key)


def _fail(fail: Fail, message: str, key: str) -> None:
    _call(lambda: fail(error=message), key)


def _call(action: Callable[[], object], key: str) -> None:
    """Tell Slack the step's outcome; a refusal is logged (the send itself is recorded and audited)."""
    try:
        action()
    except SLACK_FAILURES as error:
        log.warning("the outcome of workflow step %s was not taken by Slack: %s", key, error)
