"""The send use case on a real ledger, with an SMS provider and an audit sink of the test's own.

The use case depends on protocols (Gateway, AuditSink, Directory): these tests give it small
implementations, and check the rules it owns: jobs of at most N receivers with the lease renewed before
each, the partial-failure rule, and what a database lost after a post means for the person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa

from bot.domain.access import SendPolicy
from bot.domain.destinations import DestinationPolicy
from bot.domain.errors import (
    ANSWER_NOT_RECORDED,
    RECORDED_NOT_SENT,
    ConfigurationError,
    DeliveryError,
    LedgerUnavailable,
)
from bot.domain.limits import Limits
from bot.domain.receivers import parse_receivers
from bot.domain.records import AuditStatus, JobOptions, JobResult, OvhTrace, SendRecord, SendStatus
from bot.sending.audit import AuditOutcome
from bot.sending.recovery import Recovery
from bot.sending.service import Rules, SendRequest, SendService
from bot.storage.db import create_engine, migrate
from bot.storage.ledger import Ledger
from bot.storage.opt_outs import OptOutList

NUMBERS = [f"+3460000000{n}" for n in range(1, 6)]


class ScriptedProvider:
    """A Gateway that accepts every job, except those the test scripts to fail."""

    sender_id = None
    no_stop_clause = True

    def __init__(self) -> None:
        self.posts: list[list[str]] = []
        self.failures: dict[
            int, DeliveryError | ConfigurationError
        ] = {}  # job number (1-based) -> what it raises
        self.before_answer: Callable[[int], None] = lambda _job: None

    def post(
        self, *, message: str, receivers: list[str], tag: str, options: JobOptions | None = None
    ) -> JobResult:
        self.posts.append(list(receivers))
        job = len(self.posts)
        self.before_answer(job)
        if job in self.failures:
            raise self.failures[job]
        return JobResult(
            service="sms-test",
            job_ids=[job],
            accepted=list(receivers),
            rejected=[],
            credits_used=float(len(receivers)),
            credits_left=100.0 - job if job == 1 else None,  # later answers may carry no balance
        )

    def credits_left(self) -> float | None:
        return None


class ThreadSink:
    """An AuditSink that says every audit went to a thread."""

    def __init__(self) -> None:
        self.reported: list[SendRecord] = []

    def report(self, record: SendRecord, note: str | None = None) -> AuditOutcome:
        self.reported.append(record)
        return AuditOutcome(AuditStatus.THREAD, record.channel_id, "1700000000.000100")

    def report_update(self, record: SendRecord, note: str | None = None) -> AuditOutcome:
        return self.report(record, note)


class NoGroups:
    """A Directory with no user groups and no workspace admins."""

    def members(self, usergroup_id: str) -> frozenset[str]:
        return frozenset()

    def is_workspace_admin(self, user_id: str) -> bool:
        return False


@pytest.fixture
def engine(sqlite_url) -> Iterator[sa.Engine]:
    engine = create_engine(sqlite_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def provider() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
def service(engine, provider) -> SendService:
    rules = Rules(SendPolicy(allowed_users=frozenset({"UALICE"})), DestinationPolicy(None), Limits())
    return SendService(
        Ledger(engine), provider, rules, NoGroups(), OptOutList(engine), max_receivers_per_job=2
    )


def request(key: str = "cli:one") -> SendRequest:
    receivers = parse_receivers(", ".join(NUMBERS), None)
    return SendRequest(key, "cli", "UALICE", "COPS", None, receivers, "Hola")


def test_a_send_goes_in_jobs_of_at_most_n_receivers_and_is_reported_once(service, provider):
    sink = ThreadSink()

    reported = service.send_and_report(request(), sink)

    assert provider.posts == [NUMBERS[0:2], NUMBERS[2:4], NUMBERS[4:5]]
    record = reported.record
    assert record.status is SendStatus.SENT
    assert record.ovh_job_ids == [1, 2, 3]
    assert record.accepted_receivers == NUMBERS
    assert record.credits_used == 5.0
    assert record.credits_left == 99.0  # the last balance OVH gave
    assert [r.id for r in sink.reported] == [record.id]
    settled = service.ledger.get(record.id)
    assert settled.audit_status is AuditStatus.THREAD and settled.lease_until is None


def test_a_later_job_refused_keeps_what_was_sent_and_lists_the_rest_as_rejected(service, provider):
    provider.failures[2] = DeliveryError("no_credits", "No credits left.")

    record = service.send_and_report(request(), ThreadSink()).record

    assert provider.posts == [NUMBERS[0:2], NUMBERS[2:4]]  # nothing after the failed job
    assert record.status is SendStatus.SENT
    assert record.accepted_receivers == NUMBERS[0:2]
    assert record.rejected_receivers == NUMBERS[2:5]
    assert record.error_code == "no_credits"
    assert record.error_message == "Sent to part of the receivers only: No credits left."


def test_a_later_job_refused_for_the_configuration_keeps_what_was_sent(service, provider):
    # The Gateway protocol may raise ConfigurationError for any job: after job 1 went out, the send is
    # partial, never "failed" (that would lose the record of the SMS job 1 sent).
    provider.failures[2] = ConfigurationError("OVH_SMS_SERVICE is not set.")

    record = service.send_and_report(request(), ThreadSink()).record

    assert provider.posts == [NUMBERS[0:2], NUMBERS[2:4]]
    assert record.status is SendStatus.SENT
    assert record.ovh_job_ids == [1] and record.accepted_receivers == NUMBERS[0:2]
    assert record.rejected_receivers == NUMBERS[2:5]
    assert record.error_code == "configuration"
    assert record.error_message == "Sent to part of the receivers only: OVH_SMS_SERVICE is not set."


def test_a_first_job_refused_is_a_failed_send(service, provider):
    provider.failures[1] = DeliveryError("rejected", "OVH refused the message.")

    record = service.send_and_report(request(), ThreadSink()).record

    assert record.status is SendStatus.FAILED and record.error_code == "rejected"
    assert provider.posts == [NUMBERS[0:2]]


def test_a_send_whose_lease_was_taken_posts_no_further_job(service, provider, engine):
    def recovery_takes_the_row(job: int) -> None:
        if job == 1:  # the lease runs out and another worker takes the row while job 1 is posted
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE sms_sends SET lease_owner = 'someone-else'"))

    provider.before_answer = recovery_takes_the_row

    record = service.send_and_report(request(), ThreadSink()).record

    assert provider.posts == [NUMBERS[0:2]]
    assert record.status is SendStatus.PENDING  # left to recovery, which finds job 1 at OVH by its tag


def test_a_send_whose_lease_was_taken_leaves_the_new_holder_its_lease(service, provider, engine):
    ledger = service.ledger
    taken: list[SendRecord] = []

    def recovery_takes_the_row(job: int) -> None:
        if job == 1:  # job 1 takes longer than the lease: it runs out and a recovery worker claims the row
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE sms_sends SET lease_until = NULL"))
            taken.append(ledger.claim_next(lease_seconds=300))

    provider.before_answer = recovery_takes_the_row

    reported = service.send_and_report(request(), ThreadSink())

    [holder] = taken
    row = ledger.get(reported.record.id)
    assert provider.posts == [NUMBERS[0:2]]
    # Reporting the live send does not let go of a row recovery holds: no second worker may take it early.
    assert (row.lease_owner, row.lease_until) == (holder.lease_owner, holder.lease_until)
    assert ledger.claim_next(lease_seconds=300) is None


def test_a_database_lost_after_a_post_says_do_not_send_again(service, provider, engine):
    def lose_the_ledger(_job: int) -> None:
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE sms_sends RENAME TO sms_sends_lost"))

    provider.before_answer = lose_the_ledger
    sink = ThreadSink()

    with pytest.raises(LedgerUnavailable) as failure:
        service.send_and_report(request(), sink)

    assert failure.value.user_message == ANSWER_NOT_RECORDED
    assert "sms_sends" in failure.value.reason
    assert provider.posts == [NUMBERS[0:2]] and sink.reported == []


class NoTrace:
    """A Tracer for whom the provider holds nothing of any send."""

    def trace(self, tag: str, receivers: list[str], message: str, since: datetime) -> OvhTrace:
        return OvhTrace(service="sms-test", sms_ids=[], receivers=[], credits=0.0)


def test_a_database_lost_after_recording_says_the_bot_sends_it_not_to_send_again(service, provider, engine):
    def database_fails(_conn, _cursor, statement: str, *_args) -> None:
        if statement.startswith("UPDATE sms_sends"):  # the send is recorded; taking it to OVH fails
            raise sa.exc.OperationalError(statement, None, Exception("disk I/O error"))

    sa.event.listen(engine, "before_cursor_execute", database_fails)
    with pytest.raises(LedgerUnavailable) as failure:
        service.send_and_report(request(), ThreadSink())
    sa.event.remove(engine, "before_cursor_execute", database_fails)

    assert provider.posts == []
    # The row stays recorded: once its lease runs out, recovery sends it. Told "nothing was sent, try
    # again", the person would send it a second time.
    assert failure.value.user_message == RECORDED_NOT_SENT
    assert "Do not send it again" in RECORDED_NOT_SENT
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE sms_sends SET lease_until = NULL"))
    recovery = Recovery(
        service.ledger, service, NoTrace(), ThreadSink(), lease_seconds=300, retry_after_seconds=60
    )
    assert recovery.run_once().sent_again == [1]
    assert provider.posts == [NUMBERS[0:2], NUMBERS[2:4], NUMBERS[4:5]]
