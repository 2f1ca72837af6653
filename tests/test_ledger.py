"""The ledger on a real database: one winner per request key, settled outcomes never overwritten."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from bot.domain.errors import ConfigurationError
from bot.domain.records import DuplicateRequest, SendResult, SendStatus
from bot.storage.db import create_engine, migrate
from bot.storage.ledger import Ledger
from tests.harness import all_sends, record_send


@pytest.fixture
def ledger(database_url):
    engine = create_engine(database_url)
    migrate(engine)
    yield Ledger(engine)
    engine.dispose()


def reserve(ledger: Ledger, key: str = "command:t1", message: str = "hi"):
    return record_send(ledger, key=key, message=message)


def test_only_one_of_many_concurrent_deliveries_wins(ledger):
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def deliver() -> None:
        barrier.wait()
        try:
            reserve(ledger)
            outcomes.append("reserved")
        except DuplicateRequest as duplicate:
            outcomes.append(f"duplicate of #{duplicate.existing.id}")

    threads = [threading.Thread(target=deliver) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    [record] = all_sends(ledger)
    assert outcomes.count("reserved") == 1
    assert outcomes.count(f"duplicate of #{record.id}") == 11


def test_a_settled_send_is_never_overwritten(ledger):
    record = reserve(ledger)
    result = SendResult("sms-1", [7], ["+34600000001"], [], 1.0, 9.0)

    sent = ledger.record_result(record.id, result)
    late = ledger.record_failure(record.id, "timeout", "late failure", maybe_sent=True)

    assert sent.status is SendStatus.SENT
    assert late == sent
    assert ledger.get(record.id).error_code is None


def test_a_lost_answer_is_unknown_not_failed(ledger):
    record = reserve(ledger)

    settled = ledger.record_failure(record.id, "timeout", "no answer", maybe_sent=True)

    assert settled.status is SendStatus.UNKNOWN


def test_unicode_text_and_receivers_round_trip(ledger):
    text = "Ça va? 🚀\n<!channel> & co"
    record = reserve(ledger, message=text)

    assert ledger.get(record.id).message == text
    assert ledger.find_by_key("command:t1").receivers == ["+34600000001"]


def test_a_database_from_a_newer_version_is_refused(database_url):
    engine = create_engine(database_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))

    with pytest.raises(ConfigurationError, match="newer smsbot"):
        migrate(engine)
    engine.dispose()


def test_migrating_twice_changes_nothing(database_url):
    engine = create_engine(database_url)
    migrate(engine)
    ledger = Ledger(engine)
    reserve(ledger)

    migrate(engine)

    assert len(all_sends(ledger)) == 1
    engine.dispose()


def test_an_upgrade_keeps_the_existing_ledger(database_url):
    from alembic import command

    from bot.storage.db import alembic_config

    engine = create_engine(database_url)
    with engine.connect() as conn:  # the schema as the first release left it, with a send in it
        command.upgrade(alembic_config(conn), "0001")
        conn.commit()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sms_sends (request_key, source, created_at, updated_at, user_id, channel_id, "
                "receivers, message, status, ovh_job_ids, accepted_receivers, rejected_receivers, audit_status) "
                "VALUES ('command:old', 'command', :now, :now, 'UALICE', 'COPS', :receivers, 'from 0001', 'sent', "
                "'[7]', :receivers, '[]', 'thread')"
            ),
            {"now": "2026-11-01 10:00:00+00:00", "receivers": '["+34600000001", "+34600000002"]'},
        )

    migrate(engine)

    [record] = all_sends(Ledger(engine))
    assert (record.message, record.status, record.ovh_job_ids) == ("from 0001", SendStatus.SENT, [7])
    assert record.receiver_count == 2 and record.attempts == 1
    assert record.lease_until is None
    engine.dispose()
