"""The database engine: errors without parameters, and SQLite transactions that are whole, with a way to
hold the write lock from the first read (what a limits check needs beside another process)."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command as alembic_command
from sqlalchemy.engine import Engine

from bot.domain.errors import LedgerUnavailable
from bot.domain.limits import LimitExceeded, Limits, Usage
from bot.i18n import T_, Tn_
from bot.storage.db import alembic_config, begin_immediate, create_engine, migrate
from bot.storage.ledger import Ledger
from tests.harness import all_sends, record_send

NUMBER, TEXT = "+34600000001", "Door code is 4711"


@pytest.fixture
def engine(sqlite_url) -> Iterator[Engine]:
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE claims (who TEXT NOT NULL)"))
    yield engine
    engine.dispose()


def claims(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT who FROM claims ORDER BY rowid")).scalars())


def reserve(ledger: Ledger, key: str, **kwargs):
    return record_send(
        ledger,
        key=key,
        message=TEXT,
        receivers=(NUMBER,),
        source="cli",
        team_id=None,
        channel_id=None,
        **kwargs,
    )


def test_a_failing_statement_is_logged_without_its_parameters(database_url, caplog):
    engine = create_engine(database_url)  # not migrated: the insert of a send fails
    key = f"cli:{uuid.uuid4()}"
    try:
        with pytest.raises(LedgerUnavailable) as failure:
            reserve(Ledger(engine), key)
    finally:
        engine.dispose()
    assert isinstance(failure.value.__cause__, sa.exc.SQLAlchemyError)  # storage translated it, once

    with caplog.at_level(logging.ERROR):
        logging.getLogger("smsbot.test").error("the ledger failed: %s", failure.value, exc_info=failure.value)

    assert "INSERT INTO sms_sends" in caplog.text  # the statement is still there to debug with
    assert "parameters hidden" in caplog.text
    for value in (NUMBER, TEXT, key):
        assert value not in caplog.text
        assert value not in failure.value.reason


def test_sqlite_keeps_wal_and_full_synchronous_writes(engine):
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(sa.text("PRAGMA synchronous")).scalar_one() == 2  # FULL


def test_a_sqlite_transaction_starts_at_its_first_read(engine, sqlite_url):
    other = create_engine(sqlite_url)
    try:
        with engine.begin() as conn:
            before = conn.execute(sa.text("SELECT count(*) FROM claims")).scalar_one()
            with other.begin() as meanwhile:
                meanwhile.execute(sa.text("INSERT INTO claims VALUES ('other')"))
            # Python's sqlite3 alone would not have begun yet, and this read would see the other's row.
            assert conn.execute(sa.text("SELECT count(*) FROM claims")).scalar_one() == before == 0
    finally:
        other.dispose()


_CLAIM_IN_ANOTHER_PROCESS = """
import sys
import sqlalchemy as sa
from bot.storage.db import begin_immediate, create_engine

engine = create_engine(sys.argv[1])
with begin_immediate(engine) as conn:
    taken = conn.execute(sa.text("SELECT count(*) FROM claims")).scalar_one()
    print(taken, flush=True)
    sys.stdin.readline()  # the test process tries to claim meanwhile
    if taken == 0:
        conn.execute(sa.text("INSERT INTO claims VALUES ('child')"))
engine.dispose()
"""


def test_begin_immediate_keeps_another_process_from_writing_between_its_read_and_its_write(
    engine, sqlite_url
):
    child = subprocess.Popen(
        [sys.executable, "-c", _CLAIM_IN_ANOTHER_PROCESS, sqlite_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "0"  # the child read, and holds its transaction open

        def claim() -> None:
            with begin_immediate(engine) as conn:
                if conn.execute(sa.text("SELECT count(*) FROM claims")).scalar_one() == 0:
                    conn.execute(sa.text("INSERT INTO claims VALUES ('parent')"))

        claiming = threading.Thread(target=claim)
        claiming.start()
        claiming.join(timeout=0.5)
        assert claiming.is_alive(), "the second transaction did not wait for the first one's write lock"

        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.wait(timeout=10) == 0
        claiming.join(timeout=10)
    finally:
        child.kill()
        child.wait()

    assert claims(engine) == ["child"]


def test_concurrent_start_ups_migrate_a_fresh_sqlite_file_one_after_the_other(sqlite_url):
    engines = [create_engine(sqlite_url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    failures: list[BaseException] = []

    def start_up(engine: Engine) -> None:
        start.wait()
        try:
            migrate(engine)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=start_up, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        assert failures == []
        assert reserve(Ledger(engines[0]), "cli:after").status == "pending"
    finally:
        for engine in engines:
            engine.dispose()


def test_sqlite_limits_hold_against_another_process_sending_at_the_same_moment(sqlite_url):
    # Two engines on one file stand for two processes (the bot and `smsbot send`): SQLite locks each
    # connection alike, and each Ledger has its own in-process lock, as each process would.
    engines = [create_engine(sqlite_url), create_engine(sqlite_url)]
    migrate(engines[0])
    first, second = (Ledger(engine) for engine in engines)
    one_a_day = Limits(user_sms_per_day=1).guard(1, 1.0)
    checked = threading.Event()
    outcomes: list[str] = []

    def check_then_wait(user: Usage, channel: Usage) -> None:
        one_a_day(user, channel)
        checked.set()
        time.sleep(0.5)  # the other process tries to send meanwhile

    def send_first() -> None:
        try:
            reserve(first, "cli:first", guard=check_then_wait)
            outcomes.append("first reserved")
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(f"first failed: {error!r}")

    sending = threading.Thread(target=send_first)
    sending.start()
    try:
        assert checked.wait(10)
        with pytest.raises(LimitExceeded):
            reserve(second, "cli:second", guard=one_a_day)
        sending.join(timeout=10)
        assert outcomes == ["first reserved"]
        assert [record.request_key for record in all_sends(first)] == ["cli:first"]
    finally:
        sending.join(timeout=10)
        for engine in engines:
            engine.dispose()


def test_a_database_at_the_delivery_schema_upgrades_to_scheduled_sends_and_drafts(tmp_path):
    """Sends written before scheduling existed read back as sent at once, with replies off."""
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        alembic_command.upgrade(alembic_config(connection), "0008")
        connection.execute(
            sa.text(
                "INSERT INTO sms_sends (request_key, source, created_at, updated_at, user_id, receivers, message, "
                "status, ovh_job_ids, accepted_receivers, rejected_receivers, audit_status) VALUES ('command:old', "
                "'command', '2026-11-30 10:00:00', '2026-11-30 10:00:00', 'UALICE', '[\"+34600000001\"]', 'hi', "
                "'sent', '[1]', '[\"+34600000001\"]', '[]', 'thread')"
            )
        )

    migrate(engine)

    old = Ledger(engine).find_by_key("command:old")
    assert old is not None
    assert (old.send_at, old.allow_replies, old.cancelled_at, old.cancel_note) == (None, False, None, None)
    assert "sms_drafts" in sa.inspect(engine).get_table_names()


def test_a_database_before_languages_upgrades_and_a_send_keeps_its_language_and_error(database_url):
    """Sends written before 0011 read back with no language (English) and their English error only; a new
    send keeps its language and its error as a message to tell in it, on SQLite and PostgreSQL alike."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            alembic_command.upgrade(alembic_config(connection), "0010")
            connection.execute(
                sa.text(
                    "INSERT INTO sms_sends (request_key, source, created_at, updated_at, user_id, receivers, "
                    "message, status, ovh_job_ids, accepted_receivers, rejected_receivers, audit_status, "
                    "error_code, error_message) VALUES ('command:old', 'command', '2026-11-30 10:00:00', "
                    "'2026-11-30 10:00:00', 'UALICE', '[\"+34600000001\"]', 'hi', 'failed', '[]', '[]', "
                    "'[]', 'thread', 'all_rejected', 'OVH rejected every receiver.')"
                )
            )

        migrate(engine)

        ledger = Ledger(engine)
        old = ledger.find_by_key("command:old")
        assert old is not None
        assert (old.language, old.error_text, old.cancel_note_text) == (None, None, None)
        assert old.error_message == "OVH rejected every receiver."

        new = reserve(ledger, "command:new", language="es")
        reason = T_("OVH refused: {why}", why=Tn_("{count} number", "{count} numbers", 2))
        failed = ledger.record_failure(new.id, "rejected", reason, maybe_sent=False)
        again = ledger.get(new.id)
        assert failed.language == again.language == "es"
        assert again.error_message == "OVH refused: 2 numbers"  # the export's and the logs' English
        assert again.error_text == reason
    finally:
        engine.dispose()


def test_a_database_at_0011_downgrades_to_0010_and_up_again(sqlite_url):
    engine = create_engine(sqlite_url)
    try:
        migrate(engine)
        with engine.begin() as connection:
            alembic_command.downgrade(alembic_config(connection), "0010")
        assert "language" not in {c["name"] for c in sa.inspect(engine).get_columns("sms_sends")}
        migrate(engine)
        assert {"language", "error_text", "cancel_note_text"} <= {
            c["name"] for c in sa.inspect(engine).get_columns("sms_sends")
        }
    finally:
        engine.dispose()
