"""The OVH side: sends SMS jobs with the official `ovh` client and turns its answers and errors into ours.

Nothing outside this module knows about `ovh` exceptions or OVH's JSON. Every failure becomes a
:class:`~bot.domain.errors.DeliveryError` whose message says what happened and what to do, and whether the SMS
may have gone out anyway (``maybe_sent``), which decides whether a retry could send twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import ovh
import requests
from ovh import exceptions as ovh_errors
from ovh.client import ENDPOINTS

from bot.domain.errors import ConfigurationError, DeliveryError
from bot.domain.records import SendResult
from bot.settings import Settings

log = logging.getLogger(__name__)

# OVHcloud suggests batches of about 500 receivers per job.
MAX_RECEIVERS_PER_JOB = 500
REQUIRED_RULES = ("GET /sms", "GET /sms/*", "POST /sms/*/jobs")
_KEY_HELP = "the README's OVH section lists the exact rules to grant"
# Receivers and credits of a traced send are read one SMS at a time; a huge send is summarised beyond this.
TRACE_DETAILS = 100
# OVH's clock and ours may differ: an SMS created up to this long before our row can still be ours.
CLOCK_SKEW = timedelta(minutes=5)
_NOTHING_SENT = {
    "timeout": "OVH did not answer in time. Nothing was sent: try again in a minute.",
    "unavailable": "OVH's API failed before the send. Nothing was sent: try again later.",
}


@dataclass(frozen=True)
class OvhTrace:
    """The SMS OVH sent under one tag."""

    service: str
    sms_ids: list[int]
    receivers: list[str]
    credits: float
    pending_job_ids: list[int] = field(default_factory=list)
    # OVH holds more pending jobs than were read: a job of this send may be among the others.
    incomplete: bool = False

    @property
    def found(self) -> bool:
        """Whether OVH sent, or still holds in its queue, anything of the send."""
        return bool(self.sms_ids or self.pending_job_ids)


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


def client_factory(settings: Settings) -> Callable[[], ovh.Client]:
    """Build ``ovh.Client`` objects from the settings (each thread gets its own, see :class:`OvhGateway`)."""
    timeout = (settings.ovh_connect_timeout, settings.ovh_read_timeout)

    def make() -> ovh.Client:
        region = settings.ovh_endpoint if settings.ovh_endpoint in ENDPOINTS else "ovh-eu"
        client = ovh.Client(
            endpoint=region,
            application_key=settings.ovh_application_key,
            application_secret=settings.ovh_application_secret,
            consumer_key=settings.ovh_consumer_key,
            timeout=timeout,
        )
        if settings.ovh_endpoint not in ENDPOINTS:
            # The client takes region names only; a proxy or a test server is reached by its base URL.
            client._endpoint = settings.ovh_endpoint
        return client

    return make


class OvhGateway:
    """Sends SMS through ``POST /sms/{serviceName}/jobs``.

    The ``ovh`` client shares one `requests` session per instance, which is not meant for many threads;
    each thread gets its own client (and so its own connection pool and clock offset).
    """

    def __init__(
        self,
        make_client: Callable[[], ovh.Client],
        *,
        service: str | None = None,
        sender: str | None = None,
        no_stop_clause: bool = True,
        max_receivers_per_job: int = MAX_RECEIVERS_PER_JOB,
    ) -> None:
        self._make_client = make_client
        self._local = threading.local()
        self._service = service
        self._service_lock = threading.Lock()
        self.sender = sender
        self.no_stop_clause = no_stop_clause
        self.max_receivers_per_job = max_receivers_per_job

    @classmethod
    def from_settings(cls, settings: Settings) -> OvhGateway:
        """The gateway the bot runs with."""
        return cls(
            client_factory(settings),
            service=settings.ovh_sms_service,
            sender=settings.ovh_sms_sender,
            no_stop_clause=settings.ovh_no_stop_clause,
        )

    @property
    def client(self) -> ovh.Client:
        """This thread's client."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._make_client()
        return client

    def service_name(self) -> str:
        """The SMS service to send with: the configured one, or the account's only one."""
        with self._service_lock:
            if self._service is None:
                services = self._call(self.client.get, "/sms")
                if len(services) != 1:
                    found = ", ".join(services) if services else "none"
                    raise ConfigurationError(
                        "OVH_SMS_SERVICE is not set and the OVH account does not have exactly one SMS service "
                        f"(found: {found}). Set OVH_SMS_SERVICE to the one to use."
                    )
                self._service = services[0]
            return self._service

    def credits_left(self) -> float | None:
        """The SMS credits left on the service (None if OVH does not say)."""
        account = self._call(self.client.get, f"/sms/{self.service_name()}")
        credits = account.get("creditsLeft")
        return float(credits) if credits is not None else None

    def send(
        self,
        *,
        message: str,
        receivers: list[str],
        tag: str,
        before_post: Callable[[], None] | None = None,
    ) -> SendResult:
        """Send one message to E.164 receivers, in as many jobs as OVH needs.

        ``before_post`` runs just before each job is posted (the use case renews its lease there, and
        raises to stop when it lost it). Raises :class:`DeliveryError` if the first job fails. If a later
        job fails, the receivers already sent to are kept in the result and the others are listed as
        rejected with the reason, so the ledger never loses a send that happened; if that job's answer was
        lost, the result says OVH may have sent it (``maybe_sent``), so the send is checked at OVH later.
        """
        service = self.service_name()
        # The clock offset is fetched once per client; fetched here, its failure cannot pass for a lost send.
        self._call(lambda _path: self.client.time_delta, "/auth/time")
        body: dict[str, Any] = {
            "message": message,
            "noStopClause": self.no_stop_clause,
            "charset": "UTF-8",
            "tag": tag,
        }
        if self.sender:
            body["sender"] = self.sender
        else:
            body["senderForResponse"] = False

        job_ids: list[int] = []
        accepted: list[str] = []
        rejected: list[str] = []
        credits_used = 0.0
        credits_left: float | None = None
        partial_error: tuple[str, str] | None = None
        maybe_sent = False
        chunks = [
            receivers[i : i + self.max_receivers_per_job]
            for i in range(0, len(receivers), self.max_receivers_per_job)
        ]
        for index, chunk in enumerate(chunks):
            if before_post is not None:
                before_post()
            try:
                answer = self._call(
                    self.client.post, f"/sms/{service}/jobs", posts=True, receivers=chunk, **body
                )
            except DeliveryError as error:
                if index == 0:
                    raise
                log.warning("job %d of %d for tag %s failed: %s", index + 1, len(chunks), tag, error.code)
                rejected.extend(number for rest in chunks[index:] for number in rest)
                partial_error = (error.code, f"Sent to part of the receivers only: {error.user_message}")
                maybe_sent = error.maybe_sent
                break
            job_ids.extend(int(job_id) for job_id in answer.get("ids", []))
            accepted.extend(answer.get("validReceivers", []))
            rejected.extend(answer.get("invalidReceivers", []))
            credits_used += float(answer.get("totalCreditsRemoved") or 0)
            if answer.get("creditsLeft") is not None:
                credits_left = float(answer["creditsLeft"])
        if credits_left is None:
            credits_left = self._credits_left_if_possible()
        return SendResult(
            service=service,
            job_ids=job_ids,
            accepted=accepted,
            rejected=rejected,
            credits_used=credits_used,
            credits_left=credits_left,
            partial_error=partial_error,
            maybe_sent=maybe_sent,
        )

    def trace(self, tag: str, receivers: list[str], message: str, since: datetime) -> OvhTrace:
        """What OVH knows of a send recorded at ``since``: the SMS it sent with ``tag``
        (``GET /sms/{sn}/outgoing?tag=``), and the jobs still in its queue for these receivers with this
        message (``GET /sms/{sn}/jobs``; OVH's schema gives pending jobs no tag, so receiver and text are
        matched). Only SMS to one of ``receivers`` created after ``since`` count: a tag reused by another
        database on the same account must not pass for this send.

        Used to settle a send whose answer was lost, before ever sending it again.
        """
        service = self.service_name()
        wanted = set(receivers)
        earliest = since - CLOCK_SKEW
        sms_ids: list[int] = []
        found: list[str] = []
        credits = 0.0
        outgoing = [
            int(sms_id) for sms_id in self._call(self.client.get, f"/sms/{service}/outgoing", tag=tag)
        ]
        for sms_id in outgoing[:TRACE_DETAILS]:
            sms = self._call(self.client.get, f"/sms/{service}/outgoing/{sms_id}")
            if _ours(sms, wanted, earliest):
                sms_ids.append(sms_id)
                found.append(str(sms["receiver"]))
                credits += float(sms.get("credits") or 0)
        # Beyond the details read, a tagged SMS is taken as ours: it cannot be another send's of this database.
        sms_ids.extend(outgoing[TRACE_DETAILS:])
        pending: list[int] = []
        incomplete = False
        if not sms_ids:
            queued = [int(job_id) for job_id in self._call(self.client.get, f"/sms/{service}/jobs")]
            incomplete = len(queued) > TRACE_DETAILS
            for job_id in queued[-TRACE_DETAILS:]:  # the newest: a lost send's job is a recent one
                job = self._call(self.client.get, f"/sms/{service}/jobs/{job_id}")
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

    def _credits_left_if_possible(self) -> float | None:
        # Older answers carry no creditsLeft; the balance is a nicety, never worth failing a send for.
        try:
            return self.credits_left()
        except DeliveryError as error:
            log.warning("could not read the credits left: %s", error.code)
            return None

    # Reads for `smsbot check` and dry runs: they change nothing at OVH.

    def current_credential(self) -> Credential:
        """The consumer key's status, access rules and expiry (any key may read its own credential).

        Raises :class:`DeliveryError`. When OVH refuses the keys themselves, the code says which one is
        wrong: ``invalid_application_key``, ``invalid_consumer_key`` or ``invalid_signature`` (the
        application secret).
        """
        path = "/auth/currentCredential"
        try:
            answer = self.client.get(path)
        except ovh_errors.APIError as error:
            raise _key_error(error) or translate_error(error, path) from error
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
        return [str(name) for name in self._call(self.client.get, "/sms")]

    def account(self, service: str) -> SmsAccount | None:
        """A service's status and credits left, or None when the account has no such SMS service."""
        path = f"/sms/{quote(service, safe='')}"
        try:
            answer = self.client.get(path)
        except ovh_errors.ResourceNotFoundError:
            return None
        except ovh_errors.APIError as error:
            raise translate_error(error, path, service=service) from error
        credits = answer.get("creditsLeft")
        return SmsAccount(
            name=service,
            status=answer.get("status"),
            credits_left=float(credits) if credits is not None else None,
        )

    def sender_status(self, service: str, sender: str) -> str | None:
        """A sender's status on a service (``enable``, ``disable``, ``refused``, ``waitingValidation``),
        or None when it is not registered there."""
        path = f"/sms/{quote(service, safe='')}/senders/{quote(sender, safe='')}"
        try:
            answer = self.client.get(path)
        except ovh_errors.ResourceNotFoundError:
            return None
        except ovh_errors.APIError as error:
            raise translate_error(error, path, sender=sender, service=service) from error
        return str(answer.get("status") or "")

    def estimate(self, message: str) -> Estimate:
        """OVH's count of characters and parts for ``message``, with this gateway's STOP-mention setting.

        Needs the key rule ``POST /sms/estimate``, which sending does not; raises :class:`DeliveryError`.
        """
        sender_type = "numeric" if self.sender and self.sender.lstrip("+").isdigit() else "alpha"
        answer = self._call(
            self.client.post,
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

    def _call(self, method: Callable[..., Any], path: str, *, posts: bool = False, **kwargs: Any) -> Any:
        """Call OVH; ``posts`` says whether the call may send SMS, so whether a lost answer may mean sent."""
        try:
            return method(path, **kwargs)
        except ovh_errors.APIError as error:
            translated = translate_error(error, path, sender=self.sender, service=self._service)
            if translated.maybe_sent and not posts:
                translated = DeliveryError(
                    translated.code, _NOTHING_SENT.get(translated.code, translated.user_message)
                )
            raise translated from error


def _key_error(error: ovh_errors.APIError) -> DeliveryError | None:
    """Which of the three keys OVH refused, when it refused the keys themselves."""
    if isinstance(error, ovh_errors.InvalidKey):
        return DeliveryError(
            "invalid_application_key", "OVH does not know the application key in OVH_APPLICATION_KEY."
        )
    if isinstance(error, ovh_errors.InvalidCredential | ovh_errors.NotCredential):
        return DeliveryError(
            "invalid_consumer_key",
            "OVH does not accept the consumer key in OVH_CONSUMER_KEY: it is unknown, was never validated, "
            "or was revoked or expired.",
        )
    if isinstance(error, ovh_errors.BadParametersError) and "signature" in str(error).lower():
        return DeliveryError(
            "invalid_signature",
            "OVH rejected the requests' signature: OVH_APPLICATION_SECRET is not the secret of "
            "OVH_APPLICATION_KEY.",
        )
    return None


def _status(error: ovh_errors.APIError) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


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


def _never_reached_ovh(error: ovh_errors.HTTPError) -> bool:
    """True when the request failed before OVH could have read it (refused or timed-out connection)."""
    cause = error.args[1] if len(error.args) > 1 else error.__cause__
    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(cause, requests.exceptions.ConnectionError) and not isinstance(
        cause, requests.exceptions.ReadTimeout
    ):
        return "NewConnectionError" in repr(cause) or "NameResolutionError" in repr(cause)
    return False


def translate_error(
    error: ovh_errors.APIError, path: str, *, sender: str | None = None, service: str | None = None
) -> DeliveryError:
    """Map an exception of the ``ovh`` client to a :class:`DeliveryError` people can act on."""
    text = str(getattr(error, "args", [""])[0] or "")
    lowered = text.lower()
    status = _status(error)

    if isinstance(error, ovh_errors.NotGrantedCall):
        return DeliveryError(
            "not_granted",
            f"OVH refused the call `{path}`: the bot's consumer key was not granted it. "
            f"An admin must create a key with the rules {', '.join(REQUIRED_RULES)} ({_KEY_HELP}). "
            "Nothing was sent.",
        )
    if isinstance(error, ovh_errors.InvalidKey | ovh_errors.InvalidCredential | ovh_errors.NotCredential) or (
        isinstance(error, ovh_errors.BadParametersError) and "signature" in lowered
    ):
        return DeliveryError(
            "invalid_credentials",
            "OVH rejected the bot's API keys (unknown, revoked or expired, or a wrong secret). "
            "An admin must check OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY "
            f"({_KEY_HELP}). Nothing was sent.",
        )
    if isinstance(error, ovh_errors.Forbidden):
        return DeliveryError(
            "forbidden", f"OVH refused the call `{path}` for this account: {text}. Nothing was sent."
        )
    if isinstance(error, ovh_errors.ResourceNotFoundError):
        return DeliveryError(
            "unknown_service",
            f"OVH has no SMS service `{service or '?'}` on this account. An admin must set OVH_SMS_SERVICE "
            "to one of the account's services (`GET /sms` lists them). Nothing was sent.",
        )
    if "credit" in lowered and status is not None and 400 <= status < 500:
        return DeliveryError(
            "no_credits",
            "The OVH SMS account has no credits left for this send. An admin must add credits in the "
            "OVHcloud Control Panel (Telecom → SMS). Nothing was sent.",
        )
    if isinstance(error, ovh_errors.BadParametersError) and "sender" in lowered:
        return DeliveryError(
            "unknown_sender",
            f"OVH does not accept the sender `{sender}`: it is not registered on the SMS account or not "
            "validated yet. An admin must fix OVH_SMS_SENDER (or leave it empty to use the account's "
            "default sender). Nothing was sent.",
        )
    if isinstance(error, ovh_errors.BadParametersError):
        return DeliveryError("rejected", f"OVH refused the message: {text}. Nothing was sent.")
    if status == 429:
        return DeliveryError(
            "rate_limited",
            "OVH is limiting the bot's requests right now. Nothing was sent: try again in a minute.",
        )
    if isinstance(error, ovh_errors.HTTPError):
        if _never_reached_ovh(error):
            return DeliveryError(
                "unreachable", "OVH's API cannot be reached right now. Nothing was sent: try again later."
            )
        return DeliveryError(
            "timeout",
            "OVH did not answer in time. The SMS may or may not have gone out: check the receivers' phones "
            "or the OVH history before sending it again.",
            maybe_sent=True,
        )
    if status == 503:
        return DeliveryError(
            "unavailable",
            "OVH's SMS service is unavailable right now (HTTP 503). Nothing was sent: try again later.",
        )
    if isinstance(error, ovh_errors.InvalidResponse) or (status is not None and status >= 500):
        shown = f"HTTP {status}" if status else "an unreadable answer"
        return DeliveryError(
            "unavailable",
            f"OVH's API failed while taking the send ({shown}). The SMS may or may not have gone out: "
            "check the OVH history before sending it again.",
            maybe_sent=True,
        )
    return DeliveryError("ovh_error", f"OVH answered with an error: {text or type(error).__name__}.")
