"""Posting one SMS job to OVH (``POST /sms/{serviceName}/jobs``) and reading its answer.

The use case splits a send into jobs and decides what a failed job means; this module only posts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ovh import exceptions as ovh_errors

from bot.domain.errors import ConfigurationError, DeliveryError
from bot.domain.records import JobOptions, JobResult
from bot.domain.schedule import differed_minutes
from bot.ovh.client import OvhClient
from bot.ovh.errors import translate_error
from bot.settings import Settings

log = logging.getLogger(__name__)


class OvhGateway:
    """Posts SMS jobs. Thread-safe (see :class:`~bot.ovh.client.OvhClient`)."""

    def __init__(
        self, client: OvhClient, *, no_stop_clause: bool = True, allow_replies: bool = False
    ) -> None:
        self._client = client
        self.no_stop_clause = no_stop_clause
        # SMS_ALLOW_REPLIES: ask OVH for a sender people can answer (senderForResponse).
        self.allow_replies = allow_replies

    @classmethod
    def from_settings(cls, settings: Settings) -> OvhGateway:
        """The gateway the bot runs with."""
        return cls(OvhClient.from_settings(settings), no_stop_clause=settings.ovh_no_stop_clause)

    @property
    def sender_id(self) -> str | None:
        """The sender the SMS go out from (OVH_SMS_SENDER), or None for the account's default."""
        return self._client.sender_id

    def post(
        self, *, message: str, receivers: list[str], tag: str, options: JobOptions | None = None
    ) -> JobResult:
        """Post one job of ``message`` to E.164 ``receivers`` (at most about 500), tagged ``tag``, from
        ``options.sender`` (None: the account's default; no options: OVH_SMS_SENDER), held by OVH until
        ``options.send_at``, or from OVH's short number that receivers can answer (``allow_replies``).

        Raises :class:`DeliveryError` (``maybe_sent`` when the answer was lost after OVH may have taken
        the job) or :class:`ConfigurationError` (no SMS service to send with).
        """
        service = self._client.service_name()
        self._client.sync_clock()
        body: dict[str, Any] = {
            "message": message,
            "noStopClause": self.no_stop_clause,
            "charset": "UTF-8",
            "tag": tag,
            "receivers": receivers,
        }
        options = options or JobOptions(sender=self.sender_id)
        if options.allow_replies or self.allow_replies:
            # OVH's short number people can answer (the form's choice, or SMS_ALLOW_REPLIES): it replaces
            # any sender name.
            body["senderForResponse"] = True
        elif options.sender:
            body["sender"] = options.sender
        else:
            body["senderForResponse"] = False
        # Counted when the job is posted, so a send recovery posts late still goes at its time (or at once).
        if minutes := differed_minutes(options.send_at, datetime.now(UTC)):
            body["differedPeriod"] = minutes
        answer = self._client.call("post", f"/sms/{service}/jobs", posts=True, **body)
        credits_left = answer.get("creditsLeft")
        # OVH's report always has these fields. One without them says nothing of what was sent: it raises
        # (KeyError), and the use case records the send as maybe sent instead of "every receiver rejected".
        return JobResult(
            service=service,
            job_ids=[int(job_id) for job_id in answer["ids"]],
            accepted=list(answer["validReceivers"]),
            rejected=list(answer["invalidReceivers"]),
            credits_used=float(answer.get("totalCreditsRemoved") or 0),
            credits_left=float(credits_left) if credits_left is not None else None,
        )

    def credits_left(self) -> float | None:
        """The SMS credits left on the service, or None if OVH does not say or cannot be asked (the balance
        is a nicety after a send, never worth failing it for)."""
        try:
            account = self._client.call("get", f"/sms/{self._client.service_name()}")
        except (DeliveryError, ConfigurationError) as error:
            log.warning("could not read the credits left: %s", getattr(error, "code", "configuration"))
            return None
        credits = account.get("creditsLeft")
        return float(credits) if credits is not None else None

    def job_sent(self, service: str, job_id: int) -> bool:
        """Whether OVH sent this job: it lists it among the account's sent SMS (``GET /sms/{sn}/outgoing/{id}``).
        Raises :class:`DeliveryError` when OVH cannot be asked."""
        return self._found("get", service, f"outgoing/{int(job_id)}")

    def cancel_job(self, service: str, job_id: int) -> bool:
        """Take back a job OVH still holds (``DELETE /sms/{sn}/jobs/{id}``): False if OVH no longer has it
        (it went out already). Raises :class:`DeliveryError` when OVH cannot be asked."""
        return self._found("delete", service, f"jobs/{int(job_id)}")

    def _found(self, method: str, service: str, rest: str) -> bool:
        """Call ``method /sms/{service}/{rest}``: False when OVH has no such object (404), True otherwise;
        any other failure is raised as a :class:`DeliveryError` naming the call."""
        try:
            getattr(self._client.raw, method)(f"/sms/{quote(service, safe='')}/{rest}")
        except ovh_errors.ResourceNotFoundError:
            return False
        except ovh_errors.APIError as error:
            raise translate_error(error, f"/sms/{service}/{rest}", service=service, posts=False) from error
        return True
