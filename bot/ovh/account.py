"""Read-only questions to OVH: the key's credential, the SMS services, credits, the sender, OVH's own count
of a text, and the trace of a send whose answer was lost. Used by `smsbot check`, dry runs and recovery;
nothing here can send an SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from ovh import exceptions as ovh_errors

from bot.domain.records import OvhTrace
from bot.ovh.client import OvhClient
from bot.ovh.errors import key_error, translate_error
from bot.settings import Settings

# Receivers and credits of a traced send are read one SMS at a time; a huge send is summarised beyond this.
TRACE_DETAILS = 100
# OVH's clock and ours may differ: an SMS created up to this long before our row can still be ours.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Credential:
    """The consumer key in use, as ``GET /auth/currentCredential`` describes it."""

    status: str  # validated, pendingValidation, expired or refused
    rules: tuple[tuple[str, str], ...]  # (method, path pattern); `*` in a path matches any characters
    expiration: datetime | None  # None: the key never expires


@dataclass(frozen=True)
class SmsAccount:
    """One SMS service of the account (``GET /sms/{serviceName}``)."""

    name: str
    status: str | None  # "enable" when usable
    credits_left: float | None


@dataclass(frozen=True)
class Estimate:
    """OVH's own count for a text (``POST /sms/estimate``)."""

    parts: int
    characters: int
    characters_class: str  # "7bits" or "unicode"


class OvhAccount:
    """The read-only queries; each raises :class:`~bot.domain.errors.DeliveryError` when OVH fails."""

    def __init__(self, client: OvhClient, *, no_stop_clause: bool = True) -> None:
        self._client = client
        self.no_stop_clause = no_stop_clause

    @classmethod
    def from_settings(cls, settings: Settings) -> OvhAccount:
        """The queries on the account the bot runs with."""
        return cls(OvhClient.from_settings(settings), no_stop_clause=settings.ovh_no_stop_clause)

    def current_credential(self) -> Credential:
        """The consumer key's status, access rules and expiry (any key may read its own credential).

        When OVH refuses the keys themselves, the code says which one is wrong:
        ``invalid_application_key``, ``invalid_consumer_key`` or ``invalid_signature`` (the secret).
        """
        path = "/auth/currentCredential"
        try:
            answer = self._client.raw.get(path)
        except ovh_errors.APIError as error:
            raise key_error(error) or translate_error(error, path, posts=False) from error
        return Credential(
            status=str(answer.get("status") or ""),
            rules=tuple(
                (str(rule.get("method") or "").upper(), str(rule.get("path") or ""))
                for rule in answer.get("rules") or []
            ),
            expiration=datetime.fromisoformat(answer["expiration"]) if answer.get("expiration") else None,
        )

    def list_services(self) -> list[str]:
        """The account's SMS services (``GET /sms``)."""
        return [str(name) for name in self._client.call("get", "/sms")]

    def account(self, service: str) -> SmsAccount | None:
        """A service's status and credits left, or None when the account has no such SMS service."""
        path = f"/sms/{quote(service, safe='')}"
        try:
            answer = self._client.raw.get(path)
        except ovh_errors.ResourceNotFoundError:
            return None
        except ovh_errors.APIError as error:
            raise translate_error(error, path, service=service, posts=False) from error
        credits = answer.get("creditsLeft")
        return SmsAccount(
            name=service,
            status=answer.get("status"),
            credits_left=float(credits) if credits is not None else None,
        )

    def credits_left(self) -> float | None:
        """The SMS credits left on the service the bot sends with (None if OVH does not say).

        Raises :class:`DeliveryError`, or :class:`ConfigurationError` when there is no service to use.
        """
        answer = self._client.call("get", f"/sms/{self._client.service_name()}")
        credits = answer.get("creditsLeft")
        return float(credits) if credits is not None else None

    def sender_status(self, service: str, sender: str) -> str | None:
        """A sender's status on a service (``enable``, ``disable``, ``refused``, ``waitingValidation``),
        or None when it is not registered there."""
        path = f"/sms/{quote(service, safe='')}/senders/{quote(sender, safe='')}"
        try:
            answer = self._client.raw.get(path)
        except ovh_errors.ResourceNotFoundError:
            return None
        except ovh_errors.APIError as error:
            raise translate_error(error, path, sender_id=sender, service=service, posts=False) from error
        return str(answer.get("status") or "")

    def estimate(self, message: str) -> Estimate:
        """OVH's count of characters and parts for ``message``, with the bot's STOP-mention setting.

        Needs the key rule ``POST /sms/estimate``, which sending does not.
        """
        sender_id = self._client.sender_id
        sender_type = "numeric" if sender_id and sender_id.lstrip("+").isdigit() else "alpha"
        answer = self._client.call(
            "post",
            "/sms/estimate",
            message=message,
            noStopClause=self.no_stop_clause,
            senderType=sender_type,
        )
        return Estimate(
            parts=int(answer.get("parts") or 0),
            characters=int(answer.get("characters") or 0),
            characters_class=str(answer.get("charactersClass") or ""),
        )

    def trace(self, tag: str, receivers: list[str], message: str, since: datetime) -> OvhTrace:
        """What OVH knows of a send recorded at ``since``: the SMS it sent with ``tag``
        (``GET /sms/{sn}/outgoing?tag=``), and the jobs still in its queue for these receivers with this
        message (``GET /sms/{sn}/jobs``; OVH's schema gives pending jobs no tag, so receiver and text are
        matched). Only SMS to one of ``receivers`` created after ``since`` count: a tag reused by another
        database on the same account must not pass for this send.

        Used by recovery to settle a send whose answer was lost, before ever sending it again.
        """
        service = self._client.service_name()
        wanted = set(receivers)
        earliest = since - CLOCK_SKEW
        sms_ids: list[int] = []
        found: list[str] = []
        credits = 0.0
        outgoing = [int(sms_id) for sms_id in self._client.call("get", f"/sms/{service}/outgoing", tag=tag)]
        for sms_id in outgoing[:TRACE_DETAILS]:
            sms = self._client.call("get", f"/sms/{service}/outgoing/{sms_id}")
            if _ours(sms, wanted, earliest):
                sms_ids.append(sms_id)
                found.append(str(sms["receiver"]))
                credits += float(sms.get("credits") or 0)
        # Beyond the details read, a tagged SMS is taken as ours: it cannot be another send's of this database.
        sms_ids.extend(outgoing[TRACE_DETAILS:])
        pending: list[int] = []
        incomplete = False
        if not sms_ids:
            queued = [int(job_id) for job_id in self._client.call("get", f"/sms/{service}/jobs")]
            incomplete = len(queued) > TRACE_DETAILS
            for job_id in queued[-TRACE_DETAILS:]:  # the newest: a lost send's job is a recent one
                job = self._client.call("get", f"/sms/{service}/jobs/{job_id}")
                if (job.get("tag") == tag or job.get("message") == message) and _ours(job, wanted, earliest):
                    pending.append(job_id)
                    found.append(str(job["receiver"]))
                    credits += float(job.get("credits") or 0)
        return OvhTrace(
            service=service,
            sms_ids=sms_ids,
            receivers=found,
            credits=credits,
            pending_job_ids=pending,
            incomplete=incomplete and not pending,
        )


def _ours(sms: dict[str, Any], receivers: set[str], earliest: datetime) -> bool:
    """Whether an SMS or job OVH lists goes to one of ``receivers`` and was created since ``earliest``."""
    if sms.get("receiver") not in receivers:
        return False
    try:
        created = datetime.fromisoformat(str(sms.get("creationDatetime")))
    except ValueError:
        return True  # no readable date: the receiver (and tag or text) decide
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created >= earliest
