"""What `/health` reports: the database (required) and Slack (reported, cached briefly)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.domain.errors import LedgerUnavailable
from bot.settings import Settings
from bot.storage.db import ping

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    """The answer of one health check; ``ok`` depends on the database alone."""

    ok: bool
    details: dict[str, Any]


class HealthCheck:
    """Checks the database on every call and Slack at most every ``slack_ttl`` seconds.

    A Slack outage does not make the instance unhealthy: a load balancer would then drop every instance
    while recovery still has work to do. It is reported so that monitoring can alert on it.

    The Slack check must not hold up the answer: it has its own client, which gives up after
    ``SLACK_TIMEOUT`` seconds and never retries (the bot's client would wait out rate limits and retry
    dropped connections), and while one request checks, the others answer with the last status known.
    """

    SLACK_TIMEOUT = 2

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        slack_ttl: float = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._slack_client = WebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url,
            timeout=self.SLACK_TIMEOUT,
            retry_handlers=[],
        )
        self._slack_ttl = slack_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._slack: tuple[float, str] | None = None
        self._slack_checking = False

    def check(self) -> Health:
        """Check now."""
        try:
            ping(self._engine)
            database = "ok"
        except LedgerUnavailable as error:
            log.warning("health check: database unreachable: %s", type(error.__cause__).__name__)
            database = "unreachable"
        return Health(ok=database == "ok", details={"database": database, "slack": self._slack_status()})

    def _slack_status(self) -> str:
        now = self._clock()
        with self._lock:
            known = self._slack
            if known is not None and (now - known[0] < self._slack_ttl or self._slack_checking):
                return known[1]
            self._slack_checking = True
        status = "unreachable"
        try:
            self._slack_client.auth_test()
            status = "ok"
        except Exception as error:  # noqa: BLE001 - whatever fails, /health answers (Slack: unreachable)
            log.warning("health check: Slack unreachable: %s", type(error).__name__)
        finally:
            with self._lock:
                self._slack, self._slack_checking = (now, status), False
        return status
