"""The App Home tab: published on `app_home_opened` and after each of the person's sends (those made from
the command line or settled by recovery: only for people who opened their tab before); its buttons open the
form (anyone allowed) and opt numbers back in (admins only: a button's value is never trusted)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Generic, TypeVar

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.errors import InvalidInput, LedgerUnavailable, NotAllowed
from bot.domain.limits import Usage
from bot.domain.receivers import parse_receiver
from bot.domain.records import SendRecord
from bot.domain.standing import standing
from bot.i18n import ENGLISH, N_, Translator
from bot.sending.service import SendService
from bot.slack.client import SLACK_FAILURES
from bot.slack.compose import ComposeOptions, compose_modal
from bot.slack.form_extras import with_channel_picker, with_people_picker
from bot.slack.home import OPT_IN_ACTION_ID, SEND_ACTION_ID, AdminPanel, HomeFacts, Shown, home_view
from bot.slack.ids import USER_ID, is_id
from bot.slack.listeners.requester import Requester, after_ack
from bot.slack.permalinks import Permalinks
from bot.storage.home_viewers import HomeViewers
from bot.storage.ledger import Ledger
from bot.storage.opt_outs import OptOutList
from bot.storage.reports import Rate, Reports

log = logging.getLogger(__name__)
T = TypeVar("T")
CREDITS_CACHE_SECONDS = 60.0  # OVH is asked for the balance (and the ledger for the usual country) this often


class _Remembered(Generic[T]):
    """One answer, kept for ``ttl`` seconds (errors are not kept)."""

    def __init__(self, fetch: Callable[[], T], ttl: float) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._lock = threading.Lock()
        self._kept: tuple[float, T] | None = None

    def get(self) -> T:
        """The kept answer while fresh, else a new one."""
        with self._lock:
            kept = self._kept
        if kept is not None and time.monotonic() - kept[0] < self._ttl:
            return kept[1]
        value = self._fetch()
        with self._lock:
            self._kept = (time.monotonic(), value)
        return value

    def forget(self) -> None:
        """Ask again next time."""
        with self._lock:
            self._kept = None

    def keep(self, value: T) -> None:
        """Keep ``value``, learnt elsewhere, as a fresh answer."""
        with self._lock:
            self._kept = (time.monotonic(), value)


@dataclass(frozen=True)
class HomeDeps:
    """What the Home tab reads, and what its buttons change."""

    slack: WebClient
    permalinks: Permalinks
    sending: SendService  # the rules a send meets, who is an admin
    ledger: Ledger  # a person's usage over the limit window
    reports: Reports
    opt_outs: OptOutList
    credits_left: Callable[[], float | None]  # OVH's balance now (None: it could not be asked)
    rates: Callable[[str], float | None]  # OVH's public credits per SMS part to a country (None: unknown)
    sender_id: str | None
    default_region: str | None
    translator: Callable[[str], Translator] = lambda _user_id: ENGLISH  # the person's language
    form_options: Callable[[], ComposeOptions] = ComposeOptions  # what the account offers the form now
    viewers: HomeViewers | None = None  # who opened their tab (None: nobody is known to)


class HomePublisher:
    """Builds a person's Home tab from the ledger, the rules and OVH, and publishes it."""

    def __init__(self, deps: HomeDeps) -> None:
        self.deps = deps
        self.permalinks = deps.permalinks
        self._credits = _Remembered(deps.credits_left, CREDITS_CACHE_SECONDS)
        # The usual destination and its price move slowly; reading them parses every recent receiver.
        self._region = _Remembered(
            lambda: deps.reports.usual_region(deps.default_region), CREDITS_CACHE_SECONDS
        )

    def facts(self, user_id: str) -> HomeFacts:
        """What ``user_id``'s Home tab shows; a part that cannot be read is named in ``problems``."""
        deps = self.deps
        rules = deps.sending.rules
        readable = True
        try:
            usage = deps.ledger.usage(user_id)[0]
        except LedgerUnavailable:
            usage, readable = Usage(), False
        where = standing(
            user_id,
            policy=rules.policy,
            countries=rules.destinations.countries,
            limits=rules.limits,
            usage=usage,
            directory=deps.sending.directory,
        )
        credits, note = self._credits.get(), None
        mine: list[SendRecord] = []
        admin, rate = None, None
        senders = {deps.sender_id} if deps.sender_id else set()
        if readable:
            try:
                if credits is None and (credits := deps.reports.latest_credits_left()) is not None:
                    note = N_("as of the latest send: OVH could not be asked now")
                region = self._region.get()
                rate = Rate(region, deps.rates(region)) if region else None
                mine = deps.reports.latest_sends(user_id)
                senders |= deps.reports.senders_used(timedelta(days=30))
                admin = self._admin_panel() if where.admin else None
            except LedgerUnavailable:
                readable = False
        return HomeFacts(
            user_id=user_id,
            standing=where,
            credits_left=credits,
            credits_note=note if credits is not None else N_("OVH could not be asked"),
            rate=rate,
            senders=sorted(senders),
            sends=[self._shown(record) for record in mine],
            admin=admin,
            problems=()
            if readable
            else (N_("The database could not be read: use and history are missing."),),
        )

    def _admin_panel(self) -> AdminPanel:
        reports = self.deps.reports
        return AdminPanel(
            opt_outs=self.deps.opt_outs.all(),
            last_day=reports.last(timedelta(hours=24)),
            last_30_days=reports.last(timedelta(days=30)),
            failures=[self._shown(record) for record in reports.latest_failures()],
        )

    def _shown(self, record: SendRecord) -> Shown:
        return Shown(record, self.permalinks.of(record))

    def after_send(self, record: SendRecord) -> bool:
        """A send was reported: publish its author's tab. The balance changed: OVH's answer to the send
        told the new one (kept, no call), or, when it did not, OVH is asked again."""
        if record.credits_left is None:
            self._credits.forget()
        else:
            self._credits.keep(record.credits_left)
        return self.publish(record.user_id)

    def refresh(self, record: SendRecord) -> bool:
        """A send was reported outside its author's view of Slack (`smsbot send`, recovery): publish their
        tab if they opened it before, never anyone else's. Never raises; False when nothing was published."""
        user_id = record.user_id
        try:
            known = self.deps.viewers is not None and self.deps.viewers.has_opened(user_id)
        except LedgerUnavailable as error:
            log.warning("the Home tab of %s was not refreshed: %s", user_id, error.reason)
            return False
        return known and self.after_send(record)

    def opened(self, user_id: str) -> None:
        """Remember that ``user_id`` opened their tab (so later sends refresh it). Never raises."""
        if self.deps.viewers is None:
            return
        try:
            self.deps.viewers.opened(user_id)
        except LedgerUnavailable as error:
            log.warning("the opening of %s's Home tab is not recorded: %s", user_id, error.reason)

    def publish(self, user_id: str) -> bool:
        """Publish ``user_id``'s Home tab; False (logged) when Slack did not take it. Never raises."""
        try:
            view = home_view(self.facts(user_id), self.deps.translator(user_id))
            self.deps.slack.views_publish(user_id=user_id, view=view)
        except SLACK_FAILURES as error:
            log.warning("the Home tab of %s was not published: %s", user_id, error)
            return False
        except Exception:  # a Home tab is a view, never worth a crash of whatever asked for it
            log.exception("the Home tab of %s could not be built", user_id)
            return False
        return True


def register(app: App, publisher: HomePublisher) -> None:
    """Bind `app_home_opened` and the Home tab's buttons."""
    app.event("app_home_opened")(partial(handle_home_opened, publisher=publisher))
    app.action(SEND_ACTION_ID)(partial(handle_send_button, publisher=publisher))
    app.action(OPT_IN_ACTION_ID)(partial(handle_opt_in, publisher=publisher))


def handle_home_opened(event: dict[str, Any], *, publisher: HomePublisher) -> None:
    """Publish the Home tab of whoever opened it (the Messages tab needs nothing)."""
    user_id = event.get("user")
    # The id is published to and shown in mrkdwn: only a Slack-shaped one (see bot/slack/request_ids.py).
    if event.get("tab", "home") != "home" or not is_id(USER_ID, user_id):
        return
    publisher.publish(user_id)
    publisher.opened(user_id)


def _clicker(body: dict[str, Any]) -> Requester | None:
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str) or not user_id:
        return None
    team = body.get("team")
    trigger_id = body.get("trigger_id")
    return Requester(
        user_id=user_id,
        trigger_id=trigger_id if isinstance(trigger_id, str) else None,
        channel_id=None,
        team_id=team.get("id") if isinstance(team, dict) else None,
        response_url=None,
    )


def handle_send_button(
    ack: Ack, body: dict[str, Any], client: WebClient, *, publisher: HomePublisher
) -> None:
    """ "Send SMS": the form, as the global shortcut opens it (a channel picker for where its audit goes, whose
    rules apply when it is sent, and a people picker); a person who may not send is told why, privately."""
    ack()
    requester = _clicker(body)
    if requester is None:
        return
    deps = publisher.deps
    t = deps.translator(requester.user_id)
    with after_ack(deps.slack, requester):
        allowed = deps.sending.rules.policy.allowed_channels
        try:  # who may send at all: the channel is picked in the form
            deps.sending.authorize(requester.user_id, min(allowed) if allowed else None)
        except NotAllowed as refusal:
            requester.tell(deps.slack, t._(refusal.user_message))
            return
        view = compose_modal(
            channel_id="",
            response_url=None,
            default_region=deps.default_region,
            options=deps.form_options(),
            t=t,
        )
        requester.open_view(
            client,
            deps.slack,
            with_people_picker(with_channel_picker(view, t), t=t),
            what="the Home tab's form",
            failed=t._("The form could not be opened in time. Click Send SMS again."),
        )


def handle_opt_in(ack: Ack, body: dict[str, Any], *, publisher: HomePublisher) -> None:
    """An admin's "Opt in": the number may receive SMS again. Anyone else is refused privately; the number
    in the button is only a number to look up, and must still be on the opt-out list."""
    ack()
    requester = _clicker(body)
    if requester is None:
        return
    deps = publisher.deps
    t = deps.translator(requester.user_id)
    with after_ack(deps.slack, requester):
        if not deps.sending.is_admin(requester.user_id):
            log.warning("%s, not an admin, clicked Opt in: refused", requester.user_id)
            requester.tell(
                deps.slack, t._("Only the bot's admins manage opt-outs (SMS_ADMIN_USERS). Ask one of them.")
            )
            return
        actions = body.get("actions")
        value = (
            actions[0].get("value")
            if isinstance(actions, list) and actions and isinstance(actions[0], dict)
            else None
        )
        try:
            receiver = parse_receiver(value if isinstance(value, str) else "", None)
            removed = deps.opt_outs.remove(receiver.e164)
        except (InvalidInput, LedgerUnavailable) as error:
            requester.tell(deps.slack, t._(error.user_message))
            return
        if removed:
            log.info("%s opted %s in from the Home tab", requester.user_id, receiver.e164[:4])
        publisher.publish(requester.user_id)
