"""Wires the Bolt app: settings → services → listeners. No logic lives here."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from slack_bolt import App

from bot.sending.recovery import RecoveryLoop
from bot.services import Services, build_services
from bot.settings import Settings
from bot.slack.listeners import register_listeners

log = logging.getLogger("smsbot")


@dataclass
class SmsBot:
    """A running bot: the Bolt app, what it works with, and the threads its listeners run on."""

    app: App
    services: Services
    executor: ThreadPoolExecutor
    recovery_loop: RecoveryLoop | None = None

    def start_recovery(self) -> None:
        """Recover what a previous run left unsettled now, then keep doing it periodically."""
        self.recovery_loop = RecoveryLoop(
            self.services.recovery, self.services.settings.recovery_interval_seconds
        )
        self.recovery_loop.start()

    def drain(self) -> None:
        """Wait until every acknowledged request is done: listeners first, then the sends they queued."""
        self.executor.shutdown(wait=True)
        self.services.background.shutdown(wait=True)

    def close(self) -> None:
        """Let in-flight sends finish and be recorded, then release the database."""
        self.drain()
        if self.recovery_loop is not None:
            self.recovery_loop.stop()
        self.services.engine.dispose()


def _same_token_warning(record: logging.LogRecord) -> bool:
    # Bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins: it is the same token.
    return "`token` will be unused" not in record.getMessage()


def create_bot(settings: Settings) -> SmsBot:
    """Build the bot from validated settings."""
    services = build_services(settings)
    # Listeners acknowledge first, then do what little is left (open the form, answer a sub-command) on
    # this pool; sends go to the send workers, so a slow OVH never holds a listener thread. (Running
    # listeners on the request's thread would spare Bolt's 10 ms ack polling, but then any Slack call made
    # after ack() would delay the ack itself.)
    executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="smsbot-listener")
    bolt_logger = logging.getLogger("smsbot.bolt")
    bolt_logger.addFilter(_same_token_warning)
    app = App(
        client=services.slack,
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=settings.slack_signing_secret is not None,
        listener_executor=executor,
        logger=bolt_logger,
    )
    # Bolt logs the whole body of a request whose signature fails at INFO: phone numbers and text.
    logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)
    register_listeners(app, services)
    return SmsBot(app=app, services=services, executor=executor)
