"""The subcommands that open the ledger (`export`, `purge`, `contacts import`) on a database they cannot
use: one message that names DATABASE_URL and why, exit status 2, no password shown, nothing written."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from bot.storage.db import migrate
from tests.test_cli_check import Cli, kept_logging


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    with kept_logging():
        yield Cli(monkeypatch, capsys, tmp_path)


@pytest.fixture
def contacts_file(tmp_path):
    path = tmp_path / "contactos.csv"
    path.write_text("Recepción;600 00 00 09\n", encoding="utf-8")
    return str(path)


COMMANDS = {
    "export": lambda _file: ("export", "--since", "2026-11-01"),
    "purge": lambda _file: ("purge",),
    "contacts import": lambda file: ("contacts", "import", file),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unreachable_database_is_named_and_its_password_hidden(cli, env, contacts_file, command):
    url = "postgresql://smsbot:hunter2-secret@127.0.0.1:9/smsbot"

    outcome = cli(*COMMANDS[command](contacts_file), env=env | {"DATABASE_URL": url})

    assert outcome.code == 2 and outcome.out == ""
    told = " ".join(outcome.err.split())  # one message, wrapped for the terminal
    assert told.startswith("✗ The database (DATABASE_URL) cannot be used: ")
    assert "hunter2" not in outcome.err


@pytest.mark.parametrize("command", COMMANDS)
def test_a_database_from_a_newer_smsbot_is_left_untouched(cli, env, sqlite_url, contacts_file, command):
    engine = sa.create_engine(sqlite_url)
    migrate(engine)
    engine.dispose()
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")

    outcome = cli(*COMMANDS[command](contacts_file), env={**env, "LANG": "es_ES.UTF-8"})

    assert outcome.code == 2 and outcome.out == ""
    told = " ".join(outcome.err.split())  # one message, wrapped for the terminal
    assert told.startswith("✗ No se puede usar la base de datos (DATABASE_URL): ")
    assert "9999" in told
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [("9999",)]
        assert connection.execute("SELECT count(*) FROM sms_contacts").fetchone() == (0,)
