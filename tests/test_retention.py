"""Retention: texts and full numbers leave the ledger after SMS_RETENTION_DAYS; counts, credits and statuses
stay; sends in flight keep everything; the daily run happens once across instances; `smsbot purge` says what
it changed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.domain.errors import ConfigurationError
from bot.domain.records import AuditStatus, SendStatus
from bot.settings import Mode, load_settings
from bot.storage.db import create_engine, migrate
from bot.storage.ledger import Ledger, sends
from bot.storage.reports import Reports
from bot.storage.retention import Retention, RetentionLoop
from tests.harness import SlackSender, all_sends, orphan, record_send, settled_records
from tests.test_cli_check import Cli, kept_logging


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    with kept_logging():
        yield Cli(monkeypatch, capsys, tmp_path)


def backdate(ledger: Ledger, send_id: int, days: float) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(
            sa.update(sends)
            .where(sends.c.id == send_id)
            .values(created_at=datetime.now(UTC) - timedelta(days=days))
        )


def totals(ledger: Ledger) -> tuple:
    reports = Reports(ledger.engine)
    everything = reports.team_use(datetime(2000, 1, 1, tzinfo=UTC))
    counts = [
        (r.receiver_count, len(r.accepted_receivers), len(r.rejected_receivers)) for r in all_sends(ledger)
    ]
    money = [
        (r.credits_used, r.estimated_credits, r.credits_left, r.status, r.ovh_job_ids)
        for r in all_sends(ledger)
    ]
    return everything, counts, money, ledger.usage("UALICE", "COPS")


def test_sends_older_than_the_window_lose_text_and_numbers_and_totals_stay(cli, env, bot, slack, fake_ovh):
    fake_ovh.invalid_receivers = {"+34611111111"}
    slack.command("+34600000001,+34611111111 Código 1234 para Ana")
    settled_records(bot, 1)
    slack.command("+34622222222 reciente")
    old, _ = settled_records(bot, 2)
    backdate(bot.ledger, old.id, 366)
    before = totals(bot.ledger)

    outcome = cli("purge", env=env)

    assert outcome.code == 0, outcome.err
    assert "Erased the text and numbers of 1 send older than 365 days" in outcome.out
    erased, kept = all_sends(bot.ledger)
    assert erased.message == ""
    assert erased.receivers == ["+34******001", "+34******111"]
    assert erased.accepted_receivers == ["+34******001"] and erased.rejected_receivers == ["+34******111"]
    assert kept.message == "reciente" and kept.receivers == ["+34622222222"]
    assert totals(bot.ledger) == before
    again = cli("purge", env=env)
    assert "Erased the text and numbers of 0 sends" in again.out


def test_zero_days_erases_settled_sends_at_once_and_leaves_sends_in_flight_whole(cli, env, bot, slack):
    slack.command("+34600000001 hola")
    [settled] = settled_records(bot, 1)
    held = record_send(bot.ledger, key="command:held", message="in flight", receivers=("+34600000002",))
    unknown = record_send(bot.ledger, key="command:unknown", message="lost answer", lease_seconds=0)
    bot.ledger.record_failure(unknown.id, "timeout", "OVH did not answer", maybe_sent=True)
    before = totals(bot.ledger)

    outcome = cli("purge", env={**env, "SMS_RETENTION_DAYS": "0"})

    assert "Erased the text and numbers of 1 send as soon as settled" in outcome.out
    by_id = {record.id: record for record in all_sends(bot.ledger)}
    assert by_id[settled.id].message == "" and by_id[settled.id].receivers == ["+34******001"]
    assert by_id[held.id].message == "in flight" and by_id[held.id].receivers == ["+34600000002"]
    assert by_id[unknown.id].message == "lost answer" and by_id[unknown.id].status is SendStatus.UNKNOWN
    assert totals(bot.ledger) == before


def test_a_send_whose_audit_is_still_owed_keeps_what_the_audit_shows(cli, env, bot, slack, fake_slack):
    fake_slack.set_down(True)
    slack.command("+34600000001 hola")
    [record] = settled_records(bot, 1)
    assert record.audit_status == "failed"

    cli("purge", env={**env, "SMS_RETENTION_DAYS": "0"})
    assert all_sends(bot.ledger)[0].message == "hola"

    fake_slack.set_down(False)
    bot.recover()
    parents = [p for p in fake_slack.calls_to("chat.postMessage") if not p.get("thread_ts")]
    assert "hola" in str(parents[-1]["blocks"])
    cli("purge", env={**env, "SMS_RETENTION_DAYS": "0"})
    assert all_sends(bot.ledger)[0].message == ""


def test_recovery_of_a_send_left_behind_does_not_meet_an_erased_field(cli, env, bot, fake_ovh):
    left = orphan(bot, message="Aviso: corte de agua", receivers=("+34600000001",))

    cli("purge", env={**env, "SMS_RETENTION_DAYS": "0"})
    bot.recover()

    [job] = fake_ovh.jobs
    assert job.body["message"] == "Aviso: corte de agua" and job.body["receivers"] == ["+34600000001"]
    assert bot.ledger.get(left.id).status is SendStatus.SENT


def test_a_redelivered_command_is_still_known_after_its_text_was_erased(cli, env, bot, slack, fake_ovh):
    trigger = "trigger-" + str(int(datetime.now(UTC).timestamp() * 1000)) + "-abcdef"
    slack.command("+34600000001 hola", trigger_id=trigger)
    settled_records(bot, 1)
    cli("purge", env={**env, "SMS_RETENTION_DAYS": "0"})

    slack.command("+34600000001 hola", trigger_id=trigger)

    assert len(fake_ovh.jobs) == 1
    assert len(all_sends(bot.ledger)) == 1


def test_two_instances_purge_once(database_url):
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        migrate(engines[0])
        ledger = Ledger(engines[0])
        for n in range(30):
            record = record_send(ledger, key=f"command:{n}", lease_seconds=0)
            ledger.record_failure(record.id, "refused", "no", maybe_sent=False)
            ledger.record_audit(record.id, AuditStatus.THREAD, "COPS", f"1.{n}", owner=None)
        start = threading.Barrier(2)
        results: list = [None, None]

        def run(index: int) -> None:
            start.wait()
            results[index] = Retention(engines[index], 0).run(due_only=True)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        done = [result for result in results if result is not None]
        assert len(done) == 1 and done[0].changed == 30
        assert Retention(engines[1], 0).run(due_only=True) is None  # ran less than a day ago
        assert Retention(engines[1], 0).last_run() is not None
        later = Retention(engines[1], 0, clock=lambda: datetime.now(UTC) + timedelta(days=1, minutes=1))
        assert later.run(due_only=True).changed == 0
    finally:
        for engine in engines:
            engine.dispose()


def test_purge_says_when_another_instance_holds_the_task(cli, env, bot):
    assert Retention(bot.ledger.engine, 365).claim(due_only=False) is not None

    outcome = cli("purge", env=env)

    assert outcome.code == 1
    assert "Another instance is purging right now" in outcome.err


def test_the_daily_loop_runs_it_and_records_the_run(bot, slack):
    slack.command("+34600000001 hola")
    settled_records(bot, 1)
    retention = Retention(bot.ledger.engine, 0)
    loop = RetentionLoop(retention, interval=3600)
    loop.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while retention.last_run() is None and datetime.now(UTC) < deadline:
            threading.Event().wait(0.01)
    finally:
        loop.stop()
    assert retention.last_run() is not None
    assert all_sends(bot.ledger)[0].message == ""


@pytest.mark.parametrize("value", ["-1", "a year", "36501", "1.5"])
def test_a_bad_retention_is_named(env, value):
    with pytest.raises(ConfigurationError) as refused:
        load_settings({**env, "SMS_RETENTION_DAYS": value}, Mode.HTTP)
    assert f"SMS_RETENTION_DAYS must be a whole number of days from 0 to 36500 (got `{value}`)" in str(
        refused.value
    )


def test_retention_defaults_to_a_year(env):
    assert load_settings(env, Mode.HTTP).retention_days == 365
    assert load_settings({**env, "SMS_RETENTION_DAYS": "0"}, Mode.HTTP).retention_days == 0


def test_the_home_tab_and_history_show_an_erased_send_masked(start_bot, fake_slack, env, cli):
    bot = start_bot()
    slack = SlackSender(bot.url)
    slack.command("+34600000001 hola")
    settled_records(bot, 1)
    cli("purge", env={**env, "SMS_RETENTION_DAYS": "0"})
    url = fake_slack.new_response_url()
    slack.command("history", response_url=url)
    from tests.harness import blocks_text

    assert "to +34******001 · :white_check_mark: sent" in blocks_text(fake_slack.wait_for_response(url)[0])


def test_the_upgrade_from_the_previous_schema_adds_the_task_ready_to_claim(database_url):
    from alembic import command

    from bot.storage.db import alembic_config

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(conn), "0006")
            # Written as that schema's rows were: today's ledger writes columns added since.
            now = datetime.now(UTC)
            conn.execute(
                sa.text(
                    "INSERT INTO sms_sends (request_key, source, created_at, updated_at, user_id, channel_id, "
                    "receivers, message, status, ovh_job_ids, accepted_receivers, rejected_receivers, "
                    "audit_status, lease_until, receiver_count) VALUES ('command:before', 'command', :now, :now, "
                    "'UALICE', 'COPS', '[\"+34600000001\"]', 'hi', 'pending', '[]', '[]', '[]', 'pending', :now, 1)"
                ),
                {"now": now},
            )
            conn.commit()

        migrate(engine)

        assert [r.request_key for r in all_sends(Ledger(engine))] == ["command:before"]
        retention = Retention(engine, 0)
        assert retention.last_run() is None
        assert retention.run(due_only=True).changed == 0  # the pending send keeps everything
        assert all_sends(Ledger(engine))[0].message == "hi"
    finally:
        engine.dispose()


def test_the_numbers_of_named_receivers_are_masked_and_their_names_kept(cli, env, bot, slack):
    bot.core.contacts.add("reception", "+34600000009", "UADMIN")
    slack.command("@reception +34600000001 Hola")
    [record] = settled_records(bot, 1)
    assert [entry["e164"] for entry in record.recipients if entry.get("e164")] == ["+34600000009"]

    cli("purge", env={**env, "SMS_RETENTION_DAYS": "0"})

    [erased] = all_sends(bot.ledger)
    [contact] = [entry for entry in erased.recipients if entry.get("contact")]
    assert contact["contact"] == "reception" and contact["e164"] == "+34******009"
    assert "600000009" not in str(erased.recipients)
    assert sorted(erased.receivers) == ["+34******001", "+34******009"]


def test_old_delivery_reports_and_replies_lose_their_numbers_and_texts(cli, env, bot, slack):
    from bot.storage.deliveries import deliveries, replies

    slack.command("+34600000001 Hola")
    [record] = settled_records(bot, 1)
    now = datetime.now(UTC)
    row = {"service": "sms-test", "created_at": now, "updated_at": now, "next_check_at": now}
    with bot.ledger.engine.begin() as conn:
        conn.execute(
            sa.insert(deliveries),
            [
                {**row, "send_id": record.id, "sms_id": 1, "receiver": "+34600000001", "state": "delivered"},
                {**row, "send_id": record.id, "sms_id": 2, "receiver": "+34600000002", "state": "pending"},
            ],
        )
        reply = {"service": "sms-test", "created_at": now, "next_try_at": now, "send_id": record.id}
        conn.execute(
            sa.insert(replies),
            [
                {
                    **reply,
                    "incoming_id": 1,
                    "sender": "+34600000001",
                    "e164": "+34600000001",
                    "message": "Vale, gracias",
                    "state": "posted",
                },
                {
                    **reply,
                    "incoming_id": 2,
                    "sender": "+34600000003",
                    "e164": "+34600000003",
                    "message": "¿Quién es?",
                    "state": "pending",
                },
            ],
        )

    outcome = cli("purge", env={**env, "SMS_RETENTION_DAYS": "0"})

    said = " ".join(outcome.out.split())  # the terminal's lines are wrapped
    assert (
        "Also the numbers of 1 delivery report and the senders and texts of 1 reply, and deleted 0 sends never "
        "confirmed." in said
    )
    with bot.ledger.engine.connect() as conn:
        receivers = dict(conn.execute(sa.select(deliveries.c.sms_id, deliveries.c.receiver)).all())
        kept = {r.incoming_id: r for r in conn.execute(sa.select(replies)).all()}
    assert receivers == {1: "+34******001", 2: "+34600000002"}  # a pending one is still followed
    assert (kept[1].message, kept[1].sender, kept[1].e164) == ("", "+34******001", "+34******001")
    assert (kept[2].message, kept[2].e164) == ("¿Quién es?", "+34600000003")  # not posted yet


def test_a_send_never_confirmed_is_deleted_once_past_its_lifetime(cli, env, bot):
    from bot.storage.drafts import DraftStore, drafts

    store = DraftStore(bot.ledger.engine)
    store.put("view:old", "UALICE", {"receivers": ["+34600000001"], "message": "¿Lo mando?"})
    store.put("view:new", "UBOB", {"receivers": ["+34600000002"], "message": "Pensándolo"})
    with bot.ledger.engine.begin() as conn:  # Alice never confirmed hers, 25 hours ago
        conn.execute(
            drafts.update()
            .where(drafts.c.request_key == "view:old")
            .values(created_at=datetime.now(UTC) - timedelta(hours=25))
        )

    outcome = cli("purge", env=env)

    assert outcome.code == 0, outcome.err
    assert "and deleted 1 send never confirmed." in " ".join(outcome.out.split())
    with bot.ledger.engine.connect() as conn:
        assert conn.execute(sa.select(drafts.c.request_key)).scalars().all() == ["view:new"]
    assert store.get("view:new", "UBOB") == {"receivers": ["+34600000002"], "message": "Pensándolo"}
