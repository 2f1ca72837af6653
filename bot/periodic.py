"""A pass of background work run at start and then every so many seconds, on its own thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicLoop:
    """Runs ``work`` at start and then every ``interval`` seconds until :meth:`stop`; a failed pass is logged."""

    def __init__(self, name: str, work: Callable[[], object], interval: float, failure: str) -> None:
        self._work = work
        self._interval = interval
        self._failure = failure
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"smsbot-{name}", daemon=True)

    def start(self) -> None:
        """Start the loop."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current pass."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._work()
            except Exception:
                log.exception(self._failure)
            self._stop.wait(self._interval)
