"""Database engine and schema migrations (Alembic), applied by the bot itself at start-up."""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Engine

from bot.errors import ConfigurationError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant shared by every instance: it serialises concurrent start-ups on one PostgreSQL database.
_MIGRATION_LOCK_ID = 0x5D5B07


def create_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine fit for many threads: SQLite waits for locks instead of failing, PostgreSQL pools."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            # WAL lets readers go on while a send is being written; the audit must survive a crash.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def migrate(engine: Engine) -> None:
    """Bring the schema to this version's head, or refuse if the database is newer than this code.

    On PostgreSQL an advisory lock makes instances starting together migrate one after the other.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        try:
            config = _alembic_config(connection)
            script = ScriptDirectory.from_config(config)
            current = MigrationContext.configure(connection).get_current_revision()
            if current is not None and not _known(script, current):
                raise ConfigurationError(
                    f"The database schema is at revision {current}, which this version of smsbot does not "
                    "know: it was written by a newer smsbot. Upgrade smsbot, or point DATABASE_URL elsewhere."
                )
            if current != script.get_current_head():
                log.info("migrating the database schema from %s to %s", current, script.get_current_head())
                command.upgrade(config, "head")
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID})
                connection.commit()
