"""Checks of the database: the ledger can be reached, and its schema is this version's (never migrates)."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from bot.checks.result import CheckResult, Status
from bot.i18n import N_, T_, Tn_
from bot.settings import Settings
from bot.storage.db import SchemaState, database_reason, schema_state


def check_database(settings: Settings) -> list[CheckResult]:
    """The ledger's database can be reached, and its schema is this version's (read-only: never migrates)."""
    url = sa.engine.make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        missing = _sqlite_file_problem(url.database, shown)
        if missing is not None:
            return [missing]
    connect_args = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
    # A plain engine, not bot.storage.db's: that one switches SQLite to WAL, which writes to the file.
    engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            state = schema_state(connection)
    except sa.exc.SQLAlchemyError as error:
        reason = database_reason(error)
        return [
            CheckResult(
                "Database",
                N_("connection"),
                Status.FAILED,
                T_("{database} cannot be reached: {reason}", database=shown, reason=reason),
                N_(
                    "Check DATABASE_URL, that the server runs and accepts connections from here, and the "
                    "user's password and rights."
                ),
            ),
            CheckResult("Database", N_("schema"), Status.SKIPPED, N_("not checked: no connection.")),
        ]
    finally:
        engine.dispose()
    return [CheckResult("Database", "connection", Status.OK, f"{shown}."), _schema_result(state)]


def _sqlite_file_problem(database: str | None, shown: str) -> CheckResult | None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    where = path if path.is_absolute() else T_("{path} (relative to {folder})", path=path, folder=Path.cwd())
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            return CheckResult(
                "Database",
                "connection",
                Status.FAILED,
                T_("{file} cannot be read and written by this user.", file=where),
                N_("Fix the file's permissions, or point DATABASE_URL elsewhere."),
            )
        return None
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir() or not os.access(directory, os.W_OK | os.X_OK):
        return CheckResult(
            "Database",
            "connection",
            Status.FAILED,
            T_(
                "{file} does not exist, and its directory cannot be written: the bot cannot create it.",
                file=where,
            ),
            N_("Create the directory (writable by the bot's user), or point DATABASE_URL elsewhere."),
        )
    return CheckResult(
        "Database",
        "connection",
        Status.WARNING,
        T_("{file} does not exist yet: `smsbot run` creates it, with its schema, at start-up.", file=where),
        N_(
            "Nothing to do on a first run. Otherwise, check that DATABASE_URL points at the existing ledger "
            "(a relative SQLite path depends on the directory the bot starts in)."
        ),
    )


def _schema_result(state: SchemaState) -> CheckResult:
    if state.up_to_date:
        return CheckResult(
            "Database", "schema", Status.OK, T_("up to date (revision {revision}).", revision=state.head)
        )
    if not state.known:
        return CheckResult(
            "Database",
            "schema",
            Status.FAILED,
            T_(
                "the schema is at revision {revision}, which this smsbot does not know: a newer smsbot "
                "wrote it, and this one refuses to start on it.",
                revision=state.current,
            ),
            N_("Upgrade smsbot, or point DATABASE_URL at this version's database."),
        )
    return CheckResult(
        "Database",
        "schema",
        Status.WARNING,
        Tn_(
            "{count} migration pending ({revisions}; the database is at {current}): `smsbot run` applies it "
            "at start-up.",
            "{count} migrations pending ({revisions}; the database is at {current}): `smsbot run` applies them "
            "at start-up.",
            len(state.pending),
            revisions=", ".join(state.pending),
            current=state.current or T_("an empty schema"),
        ),
        N_("Nothing to do if this version is about to start; `smsbot check` itself never migrates."),
    )
