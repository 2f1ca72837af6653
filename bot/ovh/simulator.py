"""OVH_ENDPOINT=simulator: OVH's SMS API played in this process, so the bot can be tried with no OVH account.

:class:`SimulatedOvh` answers the calls the bot makes as an ``ovh.Client`` would (same methods, same JSON
shapes as OVH's schema, OVH's exceptions for what OVH refuses), so the gateway, the account queries and
recovery run unchanged. Nothing leaves the machine: no HTTP request is made, no key is needed, and every
answer is made up here.

What it plays:

- one SMS service, ``simulator`` (SIMULATED_SERVICE), with SIMULATED_CREDITS credits when the process starts;
- a job: one id per valid receiver, credits removed per SMS part (the bot's own count) and receiver;
- invalid receivers, as OVH lists them in ``invalidReceivers``: a number phonenumbers cannot read as a
  valid mobile one, and the test range of numbers ending in ``999`` (e.g. ``+34600000999``), which plays
  a phone that cannot receive SMS;
- the SMS it "sent", by tag, for recovery to find (kept in memory: a restart forgets them);
- a validated key with exactly the bot's rules, an enabled sender, and ``POST /sms/estimate``;
- scheduled jobs (``differedPeriod``): kept in the queue (``GET /sms/{sn}/jobs``) until cancelled with
  ``DELETE /sms/{sn}/jobs/{id}``, which gives their credits back;
- OVH's public rates: one credit per SMS part to any country (:func:`simulated_rate`).
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import phonenumbers
import requests
from ovh import exceptions as ovh_errors

from bot.domain.destinations import SMS_CAPABLE
from bot.domain.records import SIMULATED_SERVICE
from bot.domain.sms_text import Encoding, measure

SIMULATED_CREDITS = 1000.0
# Numbers ending in this play phones that cannot receive SMS: OVH answers them as invalid receivers.
UNREACHABLE_SUFFIX = "999"
_RULES = ("GET /sms", "GET /sms/*", "POST /sms/*/jobs", "POST /sms/estimate", "DELETE /sms/*/jobs/*")


@dataclass(frozen=True)
class _Sms:
    id: int
    receiver: str
    message: str
    tag: str
    sender: str
    credits: float
    created: str


class SimulatedOvh:
    """A stand-in for ``ovh.Client``: ``get``, ``post`` and ``time_delta``, answered in memory.

    One instance serves every thread of the process (a lock keeps its state whole), so that what one
    thread sends another can find, as at OVH.
    """

    def __init__(self, credits: float = SIMULATED_CREDITS) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(90_000_001)
        self.credits_left = credits
        self.sent: dict[int, _Sms] = {}
        self.scheduled: dict[int, _Sms] = {}  # jobs sent with a differedPeriod, until cancelled

    @property
    def time_delta(self) -> int:
        """The clock offset with OVH: none, it is this machine's clock."""
        return 0

    def get(self, path: str, **params: Any) -> Any:
        """Answer a ``GET`` as OVH would."""
        with self._lock:
            if path == "/auth/currentCredential":
                return self._credential()
            if path == "/sms":
                return [SIMULATED_SERVICE]
            if path == "/sms/ptts":
                return {"description": "Message delivered", "comment": "", "duration": "permanent"}
            service, rest = self._service_path(path)
            if rest == "":
                return self._account(service)
            if rest == "/outgoing":
                tag = params.get("tag")
                return [sms.id for sms in self.sent.values() if tag is None or sms.tag == tag]
            if match := re.fullmatch(r"/outgoing/(\d+)", rest):
                return self._outgoing(int(match.group(1)))
            if rest == "/jobs":
                return sorted(self.scheduled)  # only scheduled jobs wait: the others are sent at once
            if (match := re.fullmatch(r"/jobs/(\d+)", rest)) and int(match.group(1)) in self.scheduled:
                return self._job(self.scheduled[int(match.group(1))])
            if rest == "/incoming":
                return []  # nobody answers a simulated SMS
            if rest == "/senders":
                return []  # the account's default sender only
            if rest.startswith("/senders/"):
                return {"sender": rest.removeprefix("/senders/"), "status": "enable", "type": "alpha"}
        raise _not_found(path)

    def post(self, path: str, **body: Any) -> Any:
        """Answer a ``POST`` as OVH would."""
        with self._lock:
            if path == "/sms/estimate":
                return _estimate(
                    str(body.get("message") or ""), no_stop_clause=bool(body.get("noStopClause"))
                )
            _service, rest = self._service_path(path)
            if rest == "/jobs":
                return self._send(body)
        raise _not_found(path)

    def delete(self, path: str, **_params: Any) -> Any:
        """Answer a ``DELETE`` as OVH would: a scheduled job not yet sent is taken back, credits returned."""
        with self._lock:
            _service, rest = self._service_path(path)
            match = re.fullmatch(r"/jobs/(\d+)", rest)
            if match and int(match.group(1)) in self.scheduled:
                sms = self.scheduled.pop(int(match.group(1)))
                self.credits_left += sms.credits
                return None
        raise _not_found(path)

    def _service_path(self, path: str) -> tuple[str, str]:
        match = re.fullmatch(r"/sms/([^/]+)(/.*)?", path)
        if match is None or match.group(1) != SIMULATED_SERVICE:
            raise _not_found(path)
        return match.group(1), match.group(2) or ""

    def _credential(self) -> dict[str, Any]:
        rules = [{"method": rule.split(" ")[0], "path": rule.split(" ")[1]} for rule in _RULES]
        return {"credentialId": 1, "status": "validated", "rules": rules, "expiration": None}

    def _account(self, service: str) -> dict[str, Any]:
        return {
            "name": service,
            "description": "smsbot simulator",
            "status": "enable",
            "creditsLeft": self.credits_left,
        }

    def _outgoing(self, sms_id: int) -> dict[str, Any]:
        sms = self.sent.get(sms_id)
        if sms is None:
            raise _not_found(f"/outgoing/{sms_id}")
        return {**self._job(sms), "tag": sms.tag, "deliveryReceipt": 1}

    @staticmethod
    def _job(sms: _Sms) -> dict[str, Any]:
        """An SMS as OVH lists it in its queue (``sms.Job``: no tag, no receipt yet)."""
        return {
            "id": sms.id,
            "receiver": sms.receiver,
            "message": sms.message,
            "sender": sms.sender,
            "credits": sms.credits,
            "creationDatetime": sms.created,
        }

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        message = str(body.get("message") or "")
        if not message:
            raise _bad_request("Missing parameter: message")
        receivers = [str(receiver) for receiver in body.get("receivers") or []]
        valid = [receiver for receiver in receivers if _can_receive(receiver)]
        invalid = [receiver for receiver in receivers if receiver not in valid]
        credits_each = float(_estimate(message, no_stop_clause=bool(body.get("noStopClause")))["parts"])
        credits = credits_each * len(valid)
        if credits > self.credits_left:
            raise _bad_request("Not enough credits to send this message")
        self.credits_left -= credits
        tag = str(body.get("tag") or "")
        created = datetime.now(UTC).isoformat()
        ids = []
        for receiver in valid:
            sms_id = next(self._ids)
            ids.append(sms_id)
            # A job with a differedPeriod waits in the queue, where it can be cancelled (it is never sent:
            # the simulator sends nothing, and forgets its queue when the process ends).
            queue = self.scheduled if body.get("differedPeriod") else self.sent
            queue[sms_id] = _Sms(
                sms_id, receiver, message, tag, str(body.get("sender") or ""), credits_each, created
            )
        return {
            "ids": ids,
            "validReceivers": valid,
            "invalidReceivers": invalid,
            "totalCreditsRemoved": credits,
            "tag": tag,
        }


def simulated_rate(country: str) -> float:
    """OVH's public rate as the simulator plays it: one credit per SMS part to any country, as it charges."""
    return 1.0


def _can_receive(receiver: str) -> bool:
    """Whether a receiver plays a phone that takes SMS: a valid mobile number outside the ``…999`` range."""
    try:
        number = phonenumbers.parse(receiver, None)
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.is_valid_number(number)
        and phonenumbers.number_type(number) in SMS_CAPABLE
        and not str(number.national_number).endswith(UNREACHABLE_SUFFIX)
    )


def _estimate(message: str, *, no_stop_clause: bool) -> dict[str, Any]:
    seg = measure(message, stop_clause=not no_stop_clause)
    return {
        "characters": seg.units,
        "charactersClass": "7bits" if seg.encoding is Encoding.GSM7 else "unicode",
        "parts": seg.parts,
        "maxCharactersPerPart": seg.per_part,
    }


def _bad_request(message: str) -> ovh_errors.BadParametersError:
    # As the ovh client raises it: with OVH's 400 answer, whose status tells a refusal for credits apart.
    answer = requests.Response()
    answer.status_code = 400
    return ovh_errors.BadParametersError(message, response=answer)


def _not_found(path: str) -> ovh_errors.ResourceNotFoundError:
    return ovh_errors.ResourceNotFoundError(f"The requested object ({path}) does not exist in the simulator")
