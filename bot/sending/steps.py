"""Where a settled send's Workflow Builder step is told the outcome (see :class:`bot.slack.steps.WorkflowSteps`).

A step waits while its send is open: OVH's lost answer leaves it open until recovery learns the outcome.
Whoever settles the send (the live send, recovery, a redelivered event) completes the step, while still
holding the row, and records that it did, so a step is completed once; should Slack refuse a completion
for good (completed already, gone), that is recorded and logged, not tried again.
"""

from __future__ import annotations

from typing import Protocol

from bot.domain.records import SendRecord


class StepFinisher(Protocol):
    """Completes the open step of a settled send: success with its outputs, or an error saying why."""

    def finish(self, record: SendRecord) -> SendRecord:
        """Complete ``record``'s step if it still waits for this settled send; the row as it now is. Never
        raises: a failure Slack may get over leaves the step open (recovery tries again), one it will not
        is recorded as refused."""
        ...
