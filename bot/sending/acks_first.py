"""Acknowledgements first: sends queued after an ack wait while other requests are being acknowledged.

One Python process runs Python on one core at a time. A burst of fifty `/sms` is fifty acks (about 1 ms
of CPU each) and fifty sends (about 10 ms each: ledger, OVH, the audit thread); run together, the acks
queue behind the sends' CPU and Slack sees answers several times slower than a bare Bolt app's. Holding
each queued send until no request is being acknowledged answers the whole burst first; the sends follow
a few tens of milliseconds later, a delay nobody sees next to OVH's own answer time.

A send never waits more than ``max_wait`` seconds, so a steady stream of requests cannot starve sends.
Only the start of a send waits: once recorded, nothing stands between OVH's answer and its record.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class AckGate:
    """Counts the requests being acknowledged; background work waits for none to be."""

    def __init__(self, max_wait: float = 0.5, quiet: float = 0.005) -> None:
        self.max_wait = max_wait
        # Requests of a burst reach the server over a few milliseconds: idle means idle for this long.
        self.quiet = quiet
        lock = threading.Lock()
        self._changed = threading.Condition(lock)  # an ack ended: the doorman looks again
        self._opened = threading.Condition(lock)  # the doorman found the gate idle: everyone goes
        self._acknowledging = 0
        self._last_answer = 0.0
        # One waiting thread watches the acks (the doorman); the others sleep until it opens the gate, so a
        # hundred queued sends do not all wake up at every ack.
        self._doorman = False
        self._openings = 0

    @contextmanager
    def acknowledging(self) -> Iterator[None]:
        """Around the handling of one request, from its arrival to its answer."""
        with self._changed:
            self._acknowledging += 1
        try:
            yield
        finally:
            with self._changed:
                self._acknowledging -= 1
                self._last_answer = time.monotonic()
                if not self._acknowledging:
                    self._changed.notify()

    def wait_idle(self) -> None:
        """Return once no request has been acknowledged for ``quiet`` seconds, or after ``max_wait``."""
        deadline = time.monotonic() + self.max_wait
        with self._changed:
            if self._doorman:
                opening = self._openings
                while self._openings == opening:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return
                    self._opened.wait(left)
                return
            self._doorman = True
            try:
                self._watch(deadline)
            finally:
                self._doorman = False
                self._openings += 1
                self._opened.notify_all()

    def _watch(self, deadline: float) -> None:
        # Called with the lock held, by the doorman.
        while True:
            now = time.monotonic()
            if now >= deadline:
                return
            if self._acknowledging:
                self._changed.wait(deadline - now)
            elif now - self._last_answer < self.quiet:
                self._changed.wait(min(deadline, self._last_answer + self.quiet) - now)
            else:
                return


class AcksFirstExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks start only once ``gate`` is idle (see :class:`AckGate`)."""

    def __init__(self, gate: AckGate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        def after_acks() -> T:
            self.gate.wait_idle()
            return fn(*args, **kwargs)

        return super().submit(after_acks)
