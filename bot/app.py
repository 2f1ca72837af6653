"""Wiring only: settings → storage, OVH, the use case, Slack → listeners, each given what it needs."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.domain.access import CachedDirectory, SendPolicy
from bot.domain.destinations import DestinationPolicy
from bot.domain.recipients import Recipients
from bot.ovh.account import OvhAccount
from bot.ovh.client import OvhClient
from bot.ovh.deliveries import OvhDeliveries
from bot.ovh.gateway import OvhGateway
from bot.ovh.rates import RateBook, http_fetch
from bot.ovh.senders import SenderBook
from bot.ovh.simulator import simulated_rate
from bot.sending.acks_first import AckGate, AcksFirstExecutor
from bot.sending.cancel import ScheduledSends
from bot.sending.delivery import DeliveryFollower, DeliveryLoop, FollowSettings
from bot.sending.recovery import Recovery, RecoveryLoop
from bot.sending.service import Rules, SendService
from bot.settings import Settings
from bot.slack.audit import AuditReporter
from bot.slack.client import SlackDirectory, make_web_client
from bot.slack.compose import ComposeOptions
from bot.slack.delivery import DeliveryPoster
from bot.slack.listeners import home, register_listeners, replies, reports, workflow
from bot.slack.listeners.actions import ActionDeps
from bot.slack.listeners.commands import CommandDeps
from bot.slack.listeners.confirm import ConfirmDeps
from bot.slack.listeners.contacts import ContactsDeps
from bot.slack.listeners.home import HomeDeps, HomePublisher
from bot.slack.listeners.requester import SendDeps
from bot.slack.listeners.scheduled import ScheduledDeps
from bot.slack.listeners.shortcuts import ShortcutDeps
from bot.slack.listeners.subcommands import SubcommandDeps
from bot.slack.listeners.summary import SummaryDeps
from bot.slack.listeners.views import ViewDeps
from bot.slack.locales import Locales
from bot.slack.people import SlackPeople
from bot.slack.permalinks import Permalinks
from bot.slack.steps import WorkflowSteps
from bot.storage.contacts import ContactList
from bot.storage.db import create_engine, migrate
from bot.storage.deliveries import DeliveryStore
from bot.storage.drafts import DraftStore
from bot.storage.home_viewers import HomeViewers
from bot.storage.ledger import Ledger
from bot.storage.opt_outs import OptOutList
from bot.storage.reports import Reports
from bot.storage.retention import Retention, RetentionLoop

log = logging.getLogger("smsbot")


@dataclass(frozen=True)
class Core:
    """The send path built from the settings. `smsbot run` serves it to Slack, `smsbot send` uses it from
    the terminal; listeners never see it whole (each gets its own narrow dependencies)."""

    settings: Settings
    engine: Engine
    ledger: Ledger
    opt_outs: OptOutList
    slack: WebClient
    gateway: OvhGateway
    account: OvhAccount  # read-only queries: dry runs' estimates and credits, recovery's traces
    rates: RateBook  # OVH's public credits per SMS part, by country
    senders: SenderBook  # what the account offers the form: enabled senders, replies
    sending: SendService
    reporter: AuditReporter
    recovery: Recovery
    scheduled: ScheduledSends  # the Cancel button's use case; recovery completes a cancellation cut short
    recipients: Recipients  # people, user groups and contacts named as receivers
    contacts: ContactList
    follower: DeliveryFollower  # after a send: delivery receipts, replies, credit alerts
    locales: Locales  # each person's language, from their Slack locale
    permalinks: Permalinks
    reports: Reports
    home: HomePublisher  # refreshed after a send from the command line, or one recovery settles
    steps: WorkflowSteps  # completes the Workflow Builder step a settled send was made for


def build_core(settings: Settings) -> Core:
    """Connect the database (migrating it), the Slack Web API client and OVH, and build the use case."""
    # A send holds a connection only for each short ledger statement, never while OVH answers: a small pool
    # serves many send workers, and keeps instances times connections under PostgreSQL's max_connections.
    engine = create_engine(settings.database_url)
    migrate(engine)
    ledger = Ledger(engine)
    opt_outs = OptOutList(engine)
    contacts = ContactList(engine)
    slack = make_web_client(settings.slack_bot_token, settings.slack_api_url)
    ovh_client = OvhClient.from_settings(settings)
    gateway = OvhGateway(
        ovh_client, no_stop_clause=settings.ovh_no_stop_clause, allow_replies=settings.allow_replies
    )
    account = OvhAccount(ovh_client, no_stop_clause=settings.ovh_no_stop_clause)
    rates = RateBook(simulated_rate if settings.ovh_simulated else http_fetch(settings.ovh_base_url))
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
    # Access checks may run before an ack (the form's submission): their Slack calls must not sleep
    # through a rate limit's Retry-After. A failed check refuses, and says to try again.
    directory_client = make_web_client(
        settings.slack_bot_token, settings.slack_api_url, timeout=2, rate_limit_retries=False
    )
    directory = CachedDirectory(SlackDirectory(directory_client), ttl=settings.usergroup_cache_seconds)
    # Receivers named in a form are looked up before its ack, too: the same quick client.
    recipients = Recipients(
        people=SlackPeople(directory_client, ttl=settings.usergroup_cache_seconds),
        contacts=contacts,
        default_region=settings.sms_default_region,
    )
    sending = SendService(
        ledger,
        gateway,
        rules,
        directory,
        opt_outs,
        lease_seconds=settings.recovery_after_seconds,
        unknown_grace_seconds=settings.unknown_grace_seconds,
        rates=rates.credits_per_part,
    )
    reporter = AuditReporter(slack)
    # The person's language: asked of Slack before some acks (the help), so no waiting on a rate limit.
    locales = Locales(
        make_web_client(
            settings.slack_bot_token, settings.slack_api_url, timeout=2, rate_limit_retries=False
        ),
        ttl=settings.usergroup_cache_seconds,
    )
    # Recovery completes a step long after the event's own token expired: with the bot's token.
    steps = WorkflowSteps(slack, ledger, locales.translator)
    scheduled = ScheduledSends(ledger, gateway, sending.is_admin)
    recovery = Recovery(
        ledger,
        sending,
        account,
        reporter,
        lease_seconds=settings.recovery_after_seconds,
        retry_after_seconds=settings.recovery_interval_seconds,
        steps=steps,
        cancels=scheduled,
    )
    senders = SenderBook(ovh_client)
    permalinks = Permalinks(slack)
    reports = Reports(engine)
    home = HomePublisher(
        HomeDeps(
            slack=slack,
            permalinks=permalinks,
            sending=sending,
            ledger=ledger,
            reports=reports,
            opt_outs=opt_outs,
            credits_left=gateway.credits_left,
            rates=rates.credits_per_part,
            sender_id=gateway.sender_id,
            default_region=settings.sms_default_region,
            translator=locales.translator,
            form_options=partial(form_options, senders, settings.allow_replies),
            viewers=HomeViewers(engine),
        )
    )
    recovery.after_settle = home.refresh
    follower = DeliveryFollower(
        DeliveryStore(engine),
        ledger,
        OvhDeliveries(ovh_client),
        DeliveryPoster(slack),
        opt_outs,
        follow_settings(settings),
    )
    return Core(
        settings=settings,
        engine=engine,
        ledger=ledger,
        opt_outs=opt_outs,
        slack=slack,
        gateway=gateway,
        account=account,
        rates=rates,
        senders=senders,
        sending=sending,
        reporter=reporter,
        recovery=recovery,
        scheduled=scheduled,
        recipients=recipients,
        contacts=contacts,
        follower=follower,
        locales=locales,
        permalinks=permalinks,
        reports=reports,
        home=home,
        steps=steps,
    )


def follow_settings(settings: Settings) -> FollowSettings:
    """How the delivery follower behaves, from the settings."""
    return FollowSettings(
        poll_seconds=settings.delivery_poll_seconds,
        validity=timedelta(hours=settings.delivery_validity_hours),
        reads_per_minute=settings.ovh_reads_per_minute,
        replies_channel=settings.replies_channel,
        alert_channel=settings.alert_channel,
        credits_alert_below=settings.credits_alert_below,
        read_seconds=settings.ovh_connect_timeout + settings.ovh_read_timeout,
        language=settings.language,
    )


@dataclass
class SmsBot:
    """A running bot: the Bolt app, the send path, and the threads its listeners and sends run on."""

    app: App
    core: Core
    acks: AckGate  # the servers count the requests being acknowledged; the send workers wait for none
    executor: ThreadPoolExecutor  # the listeners, after their ack
    workers: ThreadPoolExecutor  # the send workers: OVH calls and audit posts after the ack
    recovery_loop: RecoveryLoop | None = None
    retention_loop: RetentionLoop | None = None
    delivery_loop: DeliveryLoop | None = None

    def start_recovery(self) -> None:
        """Recover what a previous run left unsettled now, then keep doing it periodically."""
        self.recovery_loop = RecoveryLoop(self.core.recovery, self.core.settings.recovery_interval_seconds)
        self.recovery_loop.start()

    def start_retention(self) -> None:
        """Erase old texts and numbers once a day (whichever instance gets the task's lease does it)."""
        settings = self.core.settings
        self.retention_loop = RetentionLoop(Retention(self.core.engine, settings.retention_days))
        self.retention_loop.start()

    def start_delivery(self) -> None:
        """Follow deliveries and replies now, then every SMS_DELIVERY_POLL_SECONDS (and soon after each
        send, or OVH's push)."""
        self.delivery_loop = DeliveryLoop(self.core.follower, self.core.settings.delivery_poll_seconds)
        self.core.sending.after_report = self.delivery_loop.wake
        self.delivery_loop.start()

    def wake_delivery(self) -> None:
        """Run a delivery pass soon (OVH's push said an SMS changed); no-op when the loop is not running."""
        if self.delivery_loop is not None:
            self.delivery_loop.wake()

    def drain(self) -> None:
        """Wait until every acknowledged request is done: listeners first, then the sends they queued."""
        self.executor.shutdown(wait=True)
        self.workers.shutdown(wait=True)

    def close(self) -> None:
        """Let in-flight sends finish and be recorded, then release the database."""
        self.drain()
        if self.recovery_loop is not None:
            self.recovery_loop.stop()
        if self.retention_loop is not None:
            self.retention_loop.stop()
        if self.delivery_loop is not None:
            self.delivery_loop.stop()
        self.core.engine.dispose()


def _same_token_warning(record: logging.LogRecord) -> bool:
    # Bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins: it is the same token.
    return "`token` will be unused" not in record.getMessage()


def form_options(senders: SenderBook, allow_replies: bool = False) -> ComposeOptions:
    """What the form offers now: the account's enabled senders, replies where it takes them (or where
    SMS_ALLOW_REPLIES says so), send later."""
    offer = senders.offer()
    return ComposeOptions(
        senders=offer.senders,
        default_sender=senders.default_sender,
        replies=offer.replies or allow_replies,
        schedule=True,
    )


def create_bot(settings: Settings) -> SmsBot:
    """Build the bot from validated settings."""
    core = build_core(settings)
    # The form's live estimate needs OVH's rates: read those of the countries SMS may go to now.
    region = settings.sms_default_region
    core.rates.warm(sorted(settings.allowed_countries or ([region] if region else [])))
    acks = AckGate()
    workers = AcksFirstExecutor(acks, max_workers=settings.send_workers, thread_name_prefix="smsbot-send")
    # Listeners acknowledge first, then do what little is left (open the form, answer a sub-command) on
    # this pool; sends go to the send workers, so a slow OVH never holds a listener thread. (Running
    # listeners on the request's thread would spare Bolt's 10 ms ack polling, but then any Slack call made
    # after ack() would delay the ack itself.)
    executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="smsbot-listener")
    bolt_logger = logging.getLogger("smsbot.bolt")
    bolt_logger.addFilter(_same_token_warning)
    app = App(
        client=core.slack,
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=settings.slack_signing_secret is not None,
        listener_executor=executor,
        logger=bolt_logger,
    )
    # Bolt logs the whole body of a request whose signature fails at INFO: phone numbers and text.
    logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)
    locales, report_queries = core.locales, core.reports
    report_deps = reports.ReportDeps(
        slack=core.slack,
        sending=core.sending,
        reports=report_queries,
        permalinks=core.permalinks,
        credits_left=core.gateway.credits_left,
        translator=locales.translator,
    )
    home_tab = core.home
    sends = SendDeps(
        sending=core.sending,
        audit=core.reporter,
        workers=workers,
        slack=core.slack,
        after_send=home_tab.after_send,
        translator=locales.translator,
    )
    form_options_now = partial(form_options, core.senders, settings.allow_replies)
    confirm = ConfirmDeps(
        sends=sends,
        drafts=DraftStore(core.engine),
        above_credits=settings.confirm_above_credits,
        above_receivers=settings.confirm_above_receivers,
    )
    register_listeners(
        app,
        CommandDeps(
            sends=sends,
            subcommands=SubcommandDeps(
                sending=core.sending,
                ledger=core.ledger,
                opt_outs=core.opt_outs,
                limits=settings.limits,
                default_region=settings.sms_default_region,
                contacts=ContactsDeps(core.sending, core.contacts, settings.sms_default_region),
                translator=locales.translator,
            ),
            reports=report_deps,
            default_region=settings.sms_default_region,
            sender_id=core.gateway.sender_id,
            recipients=core.recipients,
            stop_clause=core.sending.stop_clause,
            translator=locales.translator,
            form_options=form_options_now,
            confirm=confirm,
        ),
        ViewDeps(
            sends=sends,
            default_region=settings.sms_default_region,
            recipients=core.recipients,
            ledger=core.ledger,
            sender_enabled=core.senders.still_enabled,
            confirm=confirm,
        ),
        ShortcutDeps(sends=sends, default_region=settings.sms_default_region, form_options=form_options_now),
        ActionDeps(
            sends=sends,
            ledger=core.ledger,
            default_region=settings.sms_default_region,
            form_options=form_options_now,
        ),
        SummaryDeps(
            sending=core.sending, default_region=settings.sms_default_region, translator=locales.translator
        ),
        ScheduledDeps(
            scheduled=core.scheduled,
            sending=core.sending,
            audit=core.reporter,
            slack=core.slack,
            translator=locales.translator,
        ),
    )
    home.register(app, home_tab)
    reports.register(app, report_deps)
    workflow.register(
        app,
        workflow.WorkflowDeps(
            sends=sends,
            default_region=settings.sms_default_region,
            steps=core.steps,
            translator=locales.translator,
        ),
    )
    replies.register(
        app,
        replies.ReplyDeps(
            sends=sends,
            replies=core.follower.store,
            ledger=core.ledger,
            default_region=settings.sms_default_region,
        ),
    )
    return SmsBot(app=app, core=core, acks=acks, executor=executor, workers=workers)
