"""The objects the listeners work with, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.db import create_engine, migrate
from bot.ledger import Ledger
from bot.ovh_gateway import OvhGateway
from bot.policy import CachedMemberships, SendPolicy
from bot.sending import SendService
from bot.settings import Settings
from bot.slack_ops import AuditReporter, SlackUsergroups, make_web_client


@dataclass(frozen=True)
class Services:
    """Everything a listener needs; one instance per running bot."""

    settings: Settings
    engine: Engine
    ledger: Ledger
    slack: WebClient
    sender: SendService
    reporter: AuditReporter


def build_services(settings: Settings) -> Services:
    """Connect the database (migrating it), the Slack Web API client and the OVH gateway."""
    engine = create_engine(settings.database_url, pool_size=max(5, settings.send_workers // 2))
    migrate(engine)
    ledger = Ledger(engine)
    slack = make_web_client(settings.slack_bot_token, settings.slack_api_url)
    sender = SendService(
        ledger,
        OvhGateway.from_settings(settings),
        SendPolicy(settings.allowed_users, settings.allowed_usergroups, settings.allowed_channels),
        CachedMemberships(SlackUsergroups(slack), ttl=settings.usergroup_cache_seconds),
    )
    return Services(
        settings=settings,
        engine=engine,
        ledger=ledger,
        slack=slack,
        sender=sender,
        reporter=AuditReporter(slack, ledger),
    )
