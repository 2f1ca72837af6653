"""Completing a Workflow Builder step from its send's settled ledger row (`functions.completeSuccess` /
`functions.completeError`): the live send with the event's own token, recovery and redeliveries alike.

The step's execution id is in the row's request key (``function:<execution id>``); whether the step still
waits is its ``step_status``. Slack refuses a second completion (`function_execution_not_found`, or
`execution_not_in_running_state` for an execution that ended otherwise): that is recorded and logged, and
the step is not tried again. A failure Slack may get over (an outage, a rate limit, a lost connection)
leaves the step open for recovery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.errors import LedgerUnavailable
from bot.domain.records import SendRecord, SendStatus, StepStatus
from bot.i18n import ENGLISH, Translator, in_
from bot.slack.client import SLACK_FAILURES
from bot.storage.ledger import Ledger

log = logging.getLogger(__name__)
EXECUTION_KEY_PREFIX = "function:"
# Slack's answers a later call may not get (anything else is its final word on this execution).
_PASSING = {"ratelimited", "internal_error", "service_unavailable", "fatal_error", "request_timeout"}


def execution_key(execution_id: str) -> str:
    """The ledger's request key of the send a step's execution asked for."""
    return EXECUTION_KEY_PREFIX + execution_id


@dataclass(frozen=True)
class WorkflowSteps:
    """A :class:`bot.sending.steps.StepFinisher` over Slack's Web API.

    ``client`` completes with the app's bot token (recovery, long after the event's own token expired);
    :meth:`via` gives one completing with the event's token, as Bolt's ``complete`` does.
    """

    client: WebClient
    ledger: Ledger
    translator: Callable[[str], Translator] = lambda _user_id: ENGLISH  # the language of the step's person

    def via(self, client: WebClient) -> WorkflowSteps:
        """The same, calling Slack through ``client`` (the one Bolt gave the event's listener)."""
        return replace(self, client=client)

    def finish(self, record: SendRecord) -> SendRecord:
        """Complete the step ``record`` was made for, if it still waits and the send is settled."""
        if not record.step_owed or not record.request_key.startswith(EXECUTION_KEY_PREFIX):
            return record
        execution_id = record.request_key.removeprefix(EXECUTION_KEY_PREFIX)
        try:
            if record.status is SendStatus.SENT:
                outputs = {"job_ids": list(record.ovh_job_ids), "credits_used": record.credits_used or 0.0}
                self.client.functions_completeSuccess(function_execution_id=execution_id, outputs=outputs)
            else:
                error = outcome_error(record, self.translator(record.user_id))
                self.client.functions_completeError(function_execution_id=execution_id, error=error)
        except SlackApiError as error:
            code = str(error.response.get("error"))
            status = getattr(error.response, "status_code", 200)
            if code in _PASSING or status == 429 or status >= 500:
                log.warning(
                    "send #%d: its workflow step was not completed (%s); tried again later", record.id, code
                )
                return record
            log.warning(
                "send #%d: Slack refused to complete its workflow step %s (%s); not tried again",
                record.id,
                execution_id,
                code,
            )
            return self._record(record, StepStatus.REFUSED)
        except SLACK_FAILURES as error:
            log.warning(
                "send #%d: its workflow step was not completed (%s); tried again later", record.id, error
            )
            return record
        log.info("send #%d: workflow step %s completed (%s)", record.id, execution_id, record.status)
        return self._record(record, StepStatus.COMPLETED)

    def _record(self, record: SendRecord, status: StepStatus) -> SendRecord:
        try:
            return self.ledger.record_step(record.id, status)
        except LedgerUnavailable as error:
            # Slack has its answer: should recovery complete the step again, Slack refuses it, and that is all.
            log.warning("send #%d: the step's outcome is not recorded (%s)", record.id, error.reason)
            return replace(record, step_status=status)


def outcome_error(record: SendRecord, t: Translator) -> str:
    """Why a settled send that OVH did not accept fails its step, in the step's person's language."""
    # The reason as kept for telling (in the reader's language), else the ledger's English.
    reason = in_(record.error_text, t) if record.error_text else record.error_message
    reason = reason or t._("OVH sent nothing.")
    return t._("Not sent: {reason}").format(reason=reason)
