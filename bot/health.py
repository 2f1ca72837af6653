"""What `/health` reports: the database (required) and Slack (reported, cached briefly)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from slack_sdk.errors import SlackClientError

from bot.services import Services

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
    """

    def __init__(
        self, services: Services, slack_ttl: float = 30, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._services = services
        self._slack_ttl = slack_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._slack: tuple[float, str] | None = None

    def check(self) -> Health:
        """Check now."""
        try:
            with self._services.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            database = "ok"
        except sa.exc.SQLAlchemyError as error:
            log.warning("health check: database unreachable: %s", type(error).__name__)
            database = "unreachable"
        return Health(ok=database == "ok", details={"database": database, "slack": self._slack_status()})

    def _slack_status(self) -> str:
        now = self._clock()
        with self._lock:
            if self._slack is not None and now - self._slack[0] < self._slack_ttl:
                return self._slack[1]
        try:
            self._services.slack.auth_test()
            status = "ok"
        except SlackClientError as error:
            log.warning("health check: Slack unreachable: %s", type(error).__name__)
            status = "unreachable"
        with self._lock:
            self._slack = (now, status)
        return status
