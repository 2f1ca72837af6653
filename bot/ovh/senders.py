"""What the OVH account offers the form: its enabled senders (``GET /sms/{sn}/senders`` and each
``/senders/{sender}``) and whether receivers can reply (``smsResponse`` of ``GET /sms/{sn}``).

The form must open within Slack's 3 seconds, so it does not wait for OVH: it takes what was read last, and
a read older than REFRESH_SECONDS starts a new one in the background; only the first form after a start
waits for the first read, FIRST_WAIT at most. A submission asks OVH again about
the one sender picked, since OVH may have disabled it since the form opened.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import quote

from ovh import exceptions as ovh_errors

from bot.domain.errors import ConfigurationError, DeliveryError
from bot.i18n import T_
from bot.ovh.client import OvhClient

log = logging.getLogger(__name__)
REFRESH_SECONDS = 300.0
# The first form after a start waits this long for the account's senders (Slack allows 3 s to open it).
FIRST_WAIT = 1.0
ASK_TIMEOUT = 1.5  # seconds a submission waits for OVH to say whether its sender is still enabled
MAX_SENDERS = 100  # a select takes 100 options
# How the account handles replies: "cgi" (pushed to a URL) or "text" (an automatic answer); "none": it
# does not, and OVH's short number would take answers nobody reads.
_REPLY_TYPES = frozenset({"cgi", "text"})


@dataclass(frozen=True)
class AccountOffer:
    """The enabled senders (sorted) and whether receivers can reply."""

    senders: tuple[str, ...] = ()
    replies: bool = False


class SenderBook:
    """The account's offer, read in the background and kept. Thread-safe."""

    def __init__(self, client: OvhClient, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()
        self._offer = AccountOffer()
        self._read_at: float | None = None
        self._reading = False
        self._first_read = threading.Event()
        self._askers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="smsbot-sender-check")

    @property
    def default_sender(self) -> str | None:
        """OVH_SMS_SENDER, or None for the account's default."""
        return self._client.sender_id

    def offer(self, first_wait: float = FIRST_WAIT) -> AccountOffer:
        """What was read last; starts a new read when it is old. Before any read has ended, it waits up to
        ``first_wait`` seconds for the first one (the first form after a start)."""
        with self._lock:
            stale = self._read_at is None or self._clock() - self._read_at > REFRESH_SECONDS
            if stale and not self._reading:
                self._reading = True
                threading.Thread(target=self.refresh, name="smsbot-senders", daemon=True).start()
            first = self._read_at is None
        if first:
            self._first_read.wait(first_wait)
        with self._lock:
            return self._offer

    def refresh(self) -> AccountOffer:
        """Read the offer from OVH now (what was known stays if OVH cannot be read)."""
        try:
            offer = self._read()
        except (DeliveryError, ConfigurationError, ovh_errors.APIError) as error:
            log.warning("the OVH account's senders could not be read: %s", getattr(error, "code", error))
            with self._lock:
                self._reading = False
                self._read_at = self._clock() - REFRESH_SECONDS + 60  # try again in a minute
            self._first_read.set()
            return self._offer
        with self._lock:
            self._offer, self._read_at, self._reading = offer, self._clock(), False
        self._first_read.set()
        return offer

    def _read(self) -> AccountOffer:
        service = self._client.service_name()
        names = [str(name) for name in self._client.call("get", f"/sms/{quote(service, safe='')}/senders")]
        enabled = sorted(name for name in names[:MAX_SENDERS] if self.status(service, name) == "enable")
        account = self._client.call("get", f"/sms/{quote(service, safe='')}")
        response = account.get("smsResponse") if isinstance(account, dict) else None
        reply_type = response.get("responseType") if isinstance(response, dict) else None
        return AccountOffer(tuple(enabled), reply_type in _REPLY_TYPES)

    def status(self, service: str, sender: str) -> str | None:
        """A sender's status at OVH now (``enable``, ``disable``, ...), None when OVH does not list it."""
        try:
            answer = self._client.raw.get(f"/sms/{quote(service, safe='')}/senders/{quote(sender, safe='')}")
        except ovh_errors.ResourceNotFoundError:
            return None
        except ovh_errors.APIError as error:
            raise DeliveryError(
                "unavailable", T_("OVH did not say whether sender {sender} is enabled.", sender=sender)
            ) from error
        return str(answer.get("status") or "") if isinstance(answer, dict) else None

    def still_enabled(self, sender: str, timeout: float = ASK_TIMEOUT) -> bool | None:
        """Whether OVH lists ``sender`` as enabled now; None when OVH does not say within ``timeout``
        seconds (a form's submission must be answered within 3: the send itself will tell)."""

        def ask() -> bool:
            return self.status(self._client.service_name(), sender) == "enable"

        future = self._askers.submit(ask)
        try:
            return future.result(timeout=timeout)
        except (DeliveryError, ConfigurationError, FutureTimeout) as error:
            log.warning(
                "could not ask OVH about sender %s: %s", sender, getattr(error, "code", type(error).__name__)
            )
            return None
