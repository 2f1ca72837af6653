"""The objects the listeners work with, built once from the settings."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.domain.access import CachedDirectory, SendPolicy
from bot.domain.destinations import DestinationPolicy
from bot.ovh.account import OvhAccount
from bot.ovh.client import OvhClient
from bot.ovh.gateway import OvhGateway
from bot.sending.acks_first import AckGate, AcksFirstExecutor
from bot.sending.recovery import Recovery
from bot.sending.service import Rules, SendService
from bot.settings import Settings
from bot.slack.audit import AuditReporter
from bot.slack.client import SlackDirectory, make_web_client
from bot.storage.db import create_engine, migrate
from bot.storage.ledger import Ledger
from bot.storage.opt_outs import OptOutList


@dataclass(frozen=True)
class Services:
    """Everything a listener needs; one instance per running bot."""

    settings: Settings
    engine: Engine
    ledger: Ledger
    opt_outs: OptOutList
    slack: WebClient
    gateway: OvhGateway
    account: OvhAccount  # read-only queries: dry runs' estimates and credits, recovery's traces
    sending: SendService
    reporter: AuditReporter
    recovery: Recovery
    background: ThreadPoolExecutor  # the send workers: OVH calls and audit posts after the ack
    acks: AckGate  # the servers count the requests being acknowledged; the send workers wait for none


def build_services(settings: Settings) -> Services:
    """Connect the database (migrating it), the Slack Web API client and the OVH gateway."""
    # A send holds a connection only for each short ledger statement, never while OVH answers: a small pool
    # serves many send workers, and keeps instances times connections under PostgreSQL's max_connections.
    engine = create_engine(settings.database_url)
    migrate(engine)
    ledger = Ledger(engine)
    opt_outs = OptOutList(engine)
    slack = make_web_client(settings.slack_bot_token, settings.slack_api_url)
    ovh_client = OvhClient.from_settings(settings)
    gateway = OvhGateway(ovh_client, no_stop_clause=settings.ovh_no_stop_clause)
    account = OvhAccount(ovh_client, no_stop_clause=settings.ovh_no_stop_clause)
    rules = Rules(
        policy=SendPolicy(
            allowed_users=settings.allowed_users,
            allowed_usergroups=settings.allowed_usergroups,
            allowed_channels=settings.allowed_channels,
            admin_users=settings.admin_users,
            workspace_admins_are_admins=settings.workspace_admins_are_admins,
        ),
        destinations=DestinationPolicy(settings.allowed_countries),
        limits=settings.limits,
    )
    sending = SendService(
        ledger,
        gateway,
        rules,
        # Access checks may run before an ack (the form's submission): their Slack calls must not sleep
        # through a rate limit's Retry-After. A failed check refuses, and says to try again.
        CachedDirectory(
            SlackDirectory(
                make_web_client(
                    settings.slack_bot_token, settings.slack_api_url, timeout=2, rate_limit_retries=False
                )
            ),
            ttl=settings.usergroup_cache_seconds,
        ),
        opt_outs,
        lease_seconds=settings.recovery_after_seconds,
        unknown_grace_seconds=settings.unknown_grace_seconds,
    )
    reporter = AuditReporter(slack)
    recovery = Recovery(
        ledger,
        sending,
        account,
        reporter,
        lease_seconds=settings.recovery_after_seconds,
        retry_after_seconds=settings.recovery_interval_seconds,
    )
    acks = AckGate()
    return Services(
        settings=settings,
        engine=engine,
        ledger=ledger,
        opt_outs=opt_outs,
        slack=slack,
        gateway=gateway,
        account=account,
        sending=sending,
        reporter=reporter,
        recovery=recovery,
        background=AcksFirstExecutor(
            acks, max_workers=settings.send_workers, thread_name_prefix="smsbot-send"
        ),
        acks=acks,
    )
