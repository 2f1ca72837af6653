"""After a send: follow each SMS until its final state, bring back replies, and warn when credits run low.

One pass (:meth:`DeliveryFollower.run_once`) starts following the sends OVH took since the last one, stops
following what outlived the validity period, reads from OVH what is due (within a read budget that every
instance shares through the database), keeps each send's status message in its thread up to date, and
posts each new reply in the thread of the latest send to its number. :class:`DeliveryLoop` runs a pass
every ``SMS_DELIVERY_POLL_SECONDS``, and at once when OVH's push (the callback) says an SMS changed.

Every row is worked on under a lease in the database, so with several instances each SMS is read, and each
change and reply posted, by one of them; a restart resumes from the database.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import phonenumbers

from bot.domain.deliveries import (
    BUFFERED,
    DeliveryState,
    ReceiverStatus,
    is_stop,
    next_check_delay,
    ptt_words,
    state_of,
    took,
)
from bot.domain.errors import ConfigurationError, DeliveryError, LedgerUnavailable
from bot.domain.records import SendRecord
from bot.ovh.deliveries import IncomingSms, OvhDeliveries, SmsReading
from bot.storage.deliveries import (
    REPLY_LOGGED,
    REPLY_POSTED,
    DeliveryRow,
    DeliveryStore,
    ReplyRow,
    ReportRow,
    Thread,
)
from bot.storage.ledger import Ledger
from bot.storage.opt_outs import OptOutList

log = logging.getLogger(__name__)

# A 404 for an SMS OVH listed is read this many times in a row before it counts as purged (gone).
MISSES_BEFORE_GONE = 3
# Reading replies looks back this far each time: OVH may list a reply some time after it arrived.
INCOMING_OVERLAP = timedelta(hours=1)
# Status messages and replies posted per pass (Slack's chat.postMessage allows about one a second).
POSTS_PER_PASS = 20
OPTED_OUT_BY = "sms-reply"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Posted:
    """What Slack did with a status message or a reply."""

    ts: str | None = None  # where it is now
    retry: bool = False  # Slack failed for now: try again later
    closed: str | None = None  # Slack will never take it (message deleted, channel archived)


@dataclass(frozen=True)
class StatusView:
    """What a send's status message shows."""

    record: SendRecord
    statuses: list[ReceiverStatus]
    validity: timedelta

    @property
    def final(self) -> bool:
        return all(status.state.final for status in self.statuses)


@dataclass(frozen=True)
class ReplyView:
    """A reply to post: who answered, what, and about which send."""

    reply_id: int
    number: str  # E.164, or the sender as OVH wrote it when it is not a number
    message: str
    thread: Thread | None
    stopped: bool  # it was STOP: the number is opted out now
    who: str | None  # the Slack person or contact with this number, when known
    language: str | None = None  # its send's (bot.i18n), or SMS_LANGUAGE's when it matches none


class DeliverySink(Protocol):
    """Where a pass tells people what it learnt (see :class:`bot.slack.delivery.DeliveryPoster`).

    No method raises for Slack's failures: each says what happened in its answer.
    """

    def show_status(
        self,
        view: StatusView,
        channel: str,
        thread_ts: str,
        parent_ts: str,
        status_ts: str | None,
        *,
        look_first: bool,
    ) -> Posted:
        """Post the status message in the thread, or update it in place; bring the parent's summary up to date."""
        ...

    def post_reply(self, view: ReplyView, channel: str, thread_ts: str | None, *, look_first: bool) -> Posted:
        """Post a reply in a send's thread (``thread_ts``), or on its own in a channel."""
        ...

    def post_credit_alert(
        self,
        channel: str,
        credits_left: float,
        threshold: float,
        service: str | None,
        language: str | None = None,
    ) -> bool:
        """Warn that credits ran low (in ``language``: SMS_LANGUAGE); True when posted."""
        ...


@dataclass
class PassReport:
    """What one pass did (for logs, tests and the bench)."""

    enrolled: list[int] = field(default_factory=list)
    expired: int = 0
    reads: int = 0
    changed: list[int] = field(default_factory=list)  # delivery row ids whose shown state changed
    shown: list[int] = field(default_factory=list)  # send ids whose status message was brought up to date
    replies: list[int] = field(default_factory=list)  # reply ids posted or logged
    rate_limited: bool = False
    credit_alert: bool = False
    more: bool = False  # a cap on posts was reached: another pass soon (not only at the next poll)


@dataclass(frozen=True)
class FollowSettings:
    """How the follower behaves (from the settings)."""

    poll_seconds: float = 30.0
    validity: timedelta = timedelta(hours=48)
    reads_per_minute: int = 30
    replies_channel: str | None = None
    alert_channel: str | None = None
    credits_alert_below: float | None = None
    read_seconds: float = 35.0  # the slowest OVH read (connect + read timeout)
    language: str | None = None  # SMS_LANGUAGE: the credit alert's, and a reply's that matches no send

    @property
    def reads_per_pass(self) -> int:
        """The cap on reads per pass: a pass's share of the minute's budget (at least one)."""
        return max(1, math.ceil(self.reads_per_minute * min(self.poll_seconds, 60.0) / 60.0))

    @property
    def lease_seconds(self) -> float:
        """A pass holds what it took for at most this long: its reads, one after the other, at their slowest."""
        return max(120.0, self.reads_per_pass * self.read_seconds + 60.0)


class DeliveryFollower:
    """One pass over what is being followed; see the module docstring."""

    def __init__(
        self,
        store: DeliveryStore,
        ledger: Ledger,
        ovh: OvhDeliveries,
        sink: DeliverySink,
        opt_outs: OptOutList,
        settings: FollowSettings,
        *,
        clock: Callable[[], datetime] = _now,
        who: Callable[[str], str | None] | None = None,
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.ovh = ovh
        self.sink = sink
        self.opt_outs = opt_outs
        self.settings = settings
        self.clock = clock
        # Names the Slack person or contact with a number (people's directory), when one is plugged in.
        self.who = who
        self._pass_lock = threading.Lock()

    def hint(self, sms_id: int) -> bool:
        """OVH's push said this SMS changed: read it at the next pass (True if it is one being followed).
        Nothing from the push itself is believed: the pass reads the SMS from OVH."""
        return self.store.hint(None, sms_id, self.clock())

    def run_once(self) -> PassReport:
        """One pass; never raises (a failure is logged, and the next pass takes it up again)."""
        report = PassReport()
        with self._pass_lock:  # the loop and a test (or the bench) may both drive passes
            for step in (self._enroll, self._read, self._publish, self._post_replies, self._check_credits):
                try:
                    step(report)
                except LedgerUnavailable as error:
                    log.warning(
                        "delivery pass: the database failed (%s); taken up at the next pass", error.reason
                    )
                    break
                except Exception:
                    log.exception("delivery pass: %s failed; taken up at the next pass", step.__name__)
        if report.enrolled or report.changed or report.shown or report.replies or report.expired:
            log.info(
                "delivery pass: %d send(s) followed anew, %d read(s), %d change(s), %d status message(s), "
                "%d reply(ies), %d expired",
                len(report.enrolled),
                report.reads,
                len(report.changed),
                len(report.shown),
                len(report.replies),
                report.expired,
            )
        return report

    # --- following ----------------------------------------------------------------------------------

    def _enroll(self, report: PassReport) -> None:
        now = self.clock()
        report.enrolled = self.store.enroll(now, self.settings.validity)
        report.expired = self.store.expire(now, self.settings.validity)

    def _read(self, report: PassReport) -> None:
        now = self.clock()
        budget = self.store.take_reads(now, self.settings.reads_per_pass, self.settings.reads_per_minute)
        spent = 0
        try:
            spent = self._read_within(report, now, budget)
        finally:
            self.store.give_back_reads(budget - spent)

    def _read_within(self, report: PassReport, now: datetime, budget: int) -> int:
        spent = 0
        if budget > 0:
            spent += self._read_replies(report, now, budget)
        rows = self.store.claim_due(now, budget - spent, self.settings.lease_seconds)
        for index, row in enumerate(rows):
            if spent >= budget or report.rate_limited:
                self.store.release(rows[index:], now + timedelta(seconds=self.settings.poll_seconds))
                break
            spent += self._read_one(row, report, budget - spent)
        report.reads += spent
        return spent

    def _read_one(self, row: DeliveryRow, report: PassReport, budget: int) -> int:
        """Read one SMS from OVH and record it; return the reads it took."""
        now = self.clock()
        poll = timedelta(seconds=self.settings.poll_seconds)
        try:
            reading = self.ovh.read_sms(row.service, row.sms_id)
        except DeliveryError as error:
            if error.code == "rate_limited":
                report.rate_limited = True
                log.warning("OVH is rate-limiting the bot's reads: the rest of this pass waits")
            else:
                log.warning(
                    "SMS %d of send #%d could not be read (%s); read again later",
                    row.sms_id,
                    row.send_id,
                    error.code,
                )
            self.store.record_reading(row, now, {}, next_check_at=now + max(poll, self._delay(row, now)))
            return 1
        values, reads = self._values(row, reading, budget - 1)
        state = values.get("state", row.state)
        next_check = now + (poll if not reading.found else self._delay(row, now))
        if self.store.record_reading(row, now, values, next_check_at=next_check) and any(
            key in values and values[key] != getattr(row, key)
            for key in ("state", "receiver", "reason", "took_seconds", "buffered")
        ):
            report.changed.append(row.id)
            log.info("SMS %d of send #%d: %s", row.sms_id, row.send_id, state)
        return reading.reads + reads

    def _delay(self, row: DeliveryRow, now: datetime) -> timedelta:
        return next_check_delay(now - row.created_at, self.settings.poll_seconds)

    def _values(self, row: DeliveryRow, reading: SmsReading, budget: int) -> tuple[dict[str, Any], int]:
        """The columns to write from what OVH said, and the extra reads it took (the code's words)."""
        if not reading.found:
            misses = row.misses + 1
            if misses >= MISSES_BEFORE_GONE:
                log.warning(
                    "SMS %d of send #%d: OVH no longer has it; no longer followed", row.sms_id, row.send_id
                )
                return {"misses": misses, "state": DeliveryState.GONE.value}, 0
            return {"misses": misses}, 0
        values: dict[str, Any] = {"misses": 0, "receipt": reading.receipt, "ptt": reading.ptt}
        if reading.queued:
            return values, 0
        state = state_of(reading.receipt)
        values["state"] = state.value
        values["buffered"] = reading.receipt == BUFFERED
        receiver = _e164(reading.receiver) if reading.receiver else None
        if receiver and receiver != row.receiver:
            values["receiver"] = receiver
        reads = 0
        if state is DeliveryState.FAILED:
            described = None
            if reading.ptt and (budget > 0 or self.ovh.known_ptt(reading.ptt)):
                reads = 0 if self.ovh.known_ptt(reading.ptt) else 1
                try:
                    described = self.ovh.ptt_description(reading.ptt)
                except DeliveryError as error:
                    log.info("OVH's words for ptt %d could not be read (%s)", reading.ptt, error.code)
            values["reason"] = ptt_words(reading.ptt, described)
        if state is DeliveryState.DELIVERED:
            spent = took(reading.created, reading.delivered)
            values["took_seconds"] = spent.total_seconds() if spent is not None else None
        return values, reads

    # --- status messages ----------------------------------------------------------------------------

    def _publish(self, report: PassReport) -> None:
        now = self.clock()
        claimed = self.store.claim_reports(now, POSTS_PER_PASS, self.settings.lease_seconds)
        report.more = report.more or len(claimed) >= POSTS_PER_PASS
        for row in claimed:
            self._publish_one(row, report)

    def _publish_one(self, row: ReportRow, report: PassReport) -> None:
        record = self.ledger.get(row.send_id)
        if record is None or not row.channel_id or not row.thread_ts:
            self.store.report_closed(row, "no thread")
            return
        statuses = [
            ReceiverStatus(
                receiver=d.receiver,
                state=d.state,
                reason=d.reason,
                took=timedelta(seconds=d.took_seconds) if d.took_seconds is not None else None,
                buffered=d.buffered,
            )
            for d in self.store.statuses(row.send_id)
        ]
        if row.status_ts is None and not self.store.report_posting(row):
            return  # the lease was lost: its new holder posts it
        view = StatusView(record, statuses, self.settings.validity)
        posted = self.sink.show_status(
            view,
            row.channel_id,
            row.thread_ts,
            row.parent_ts or row.thread_ts,
            row.status_ts,
            look_first=row.posting,
        )
        if posted.closed:
            log.warning(
                "send #%d: its status message cannot be kept up to date (%s)", row.send_id, posted.closed
            )
            self.store.report_closed(row, posted.closed)
        elif posted.retry:
            self.store.report_retry(row, self.clock(), self.settings.poll_seconds / 2)
        else:
            self.store.report_shown(row, row.version, posted.ts)
            report.shown.append(row.send_id)

    # --- replies ------------------------------------------------------------------------------------

    def _read_replies(self, report: PassReport, now: datetime, budget: int) -> int:
        """Read the replies OVH received that are not known yet; return the reads it took."""
        try:
            service = self.ovh.service_name()
        except (ConfigurationError, DeliveryError) as error:
            log.warning("replies cannot be read: %s", getattr(error, "user_message", error))
            return 0
        since = self.store.incoming_since(now, INCOMING_OVERLAP)
        try:
            ids = self.ovh.incoming_ids(service, since)
        except DeliveryError as error:
            report.rate_limited = error.code == "rate_limited"
            log.warning("replies could not be listed (%s); listed again at the next pass", error.code)
            return 1
        reads = 1
        fresh = [
            incoming_id for incoming_id in ids if incoming_id not in self.store.known_incoming(service, ids)
        ]
        complete = True
        for incoming_id in sorted(fresh):
            if reads >= budget:
                complete = False
                break
            reads += 1
            try:
                sms = self.ovh.incoming(service, incoming_id)
            except DeliveryError as error:
                complete = False
                log.warning("reply %d could not be read (%s); read again later", incoming_id, error.code)
                if error.code == "rate_limited":
                    report.rate_limited = True
                    break
                continue
            if sms is not None:
                self._keep_reply(service, sms, now)
        if complete:
            self.store.move_incoming_since(now - INCOMING_OVERLAP)
        return reads

    def _keep_reply(self, service: str, sms: IncomingSms, now: datetime) -> None:
        e164 = _e164(sms.sender)
        self.store.add_reply(
            {
                "service": service,
                "incoming_id": sms.id,
                "sender": sms.sender[:64],
                "e164": e164,
                "message": sms.message,
                "received_at": sms.created,
                "is_stop": is_stop(sms.message),
            },
            now,
        )

    def _post_replies(self, report: PassReport) -> None:
        now = self.clock()
        claimed = self.store.claim_replies(now, POSTS_PER_PASS, self.settings.lease_seconds)
        report.more = report.more or len(claimed) >= POSTS_PER_PASS
        for reply in claimed:
            self._post_reply(reply, report)

    def _post_reply(self, reply: ReplyRow, report: PassReport) -> None:
        number = reply.e164 or reply.sender
        stopped = False
        if reply.is_stop and reply.e164:
            added = self.opt_outs.add(reply.e164, OPTED_OUT_BY, "Replied STOP by SMS")
            stopped = True
            if added:
                log.info("reply %d: its number replied STOP and is opted out", reply.id)
        thread = self.store.latest_thread(reply.e164) if reply.e164 else None
        record = self.ledger.get(thread.send_id) if thread is not None else None
        view = ReplyView(
            reply.id,
            number,
            reply.message,
            thread,
            stopped,
            self._who(reply.e164, record),
            # In the thread's language (English for a send from the command line); the team's otherwise.
            record.language if record is not None else self.settings.language,
        )
        channel = thread.channel_id if thread else self.settings.replies_channel
        if channel is None:
            log.info(
                "reply %d matches no send and SMS_REPLIES_CHANNEL is unset: kept in the database only",
                reply.id,
            )
            self.store.reply_done(reply, REPLY_LOGGED)
            report.replies.append(reply.id)
            return
        where = {
            "channel_id": channel,
            "thread_ts": thread.thread_ts if thread else None,
            "send_id": thread.send_id if thread else None,
        }
        if not self.store.reply_posting(reply, where):
            return
        posted = self.sink.post_reply(view, channel, where["thread_ts"], look_first=reply.posting)
        if posted.retry:
            self.store.reply_retry(
                reply, self.clock(), min(3600.0, self.settings.poll_seconds * 2 ** min(reply.attempts, 7))
            )
        else:
            if posted.closed:
                log.warning(
                    "reply %d could not be posted in %s (%s): kept in the database only",
                    reply.id,
                    channel,
                    posted.closed,
                )
            self.store.reply_done(reply, REPLY_POSTED if posted.ts else REPLY_LOGGED, posted.ts)
            report.replies.append(reply.id)

    def _who(self, e164: str | None, record: SendRecord | None) -> str | None:
        """How the send named this number (a person, a contact), else what the plugged-in directory says."""
        if e164 is None:
            return None
        label = record.labels().get(e164) if record is not None else None
        if label:
            return label
        return self.who(e164) if self.who else None

    # --- credits ------------------------------------------------------------------------------------

    def _check_credits(self, report: PassReport) -> None:
        threshold, channel = self.settings.credits_alert_below, self.settings.alert_channel
        if threshold is None or channel is None:
            return
        latest = self.store.latest_credits()
        if latest is None:
            return
        credits_left, service = latest
        if not self.store.credit_alert_due(
            self.clock(), credits_left < threshold, self.settings.lease_seconds
        ):
            return
        posted = self.sink.post_credit_alert(
            channel, credits_left, threshold, service, self.settings.language
        )
        self.store.credit_alert_posted(posted)
        report.credit_alert = posted


def _e164(sender: str) -> str | None:
    """A sender OVH wrote (`+34600000001`, `0034600000001`) as E.164, or None when it is not a number."""
    text = sender.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class DeliveryLoop:
    """Runs :meth:`DeliveryFollower.run_once` every ``interval`` seconds on its own thread, and soon after
    :meth:`wake` (OVH's push, a send); a wake during a pass makes one more pass, never more, and passes are
    at least ``min_gap`` seconds apart, so a flood of pushes costs one read per SMS per pass."""

    def __init__(self, follower: DeliveryFollower, interval: float, *, min_gap: float = 1.0) -> None:
        self._follower = follower
        self._interval = interval
        self._min_gap = min_gap
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smsbot-delivery", daemon=True)
        self.passes = 0
        self._passes_changed = threading.Condition()

    def start(self) -> None:
        """Start the loop (a pass at once)."""
        self._thread.start()

    def wake(self) -> None:
        """Run a pass soon (callable from any thread)."""
        self._wake.set()

    def wait_for_pass(self, after: int, timeout: float = 10.0) -> bool:
        """Wait until more than ``after`` passes ran; True if they did within ``timeout``."""
        with self._passes_changed:
            return self._passes_changed.wait_for(lambda: self.passes > after, timeout)

    def stop(self) -> None:
        """Stop after the current pass."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    @property
    def running(self) -> bool:
        """Whether the loop's thread is alive."""
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            started = time.monotonic()
            if self._follower.run_once().more:
                self._wake.set()  # more to post than one pass takes: go on after the gap
            with self._passes_changed:
                self.passes += 1
                self._passes_changed.notify_all()
            self._wake.wait(self._interval)
            # A burst of wakes within min_gap of the last pass makes one pass, after the gap.
            rest = self._min_gap - (time.monotonic() - started)
            if rest > 0 and not self._stop.is_set():
                self._stop.wait(rest)
