"""`smsbot send` when the database fails after start-up: the message says whether anything went out, and
the command exits with 1, without a traceback burying it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from bot.storage.db import create_engine, migrate
from tests.fakes import HttpRequest, HttpResponse
from tests.fakes.slack_api import FakeSlack
from tests.test_cli_check import Cli, kept_logging, line


class ThreadHookSlack(FakeSlack):
    """A Slack that runs ``before_thread_reply`` when the audit's thread reply arrives, before answering."""

    def __init__(self) -> None:
        super().__init__()
        self.before_thread_reply: Callable[[], None] | None = None

    def handle(self, request: HttpRequest) -> HttpResponse:
        reply = request.path == "/api/chat.postMessage" and b"thread_ts" in request.body
        if reply and self.before_thread_reply is not None:
            self.before_thread_reply()
        return super().handle(request)


@pytest.fixture
def fake_slack() -> Iterator[ThreadHookSlack]:
    with ThreadHookSlack() as fake:
        yield fake


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path) -> Iterator[Cli]:
    with kept_logging():
        yield Cli(monkeypatch, capsys, tmp_path)


def change_schema(url: str, statement: str, *, migrated: bool = False) -> None:
    """Run ``statement`` from another connection (after bringing the schema up to date, if asked)."""
    engine = create_engine(url)
    try:
        if migrated:
            migrate(engine)
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def test_a_database_lost_while_ovh_answers_says_do_not_send_again_and_exits_1(
    cli, env, database_url, fake_ovh
):
    fake_ovh.delay = 1.0
    posted = threading.Event()

    def lose_the_ledger_once_ovh_has_the_send() -> None:
        deadline = time.monotonic() + 10
        while not any(request.method == "POST" for request in fake_ovh.requests):
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        change_schema(database_url, "ALTER TABLE sms_sends RENAME TO sms_sends_lost")
        posted.set()

    saboteur = threading.Thread(target=lose_the_ledger_once_ovh_has_the_send)
    saboteur.start()
    outcome = cli(
        "send", "+34600000001", "Hola", "--user", "UALICE", env=env | {"DATABASE_URL": database_url}
    )
    saboteur.join(timeout=10)

    assert posted.is_set(), "the send never reached OVH"
    assert outcome.code == 1
    assert line(outcome.err, "✗ Your SMS was handed to OVH").endswith(
        "Do not send it again: the audit thread will be posted once the database is back."
    )
    assert "Traceback" not in outcome.err
    assert len(fake_ovh.jobs) == 1


def test_a_database_that_cannot_record_the_send_sends_nothing_and_exits_1(cli, env, sqlite_url, fake_ovh):
    change_schema(sqlite_url, "DROP TABLE sms_sends", migrated=True)

    outcome = cli("send", "+34600000001", "Hola", "--user", "UALICE", env=env)

    assert outcome.code == 1
    assert line(outcome.err, "✗ The bot could not record your send").endswith(
        "so nothing was sent. Try again in a minute."
    )
    assert "Traceback" not in outcome.err
    assert fake_ovh.jobs == []


def test_a_dry_run_whose_usage_cannot_be_read_says_so_and_exits_1(cli, env, sqlite_url, fake_ovh):
    change_schema(sqlite_url, "DROP TABLE sms_sends", migrated=True)

    outcome = cli("send", "+34600000001", "Hola", "--user", "UALICE", "--dry-run", env=env)

    assert outcome.code == 1
    assert line(outcome.err, "✗ Dry run, cannot tell") == (
        "✗ Dry run, cannot tell whether it would be sent: the database (DATABASE_URL) did not answer "
        "(no such table: sms_sends). Nothing was sent. `smsbot check` says more."
    )
    assert "Traceback" not in outcome.err
    assert fake_ovh.jobs == []


@pytest.mark.parametrize("dry_run", [False, True])
def test_an_unreadable_opt_out_list_sends_nothing_and_exits_1(cli, env, sqlite_url, fake_ovh, dry_run):
    change_schema(sqlite_url, "DROP TABLE sms_opt_outs", migrated=True)

    outcome = cli(
        "send", "+34600000001", "Hola", "--user", "UALICE", *(["--dry-run"] if dry_run else []), env=env
    )

    assert outcome.code == 1
    assert "The bot cannot check its opt-out list (its database is not answering), so nothing was sent." in (
        " ".join(outcome.err.split())
    )
    assert "Traceback" not in outcome.err
    assert fake_ovh.jobs == []


def test_a_database_lost_after_the_audit_was_posted_still_reports_the_send_and_exits_0(
    cli, env, sqlite_url, fake_slack, fake_ovh
):
    fake_slack.before_thread_reply = lambda: change_schema(
        sqlite_url, "ALTER TABLE sms_sends RENAME TO sms_sends_lost"
    )

    outcome = cli("send", "+34600000001", "Hola", "--user", "UALICE", "--channel", "COPS", env=env)

    assert outcome.code == 0
    assert line(outcome.out, "✓ Sent:")
    assert line(outcome.out, "Audit thread posted in COPS.")
    assert line(outcome.err, "! The database did not record where the audit went").endswith(
        "(no such table: sms_sends): the running bot may post it again once the database is back."
    )
    assert "Traceback" not in outcome.err
    assert len(fake_ovh.jobs) == 1
