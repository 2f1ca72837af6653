"""A fake OVHcloud API (the SMS part) that checks signatures exactly as OVH does, and request bodies
against OVH's own API schema (`ovh_sms_schema.json`, the operations served here, copied from OVH's
`/1.0/sms.json`): a body with an unknown field, a missing required one, a wrong type or a value outside an
enumeration (`charset` takes only "UTF-8") is refused with a 400, as OVH refuses it.

Point the official client at it: `client = ovh.Client(endpoint="ovh-eu", ...)`, then
`client._endpoint = fake.endpoint`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import math
import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from http import HTTPStatus
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote

from tests.fakes import FakeServer, HttpRequest, HttpResponse, json_response

DEFAULT_RULES: tuple[tuple[str, str], ...] = (
    ("GET", "/sms"),
    ("GET", "/sms/*"),
    ("POST", "/sms/*/jobs"),
    ("GET", "/auth/currentCredential"),
)
_SIGNATURE_WINDOW = 300  # seconds a timestamp may differ from the server's clock
_INTERNATIONAL = re.compile(r"(?:\+|00)([1-9]\d{5,14})")
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")  # each takes two septets
# What OVH appends to a message sent without `noStopClause` (the number varies by account); it is sent,
# so it counts in the SMS parts and the credits.
STOP_CLAUSE = "\nSTOP au 36180"
_SCHEMA: dict[str, Any] = json.loads(Path(__file__).with_name("ovh_sms_schema.json").read_text())
# OVH's answer to a body its schema refuses; the exact wording of each message is unconfirmed.
_BAD_REQUEST = "Client::BadRequest"


@dataclass(frozen=True)
class Delivery:
    """What the operator reported for an SMS: `receipt` is OVH's `deliveryReceipt` (0 pending, 1 delivered,
    2 failed, 4 pending, 8 buffered, 16 error), `ptt` its status code (4 delivered, 5 undelivered, 23 bad
    number, 24 subscriber absent); `sent_after` and `delivered_after` are seconds after creation (None:
    not yet, and the field is null)."""

    receipt: int = 1
    ptt: int = 4
    sent_after: float | None = 0.0
    delivered_after: float | None = 0.0


DELIVERED = Delivery()


@dataclass(frozen=True)
class Timeline:
    """The states an SMS goes through: `(seconds after its creation, Delivery)` steps, in order. Before the
    first step's time the first step holds. Time is the fake's (`FakeOvh.advance`), so tests choose it."""

    steps: tuple[tuple[float, Delivery], ...]

    def at(self, age: float) -> Delivery:
        """What the operator reported for an SMS this many seconds old."""
        current = self.steps[0][1]
        for when, delivery in self.steps:
            if when <= age:
                current = delivery
        return current


def timeline(*steps: tuple[float, Delivery]) -> Timeline:
    """`timeline((0, PENDING), (60, DELIVERED))`: pending, then delivered a minute after creation."""
    return Timeline(tuple(steps))


PENDING = Delivery(receipt=4, ptt=0, sent_after=0.0, delivered_after=None)
# The operator's words for the codes the fake knows (`GET /sms/ptts`); others are a 404.
PTT_DESCRIPTIONS = {
    4: "Message delivered",
    5: "Message undelivered",
    23: "Unknown number",
    24: "Subscriber absent",
}


@dataclass(frozen=True)
class OvhJob:
    """An accepted `POST /sms/{sn}/jobs`."""

    service: str
    body: dict[str, Any]
    ids: list[int]
    valid: list[str]
    invalid: list[str]
    credits: float
    tag: str


class OvhRequest(NamedTuple):
    """A correctly signed request; `path` is relative to /1.0, `body` the decoded JSON or None."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class _Failure:
    status: int
    error_code: str | None
    message: str
    times: int
    html: bool
    path_contains: str
    method: str | None
    after_processing: bool
    skip: int = 0  # matching requests let through before the failures start
    raw: bytes | None = None  # the exact body to answer instead of OVH's error shape (see `answer_next`)


@dataclass
class _Outgoing:
    id: int
    service: str
    receiver: str
    message: str
    tag: str
    sender: str
    credits: float
    parts: int
    created: datetime
    delivery: Delivery | Timeline
    differed: int = 0  # minutes OVH holds it (differedPeriod)


class FakeOvh(FakeServer):
    """`/auth/*` and `/sms/*` of the OVHcloud API, for the credentials given here.

    Knobs (edit them directly): `services`, `credits_left`, `credits_per_sms`, `senders` (name -> status:
    enable, disable, refused, waitingValidation), `invalid_receivers`, `rules` (granted method and path
    patterns), `clock_skew` (seconds added to the server clock), `delay` (seconds before answering a
    POST jobs), `include_credits_left` (False: the older answer without `creditsLeft`),
    `credential_status` and `credential_expiration` (what `GET /auth/currentCredential` says; None: never).
    `GET /auth/currentCredential` is always allowed, as at OVH; `POST /sms/estimate` needs its own rule.

    Delivery: `delivery` is what the operator reports for each new SMS (`Delivery()`: delivered at once),
    `deliveries` the same per receiver (`"+34600000001": Delivery(receipt=2, ptt=5, delivered_after=None)`);
    `set_delivery()` changes it for an SMS already sent. Dates are written in `utc_offset` (OVH writes its
    local time, `+01:00` in winter); `zoned_datetimes = False` writes them without a zone, as some of OVH's
    answers do.
    """

    def __init__(
        self,
        application_key: str = "fake-app-key",
        application_secret: str = "fake-app-secret",
        consumer_key: str = "fake-consumer-key",
        services: tuple[str, ...] | list[str] = ("sms-tt12345-1",),
        credits_left: float = 100.0,
        senders: dict[str, str] | None = None,
        rules: list[tuple[str, str]] | None = None,
    ):
        super().__init__()
        self.application_key = application_key
        self.application_secret = application_secret
        self.consumer_key = consumer_key
        self.services = list(services)
        self.credits_left = credits_left
        self.credits_per_sms = 1.0
        self.senders: dict[str, str] = dict(senders or {})
        self.invalid_receivers: set[str] = set()
        self.rules: list[tuple[str, str]] = list(rules if rules is not None else DEFAULT_RULES)
        self.clock_skew = 0
        self.delay = 0.0
        self._jobs_gate = threading.Event()
        self._jobs_gate.set()
        self.held = 0  # POST jobs waiting at the gate (see `hold_jobs`)
        self._held_path: str | None = None  # other requests held at the gate (see `hold_requests`)
        self.include_credits_left = True
        # True: accepted jobs wait in OVH's queue (`GET /sms/{sn}/jobs`) until `deliver_queued()`.
        self.queue_jobs = False
        self._pending: dict[int, _Outgoing] = {}
        self.jobs: list[OvhJob] = []
        self.requests: list[OvhRequest] = []
        self.signature_failures = 0
        self._failures: list[_Failure] = []
        self._outgoing: dict[int, _Outgoing] = {}
        self._ids = itertools.count(10_000_001)
        self._query_ids = itertools.count(1)
        self._created = datetime.now(UTC).replace(microsecond=0)
        self.delivery: Delivery | Timeline = DELIVERED
        self.deliveries: dict[str, Delivery | Timeline] = {}
        self.elapsed = 0.0  # seconds the fake's clock is ahead of the real one (see `advance`)
        self.callback_url = ""  # the account's callBack (PUT /sms/{sn} sets it)
        self._incoming: dict[int, dict[str, Any]] = {}
        self._incoming_ids = itertools.count(50_000_001)
        self.utc_offset = timedelta(hours=1)
        self.zoned_datetimes = True
        # OVH's public rates (`GET /sms/rates/destinations`): credits per SMS part by lower-case country;
        # a country of OVH's list that is not here costs `default_rate`. No signature needed, as at OVH.
        self.rates: dict[str, float] = {}
        self.default_rate = 1.0
        self.rate_requests: list[str] = []  # the countries asked for, in order (kept out of `requests`)
        # How the account handles replies (`smsResponse.responseType`: cgi, none or text).
        self.response_type = "none"
        self.deleted_jobs: list[int] = []  # job ids taken back with DELETE /sms/{sn}/jobs/{id}
        self.credential_status = "validated"
        self.credential_expiration: datetime | None = self._created + timedelta(days=365)

    @property
    def endpoint(self) -> str:
        """The API root to put in the client's `_endpoint`: `http://127.0.0.1:PORT/1.0`."""
        return f"{self.base_url}/1.0"

    def server_time(self) -> int:
        """The server clock, as `GET /auth/time` tells it."""
        return int(time.time()) + self.clock_skew

    # --- what tests read and control --------------------------------------------------------------

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[OvhJob]:
        """Wait until at least `count` jobs were accepted; return them all."""

        def ready() -> list[OvhJob] | None:
            return list(self.jobs) if len(self.jobs) >= count else None

        def describe() -> str:
            sent = [(r.method, r.path) for r in self.requests]
            return f"expected {count} job(s) within {timeout}s, got {len(self.jobs)}; requests: {sent}"

        return self._wait_until(ready, timeout, describe)

    def fail_next(
        self,
        status: int,
        *,
        error_code: str | None = None,
        message: str | None = None,
        times: int = 1,
        html: bool = False,
        path_contains: str = "/jobs",
        method: str | None = None,
        after_processing: bool = False,
        skip: int = 0,
    ) -> None:
        """Answer the next `times` signed, granted requests whose path contains `path_contains`
        (and whose HTTP method is `method`, when given) with `status`.

        The body is `{"errorCode": error_code, "message": message}` (no errorCode when None; message
        defaults to the status phrase), or an HTML error page with `html=True`. With
        `after_processing=True` the request is carried out first (a job is recorded and its credits
        deducted), as when OVH sent the SMS but the answer got lost. The first `skip` matching requests
        are answered normally.
        """
        message = message or HTTPStatus(status).phrase
        failure = _Failure(
            status, error_code, message, times, html, path_contains, method, after_processing, skip
        )
        with self._lock:
            self._failures.append(failure)

    def answer_next(
        self,
        body: Any,
        *,
        status: int = 200,
        path_contains: str = "/jobs",
        method: str | None = "POST",
        after_processing: bool = True,
    ) -> None:
        """Answer the next matching request with ``body`` as JSON (bytes: exactly these bytes), after
        carrying it out unless ``after_processing`` is False: an answer in a shape OVH's schema does not
        promise (a list, a field missing or of another type) for a job OVH did take."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        failure = _Failure(status, None, "", 1, False, path_contains, method, after_processing, raw=raw)
        with self._lock:
            self._failures.append(failure)

    def hold_jobs(self) -> None:
        """Hold every `POST /sms/{sn}/jobs` before OVH takes it, until `release_jobs()`: an OVH as slow as
        the test needs, with no timing involved (`wait_for_held` says when the requests arrived)."""
        self._jobs_gate.clear()

    def hold_requests(self, path_contains: str) -> None:
        """Hold every request whose path contains `path_contains` (and every job), until `release_jobs()`:
        an OVH that does not answer a read while the test looks at what the bot does meanwhile."""
        with self._lock:
            self._held_path = path_contains
        self._jobs_gate.clear()

    def release_jobs(self) -> None:
        """Let the held requests, and the next ones, through."""
        with self._lock:
            self._held_path = None
        self._jobs_gate.set()

    def wait_for_held(self, count: int, timeout: float = 5.0) -> int:
        """Wait until at least `count` job requests are held; return how many are."""

        def describe() -> str:
            return f"expected {count} held job request(s) within {timeout}s, {self.held} are"

        return self._wait_until(lambda: self.held if self.held >= count else None, timeout, describe)

    def _wait_at_the_gate(self) -> None:
        with self._lock:
            self.held += 1
        try:
            if not self._jobs_gate.wait(timeout=60):
                raise AssertionError("a job was held for 60 s: the test never released it")
        finally:
            with self._lock:
                self.held -= 1

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward: SMS following a `Timeline` move on as if that much time passed."""
        with self._lock:
            self.elapsed += seconds

    def purge(self, sms_id: int) -> None:
        """OVH forgets an SMS (its history was purged): reading it is a 404."""
        with self._lock:
            self._outgoing.pop(sms_id, None)
            self._pending.pop(sms_id, None)

    def receive(self, sender: str, message: str, *, tag: str = "", ago: float = 0.0) -> int:
        """Someone sends an SMS to the account (a reply): it is listed by `GET /sms/{sn}/incoming`."""
        with self._lock:
            incoming_id = next(self._incoming_ids)
            self._incoming[incoming_id] = {
                "id": incoming_id,
                "sender": sender,
                "message": message,
                "tag": tag,
                "credits": 0.0,
                "created": _now() + timedelta(seconds=self.elapsed - ago),
            }
            return incoming_id

    def garbage_next(
        self, payload: Any, *, path_contains: str, method: str | None = "GET", times: int = 1
    ) -> None:
        """Answer the next `times` matching requests with a 200 whose JSON is `payload` (what OVH's schema
        does not allow: garbage)."""
        raw = json.dumps(payload).encode()
        failure = _Failure(200, None, "", times, False, path_contains, method, False, raw=raw)
        with self._lock:
            self._failures.append(failure)

    def sms_ids(self, receiver: str | None = None) -> list[int]:
        """The ids of the SMS sent (to `receiver`, when given), oldest first."""
        with self._lock:
            return [i for i, sms in self._outgoing.items() if receiver in (None, sms.receiver)]

    def set_delivery(self, sms_id: int, delivery: Delivery | Timeline) -> None:
        """The operator reported something new for an SMS already sent (or still queued)."""
        with self._lock:
            sms = self._outgoing.get(sms_id) or self._pending[sms_id]
            sms.delivery = delivery

    def reset(self) -> None:
        """Forget jobs, requests, sent SMS, signature failures and pending failures; knobs stay."""
        with self._lock:
            self.jobs.clear()
            self.requests.clear()
            self._outgoing.clear()
            self._failures.clear()
            self.signature_failures = 0

    # --- serving ----------------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer like the API, with the query id header OVH adds to every answer."""
        response = self._handle(request)
        query_id = {"X-Ovh-Queryid": f"FAKE.{next(self._query_ids)}"}
        return replace(response, headers=response.headers | query_id)

    def _handle(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/1.0/"):
            return _message(404, "Got an invalid (or empty) URL")
        path = request.path.removeprefix("/1.0")
        if request.method == "GET" and path == "/auth/time":
            return json_response(200, self.server_time())
        if request.method == "GET" and path == "/sms/rates/destinations":
            return self._public_rates(request.query)
        if denied := self._check_signature(request):
            return denied
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            return _message(400, "Invalid JSON received")
        with self._lock:
            self.requests.append(OvhRequest(request.method, path, request.query, body))
        # A key may always read its own credential, whatever its rules.
        reads_itself = request.method == "GET" and path == "/auth/currentCredential"
        if not reads_itself and not any(
            m == request.method and _pattern(p).fullmatch(path) for m, p in self.rules
        ):
            return _error(403, "NOT_GRANTED_CALL", "This call has not been granted")
        if refused := _schema_error(request.method, path, body):
            return json_response(400, {"class": _BAD_REQUEST, "message": refused})
        if request.method == "POST" and path.endswith("/jobs"):
            time.sleep(self.delay)  # outside the lock: other requests go on meanwhile
            self._wait_at_the_gate()
        elif (held := self._held_path) is not None and held in path:
            self._wait_at_the_gate()
        with self._lock:
            failure = self._take_failure(request.method, path)
            if failure is not None and not failure.after_processing:
                return _failure_response(failure)
            response = self._route(request.method, path, request.query, body)
            if failure is not None:
                return _failure_response(failure)
        if response.status == 200 and (
            broken := answer_problems(request.method, path, json.loads(response.body or b"null"))
        ):
            # The fake's own bug: an answer OVH would never give would make the bot pass for the wrong reason.
            return _message(500, f"the fake's answer breaks OVH's schema: {'; '.join(broken)}")
        return response

    def _check_signature(self, request: HttpRequest) -> HttpResponse | None:
        headers = request.headers
        if headers.get("X-Ovh-Application") != self.application_key:
            return _error(403, "INVALID_KEY", "Invalid application key")
        if headers.get("X-Ovh-Consumer") != self.consumer_key:
            return _error(403, "INVALID_CREDENTIAL", "This credential does not exist")
        timestamp = headers.get("X-Ovh-Timestamp", "")
        try:
            fresh = abs(int(timestamp) - self.server_time()) <= _SIGNATURE_WINDOW
            body = request.body.decode()
        except ValueError:
            fresh, body = False, ""
        signed = "+".join(
            [self.application_secret, self.consumer_key, request.method, request.url, body, timestamp]
        )
        expected = "$1$" + hashlib.sha1(signed.encode()).hexdigest()  # noqa: S324 (OVH's scheme is SHA-1)
        if fresh and hmac.compare_digest(expected.encode(), headers.get("X-Ovh-Signature", "").encode()):
            return None
        with self._lock:
            self.signature_failures += 1
        # OVH may word a stale timestamp differently ("Query out of time"); both are a 400.
        return _error(400, "INVALID_SIGNATURE", "Invalid signature")

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.path_contains in path and failure.method in (None, method):
                if failure.skip:
                    failure.skip -= 1
                    return None
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> HttpResponse:
        if method == "GET" and path == "/auth/currentCredential":
            return json_response(200, self._credential())
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if parts == ["sms"] and method == "GET":
            return json_response(200, list(self.services))
        if parts == ["sms", "estimate"] and method == "POST":
            return self._estimate(body)
        if parts == ["sms", "ptts"] and method == "GET":
            return self._ptt(query)
        if parts[0] != "sms":
            return _message(404, "Got an invalid (or empty) URL")
        service, rest = parts[1], parts[2:]
        if service not in self.services:
            return _message(404, f"The requested object (serviceName = {service}) does not exist")
        match method, rest:
            case "GET", []:
                return json_response(200, self._account(service))
            case "PUT", []:
                if isinstance(body, dict) and "callBack" in body:
                    self.callback_url = body["callBack"] or ""
                return json_response(200, None)
            case "GET", ["incoming"]:
                return self._incoming_list(query)
            case "GET", ["incoming", incoming_id] if (
                incoming_id.isdigit() and int(incoming_id) in self._incoming
            ):
                return json_response(200, self._incoming_detail(self._incoming[int(incoming_id)]))
            case "GET", ["senders"]:
                return json_response(200, list(self.senders))
            case "GET", ["senders", sender] if sender in self.senders:
                return json_response(200, _sender(sender, self.senders[sender]))
            case "POST", ["jobs"]:
                return self._send(service, body)
            case "GET", ["jobs"]:
                return json_response(200, [i for i, sms in self._pending.items() if sms.service == service])
            case "DELETE", ["jobs", job_id] if job_id.isdigit() and int(job_id) in self._pending:
                return self._delete_job(int(job_id))
            case "GET", ["jobs", job_id] if job_id.isdigit() and int(job_id) in self._pending:
                return json_response(200, self._pending_detail(self._pending[int(job_id)]))
            case "GET", ["outgoing"]:
                return json_response(200, self._outgoing_ids(service, query))
            case "GET", ["outgoing", sms_id] if sms_id.isdigit() and int(sms_id) in self._outgoing:
                return json_response(200, self._outgoing_detail(self._outgoing[int(sms_id)]))
        return _message(404, f"The requested object ({'/'.join(rest)}) does not exist")

    def _public_rates(self, query: dict[str, str]) -> HttpResponse:
        """`GET /sms/rates/destinations?country=xx`: public, unsigned; failures from `fail_next(path_contains=
        "/rates")` apply to it too."""
        if refused := _query_error("GET", "/sms/rates/destinations", query):
            return json_response(400, {"class": _BAD_REQUEST, "message": refused})
        with self._lock:
            self.rate_requests.append(query["country"])
            failure = self._take_failure("GET", "/sms/rates/destinations")
            if failure is not None:
                return _failure_response(failure)
            credit = self.rates.get(query["country"], self.default_rate)
        return json_response(
            200,
            {
                "country": query["country"].upper(),
                "countryCode": query["country"],
                "credit": credit,
                "price": {"currencyCode": "EUR", "text": f"{credit * 0.07:.3f} €", "value": credit * 0.07},
                "vatRate": 0.2,
            },
        )

    def _credential(self) -> dict[str, Any]:
        return {
            "credentialId": 1,
            "applicationId": 1,
            "status": self.credential_status,
            "rules": [{"method": method, "path": path} for method, path in self.rules],
            "creation": self._date(self._created),
            "expiration": self._date(self.credential_expiration),
            "lastUse": self._date(_now()),
        }

    def _estimate(self, body: Any) -> HttpResponse:
        if not isinstance(body, dict) or not body.get("message"):
            return _message(400, "Missing parameter: message")
        text = _as_sent(body)
        unicode = not all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text)
        parts = _sms_parts(text)
        per_part = (70 if parts == 1 else 67) if unicode else (160 if parts == 1 else 153)
        # OVH counts "invisible escaped characters" too: an extension character takes two septets.
        characters = (
            len(text.encode("utf-16-le")) // 2
            if unicode
            else len(text) + sum(c in _GSM7_EXTENSION for c in text)
        )
        return json_response(
            200,
            {
                "characters": characters,
                "charactersClass": "unicode" if unicode else "7bits",
                "parts": parts,
                "maxCharactersPerPart": per_part,
            },
        )

    def _account(self, service: str) -> dict[str, Any]:
        return {
            "name": service,
            "description": "",
            "status": "enable",
            "creditsLeft": self.credits_left,
            "creditsHoldByQuota": 0,
            "userQuantityWithQuota": 0,
            "smsResponse": {
                "responseType": self.response_type,
                "cgiUrl": "",
                "text": "",
                "trackingOptions": [],
            },
            "callBack": self.callback_url,
        }

    def _send(self, service: str, body: Any) -> HttpResponse:
        if not isinstance(body, dict) or not body.get("message"):
            return _message(400, "Missing parameter: message")
        sender = body.get("sender")
        if sender is not None and sender not in self.senders:
            return _message(400, f"Sms sender {sender} does not exists")
        if sender is not None and self.senders[sender] != "enable":
            return _message(400, f"Sms sender {sender} is not enabled")
        receivers = body.get("receivers") or []
        if not isinstance(receivers, list):
            return _message(400, "Invalid parameter: receivers")
        refused = {_international(r) for r in self.invalid_receivers}
        valid: list[str] = []
        invalid: list[Any] = []
        for receiver in receivers:
            number = _international(receiver)
            (valid if number is not None and number not in refused else invalid).append(receiver)
        parts = _sms_parts(_as_sent(body))
        credits_each = parts * self.credits_per_sms
        credits = credits_each * len(valid)
        if credits > self.credits_left:
            # OVH's exact wording for this error is unconfirmed.
            return _message(400, "Not enough credits to send this message")
        self.credits_left -= credits
        ids = [next(self._ids) for _ in valid]
        tag = body.get("tag") or ""
        self.jobs.append(OvhJob(service, body, ids, valid, invalid, credits, tag))
        for sms_id, receiver in zip(ids, valid, strict=True):
            number = _international(receiver) or receiver
            delivery = self.deliveries.get(number, self.delivery)
            sms = _Outgoing(
                sms_id,
                service,
                number,
                body["message"],
                tag,
                sender or "",
                credits_each,
                parts,
                _now(),
                delivery,
            )
            sms.differed = int(body.get("differedPeriod") or 0)
            # A deferred job waits in OVH's queue (GET /sms/{sn}/jobs) until its time, and can be deleted.
            (self._pending if self.queue_jobs or sms.differed else self._outgoing)[sms_id] = sms
        answer = {
            "ids": ids,
            "validReceivers": valid,
            "invalidReceivers": invalid,
            "totalCreditsRemoved": credits,
            "tag": tag,
        }
        if self.include_credits_left:
            answer["creditsLeft"] = self.credits_left
        return json_response(200, answer)

    def _delete_job(self, job_id: int) -> HttpResponse:
        """`DELETE /sms/{sn}/jobs/{id}`: a job still queued is taken back and its credits given back."""
        sms = self._pending.pop(job_id)
        self.credits_left += sms.credits
        self.deleted_jobs.append(job_id)
        return json_response(200, None)

    def deliver_queued(self) -> None:
        """OVH works through its queue: the pending jobs are sent."""
        with self._lock:
            self._outgoing.update(self._pending)
            self._pending.clear()

    def _outgoing_ids(self, service: str, query: dict[str, str]) -> list[int]:
        receiver = _international(query["receiver"]) if "receiver" in query else None
        return [
            sms.id
            for sms in self._outgoing.values()
            if sms.service == service
            and query.get("tag", sms.tag) == sms.tag
            and ("receiver" not in query or sms.receiver == receiver)
        ]

    def _date(self, moment: datetime | None) -> str | None:
        """A date as OVH writes it: its local time, with or without the zone (see `zoned_datetimes`)."""
        if moment is None:
            return None
        local = moment.astimezone(UTC).astimezone(timezone(self.utc_offset))
        return local.isoformat() if self.zoned_datetimes else local.replace(tzinfo=None).isoformat()

    def _later(self, sms: _Outgoing, seconds: float | None) -> str | None:
        return None if seconds is None else self._date(sms.created + timedelta(seconds=seconds))

    def _ptt(self, query: dict[str, str]) -> HttpResponse:
        raw = query.get("ptt", "")
        if not raw.lstrip("-").isdigit():
            return _message(400, "Missing or invalid parameter: ptt")
        described = PTT_DESCRIPTIONS.get(int(raw))
        if described is None:
            return _message(404, f"The requested object (ptt = {raw}) does not exist")
        return json_response(200, {"comment": "", "description": described, "duration": "permanent"})

    def _incoming_list(self, query: dict[str, str]) -> HttpResponse:
        since = query.get("creationDatetime.from")
        try:
            earliest = datetime.fromisoformat(since) if since else None
        except ValueError:
            return _message(400, "Invalid parameter: creationDatetime.from")
        if earliest is not None and earliest.tzinfo is None:
            earliest = earliest.replace(tzinfo=UTC)
        return json_response(
            200,
            [
                sms["id"]
                for sms in self._incoming.values()
                if (earliest is None or sms["created"] >= earliest)
                and query.get("sender", sms["sender"]) == sms["sender"]
                and query.get("tag", sms["tag"]) == sms["tag"]
            ],
        )

    def _incoming_detail(self, sms: dict[str, Any]) -> dict[str, Any]:
        # The fields of OVH's sms.Incoming.
        return {
            "id": sms["id"],
            "sender": sms["sender"],
            "message": sms["message"],
            "tag": sms["tag"],
            "credits": sms["credits"],
            "creationDatetime": self._date(sms["created"]),
        }

    def _delivery_now(self, sms: _Outgoing) -> Delivery:
        if isinstance(sms.delivery, Timeline):
            age = (_now() - sms.created).total_seconds() + self.elapsed
            return sms.delivery.at(age)
        return sms.delivery

    def _outgoing_detail(self, sms: _Outgoing) -> dict[str, Any]:
        # The fields of OVH's sms.Outgoing.
        delivery = self._delivery_now(sms)
        return {
            "id": sms.id,
            "receiver": sms.receiver,
            "message": sms.message,
            "messageLength": len(sms.message),
            "numberOfSms": sms.parts,
            "tag": sms.tag,
            "sender": sms.sender,
            "deliveryReceipt": delivery.receipt,
            "ptt": delivery.ptt,
            "credits": sms.credits,
            "differedDelivery": 0,
            "creationDatetime": self._date(sms.created),
            "sentAt": self._later(sms, delivery.sent_after),
            "deliveredAt": self._later(sms, delivery.delivered_after),
            "batchID": None,
            "messageID": None,
            "tariffCode": None,
        }

    def _pending_detail(self, sms: _Outgoing) -> dict[str, Any]:
        # The fields of OVH's sms.Job, which names no tag.
        return {
            "id": sms.id,
            "receiver": sms.receiver,
            "message": sms.message,
            "sender": sms.sender,
            "credits": sms.credits,
            "creationDatetime": self._date(sms.created),
            "sentAt": None,
            "deliveredAt": None,
            "differedDelivery": sms.differed,
            "numberOfSms": sms.parts,
            "messageLength": len(sms.message),
            "ptt": 0,
            "deliveryReceipt": 0,
        }


def _pattern(rule_path: str) -> re.Pattern[str]:
    """An access rule's path as OVH reads it: `*` matches any characters, `/` included."""
    return re.compile(".*".join(re.escape(piece) for piece in rule_path.split("*")))


def _international(receiver: Any) -> str | None:
    """`+digits` for a number in international format (`+…` or `00…`), else None."""
    match = _INTERNATIONAL.fullmatch(receiver) if isinstance(receiver, str) else None
    return "+" + match.group(1) if match else None


def _sms_parts(text: str) -> int:
    """SMS parts for a text: GSM-7 160 / 153 per part (extension chars count twice), else 70 / 67."""
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text):
        length, single, per_part = len(text) + sum(c in _GSM7_EXTENSION for c in text), 160, 153
    else:
        length, single, per_part = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if length <= single else math.ceil(length / per_part)


def _sender(name: str, status: str) -> dict[str, Any]:
    return {"sender": name, "status": status, "type": "alpha", "comment": "", "description": ""}


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _as_sent(body: dict[str, Any]) -> str:
    """The text OVH sends: the message, and the STOP clause unless `noStopClause` is true."""
    return str(body["message"]) + ("" if body.get("noStopClause") else STOP_CLAUSE)


def _schema_key(method: str, path: str) -> str | None:
    """The schema's operation for a concrete path (`/sms/sms-x-1/jobs` matches `/sms/{serviceName}/jobs`)."""
    parts = path.strip("/").split("/")
    for route in _SCHEMA["routes"]:
        route_method, template = route.split(" ", 1)
        pieces = template.strip("/").split("/")
        if (
            route_method == method
            and len(pieces) == len(parts)
            and all(p == q or p.startswith("{") for p, q in zip(pieces, parts, strict=True))
        ):
            return route
    return None


def _schema_route(method: str, path: str) -> dict[str, Any] | None:
    """The schema's parameters for a concrete path."""
    route = _schema_key(method, path)
    return None if route is None else _SCHEMA["routes"][route]


def answer_problems(method: str, path: str, answer: Any) -> list[str]:
    """What in an answer to `method path` OVH's schema does not promise: a field its model does not have,
    a value of another type or outside its enumeration. Empty when the answer fits (or the operation is
    not in the schema)."""
    route = _schema_key(method, path)
    if route is None:
        return []
    answer_type = _SCHEMA["answers"][route]
    if answer is None:
        return [] if answer_type == "void" else [f"answer: null where OVH answers a {answer_type}"]
    return _value_problems(answer_type, answer, "answer")


def _value_problems(type_name: str, value: Any, where: str) -> list[str]:
    if type_name == "void":
        return [f"{where}: {value!r} where OVH answers nothing"]
    if type_name.endswith("[]"):
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not an array"]
        return [
            problem
            for index, item in enumerate(value)
            for problem in _value_problems(type_name[:-2], item, f"{where}[{index}]")
        ]
    if type_name in _SCHEMA["models"]:
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not an object of {type_name}"]
        fields = _SCHEMA["models"][type_name]
        problems = [
            f"{where}.{name}: not a field of {type_name}" for name in sorted(set(value) - set(fields))
        ]
        for name, item in value.items():
            if name in fields and item is not None:  # OVH gives null for what it does not know
                problems += _value_problems(fields[name], item, f"{where}.{name}")
        return problems
    if type_name.startswith("map["):
        return [] if isinstance(value, dict) else [f"{where}: {value!r} is not an object"]
    if type_name == "datetime":
        try:
            datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return [f"{where}: {value!r} is not a datetime"]
        return []
    problem = _type_error(type_name, value)
    return [] if problem is None else [f"{where}: {problem}"]


def _schema_error(method: str, path: str, body: Any) -> str | None:
    """Why OVH's schema refuses this body (unknown, missing or mistyped parameters), or None."""
    params = _schema_route(method, path)
    if params is None:
        return None  # not an operation of the schema: routing answers it (404)
    expected = {name: spec for name, spec in params.items() if spec["in"] == "body"}
    if body is None:
        body = {}
    if not isinstance(body, dict):
        return "Invalid body: a JSON object was expected"
    if unknown := sorted(set(body) - set(expected)):
        return f"Invalid parameter(s): {', '.join(unknown)} (not a parameter of {method} {path})"
    if missing := [name for name, spec in expected.items() if spec["required"] and body.get(name) is None]:
        return f"Missing parameter(s): {', '.join(sorted(missing))}"
    for name, value in body.items():
        if value is not None and (problem := _type_error(expected[name]["type"], value)):
            return f"[{name}] {problem}"
    return None


def _query_error(method: str, path: str, query: dict[str, str]) -> str | None:
    """Why OVH's schema refuses this query string (a required parameter missing, a value outside its
    enumeration), or None."""
    params = _schema_route(method, path) or {}
    for name, spec in params.items():
        if spec["in"] != "query":
            continue
        if name not in query:
            if spec["required"]:
                return f"Missing parameter(s): {name}"
            continue
        if spec["type"] in _SCHEMA["enums"] and (problem := _type_error(spec["type"], query[name])):
            return f"[{name}] {problem}"
    return None


def _type_error(type_name: str, value: Any) -> str | None:
    """Why `value` is not of OVH's type `type_name` (`string`, `long`, `sms.CharsetEnum`, `string[]`...)."""
    if type_name.endswith("[]"):
        if not isinstance(value, list):
            return f"Given data ({value!r}) is not an array"
        return next((error for item in value if (error := _type_error(type_name[:-2], item))), None)
    if type_name.startswith("sms.") and type_name not in _SCHEMA["enums"]:
        return None if isinstance(value, dict) else f"Given data ({value!r}) is not an object of {type_name}"
    if type_name in _SCHEMA["enums"]:
        allowed = _SCHEMA["enums"][type_name]
        if value not in allowed:
            return (
                f"Given data ({value}) does not belong to the {type_name} enumeration ({', '.join(allowed)})"
            )
        return None
    checks = {
        "string": lambda v: isinstance(v, str),
        "text": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    }
    check = checks.get(type_name, lambda v: isinstance(v, str))  # uuid, datetime: strings in JSON
    return None if check(value) else f"Given data ({value!r}) is not a {type_name}"


def _message(status: int, message: str) -> HttpResponse:
    return json_response(status, {"message": message})


def _error(status: int, error_code: str, message: str) -> HttpResponse:
    http_code = f"{status} {HTTPStatus(status).phrase}"
    return json_response(status, {"errorCode": error_code, "httpCode": http_code, "message": message})


def _failure_response(failure: _Failure) -> HttpResponse:
    if failure.raw is not None:
        return HttpResponse(failure.status, failure.raw, "application/json; charset=utf-8")
    if failure.html:
        page = f"<html><body>{failure.status} {HTTPStatus(failure.status).phrase}</body></html>"
        return HttpResponse(failure.status, page.encode(), "text/html; charset=utf-8")
    payload = {"message": failure.message}
    if failure.error_code is not None:
        payload = {"errorCode": failure.error_code, **payload}
    return json_response(failure.status, payload)
