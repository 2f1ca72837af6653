"""Reading what became of sent SMS and what people answered: ``GET /sms/{sn}/outgoing/{id}`` (and
``/jobs/{id}`` while OVH still queues it), ``GET /sms/ptts``, ``GET /sms/{sn}/incoming[/{id}]``, and the
account's push URL (``callBack`` of ``GET``/``PUT /sms/{sn}``). Nothing here can send an SMS.

Every answer is read defensively: a field of the wrong type is OVH's garbage, raised as
:class:`~bot.domain.errors.DeliveryError` (code ``unreadable``), never a crash.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ovh import exceptions as ovh_errors

from bot.domain.errors import DeliveryError
from bot.i18n import T_
from bot.ovh.client import OvhClient
from bot.ovh.errors import translate_error

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsReading:
    """What OVH says of one sent SMS."""

    found: bool  # False: OVH has no such SMS (any more): purged, or never ours
    queued: bool = False  # still in OVH's queue, not sent yet
    receiver: str | None = None
    receipt: int | None = None
    ptt: int | None = None
    created: datetime | None = None
    delivered: datetime | None = None
    reads: int = 1  # the calls it took (a 404 is read again in OVH's queue)


@dataclass(frozen=True)
class IncomingSms:
    """One SMS someone sent to the account (a reply)."""

    id: int
    sender: str
    message: str
    created: datetime | None


def unreadable(what: str) -> DeliveryError:
    """OVH answered something that is not what its schema says."""
    return DeliveryError("unreadable", T_("OVH's answer to {call} could not be read.", call=what))


def parse_date(value: Any) -> datetime | None:
    """An OVH date, with or without a zone (a date without one is taken as UTC); None when absent or
    unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _whole(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise unreadable(what)
    try:
        return int(value)
    except ValueError:
        raise unreadable(what) from None


class OvhDeliveries:
    """The reads the delivery follower makes; each raises :class:`DeliveryError` when OVH fails
    (code ``rate_limited`` for its 429)."""

    def __init__(self, client: OvhClient) -> None:
        self._client = client
        self._ptts: dict[int, str | None] = {}
        self._ptts_lock = threading.Lock()

    def service_name(self) -> str:
        """The SMS service the bot uses (raises ConfigurationError when there is none to use)."""
        return self._client.service_name()

    def _get(self, path: str, **params: Any) -> Any:
        try:
            return self._client.raw.get(path, **params)
        except ovh_errors.ResourceNotFoundError:
            raise
        except ovh_errors.APIError as error:
            raise translate_error(error, path, posts=False) from error

    def read_sms(self, service: str, sms_id: int) -> SmsReading:
        """One SMS: sent (``/outgoing/{id}``), still queued (``/jobs/{id}``) or not found (both 404)."""
        base = f"/sms/{quote(service, safe='')}"
        what = f"GET {base}/outgoing/{sms_id}"
        try:
            answer = self._get(f"{base}/outgoing/{sms_id}")
        except ovh_errors.ResourceNotFoundError:
            try:
                self._get(f"{base}/jobs/{sms_id}")
            except ovh_errors.ResourceNotFoundError:
                return SmsReading(found=False, reads=2)
            return SmsReading(found=True, queued=True, reads=2)
        if not isinstance(answer, dict):
            raise unreadable(what)
        receiver = answer.get("receiver")
        if receiver is not None and not isinstance(receiver, str):
            raise unreadable(what)
        return SmsReading(
            found=True,
            receiver=receiver or None,
            receipt=_whole(answer.get("deliveryReceipt"), what),
            ptt=_whole(answer.get("ptt"), what),
            created=parse_date(answer.get("creationDatetime")),
            delivered=parse_date(answer.get("deliveredAt")),
        )

    def ptt_description(self, ptt: int) -> str | None:
        """OVH's own words for a ``ptt`` code (``GET /sms/ptts?ptt=N``), read once per code and process;
        None when OVH does not describe it. Raises DeliveryError when OVH fails (then asked again later)."""
        with self._ptts_lock:
            if ptt in self._ptts:
                return self._ptts[ptt]
        try:
            answer = self._get("/sms/ptts", ptt=ptt)
        except ovh_errors.ResourceNotFoundError:
            answer = {}
        described = answer.get("description") if isinstance(answer, dict) else None
        text = described.strip() if isinstance(described, str) and described.strip() else None
        with self._ptts_lock:
            self._ptts[ptt] = text
        return text

    def known_ptt(self, ptt: int) -> bool:
        """Whether this code's description was read already (reading it again costs nothing)."""
        with self._ptts_lock:
            return ptt in self._ptts

    def incoming_ids(self, service: str, since: datetime) -> list[int]:
        """The ids of the replies OVH received since ``since``."""
        path = f"/sms/{quote(service, safe='')}/incoming"
        try:
            answer = self._get(path, **{"creationDatetime.from": since.isoformat()})
        except ovh_errors.ResourceNotFoundError as error:
            raise translate_error(error, path, service=service, posts=False) from error
        if not isinstance(answer, list):
            raise unreadable(f"GET {path}")
        ids = []
        for item in answer:
            number = _whole(item, f"GET {path}")
            if number is not None:
                ids.append(number)
        return ids

    def incoming(self, service: str, incoming_id: int) -> IncomingSms | None:
        """One reply (None when OVH no longer has it)."""
        path = f"/sms/{quote(service, safe='')}/incoming/{incoming_id}"
        try:
            answer = self._get(path)
        except ovh_errors.ResourceNotFoundError:
            return None
        if not isinstance(answer, dict):
            raise unreadable(f"GET {path}")
        sender, message = answer.get("sender"), answer.get("message")
        if not isinstance(sender, str) or not isinstance(message, str | None):
            raise unreadable(f"GET {path}")
        return IncomingSms(
            id=incoming_id,
            sender=sender,
            message=message or "",
            created=parse_date(answer.get("creationDatetime")),
        )

    def callback_url(self, service: str) -> str | None:
        """The URL OVH calls when a sent SMS changes state (``callBack``), or None when unset."""
        path = f"/sms/{quote(service, safe='')}"
        try:
            answer = self._get(path)
        except ovh_errors.ResourceNotFoundError as error:
            raise translate_error(error, path, service=service, posts=False) from error
        url = answer.get("callBack") if isinstance(answer, dict) else None
        return url if isinstance(url, str) and url else None

    def set_callback_url(self, service: str, url: str) -> None:
        """Point the account's ``callBack`` at ``url`` (``PUT /sms/{sn}``; the key needs ``PUT /sms/*``)."""
        path = f"/sms/{quote(service, safe='')}"
        try:
            self._client.raw.put(path, callBack=url)
        except ovh_errors.APIError as error:
            raise translate_error(error, path, service=service, posts=False) from error
