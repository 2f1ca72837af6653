"""OVH's public SMS rates: the credits one SMS part costs to a country (``GET /sms/rates/destinations``).

The call needs no key, so it is made with plain HTTP and a short timeout of its own: the live summary of
the form asks for it while someone types. Each country's answer is kept for a day; a failure for a few
minutes, so an unreachable OVH slows no keystroke and the estimate falls back to one credit per part.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import requests

log = logging.getLogger(__name__)

RATES_PATH = "/sms/rates/destinations"
KEEP_SECONDS = 24 * 3600.0  # OVH's rates change rarely: a day, as the issue asks
KEEP_FAILURE_SECONDS = 300.0
# A keystroke's summary must come back well within a second: better an estimate that says it assumed
# one credit per part than a form that lags.
TIMEOUT = (2.0, 2.0)

Fetch = Callable[[str], float]
"""Credits per SMS part to a lower-case country code; raises when OVH cannot say."""


class RateBook:
    """Credits per SMS part by country, read from OVH and cached. Thread-safe."""

    def __init__(self, fetch: Fetch, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._known: dict[str, tuple[float | None, float]] = {}  # country -> (credits, until)

    def credits_per_part(self, region: str) -> float | None:
        """The credits one SMS part costs to ``region`` (``"ES"``), or None when OVH cannot say."""
        country = region.lower()
        with self._lock:
            known = self._known.get(country)
            if known is not None and known[1] > self._clock():
                return known[0]
        try:
            credits: float | None = float(self._fetch(country))
            keep = KEEP_SECONDS
        except Exception as error:  # noqa: BLE001 - any failure: the estimate assumes one credit per part
            log.warning("OVH's SMS rate to %s could not be read: %s", country.upper(), _reason(error))
            credits, keep = None, KEEP_FAILURE_SECONDS
        with self._lock:
            self._known[country] = (credits, self._clock() + keep)
        return credits

    def warm(self, regions: Iterable[str]) -> None:
        """Read these countries' rates in the background, so the first form shows them at once."""
        wanted = list(regions)
        if not wanted:
            return
        pool = ThreadPoolExecutor(max_workers=min(4, len(wanted)), thread_name_prefix="smsbot-rates")
        for region in wanted:
            pool.submit(self.credits_per_part, region)
        pool.shutdown(wait=False)


def http_fetch(base_url: str) -> Fetch:
    """Read a rate from the OVH API at ``base_url`` (``https://eu.api.ovh.com/1.0``), unsigned."""
    local = threading.local()
    url = base_url.rstrip("/") + RATES_PATH

    def fetch(country: str) -> float:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        response = session.get(url, params={"country": country}, timeout=TIMEOUT)
        response.raise_for_status()
        credit = response.json().get("credit")
        if not isinstance(credit, int | float) or isinstance(credit, bool) or credit < 0:
            raise ValueError(f"no usable `credit` in OVH's answer for {country}")
        return float(credit)

    return fetch


def _reason(error: Exception) -> str:
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code}"
    return type(error).__name__
