"""Database engine and schema migrations (Alembic), applied by the bot itself at start-up."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.domain.errors import ConfigurationError, LedgerUnavailable

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant shared by every instance: it serialises concurrent start-ups on one PostgreSQL database.
_MIGRATION_LOCK_ID = 0x5D5B07


# The execution option that picks how a transaction begins on SQLite (see :func:`create_engine`).
SQLITE_BEGIN = "sqlite_begin"
_SQLITE_BEGIN_MODES = ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")
# Seconds a SQLite connection waits for another's lock before giving up.
_SQLITE_TIMEOUT = 30


def database_reason(error: BaseException) -> str:
    """The driver's own first line about a database error: what went wrong, without the statement, its
    parameters or a server's DETAIL line."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn any database error raised inside into the domain's :class:`LedgerUnavailable`.

    Storage is the only layer that knows SQLAlchemy: nothing above it catches a database exception.
    """
    try:
        yield
    except SQLAlchemyError as error:
        raise LedgerUnavailable(reason=database_reason(error)) from error


_P = ParamSpec("_P")
_T = TypeVar("_T")


def translated(method: Callable[_P, _T]) -> Callable[_P, _T]:
    """Decorate a storage method: a database error in it becomes :class:`LedgerUnavailable`."""

    @wraps(method)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        with database_errors():
            return method(*args, **kwargs)

    return call


@translated
def ping(engine: Engine) -> None:
    """Check that the database answers (``SELECT 1``); raise :class:`LedgerUnavailable` if not."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def create_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine fit for many threads: SQLite waits for locks instead of failing, PostgreSQL pools.

    Errors never show a statement's parameters (phone numbers, message texts), only the statement.

    On SQLite every transaction really is one, from its first statement (Python's sqlite3 would only open
    it at the first write, leaving the reads before it outside): SQLAlchemy's documented recipe, in which
    SQLAlchemy emits ``BEGIN`` itself. A transaction that reads and then writes what it read depends on
    (a limits check, then the insert) must take the write lock at once with :func:`begin_immediate`
    (``BEGIN IMMEDIATE``): begun deferred, once another connection commits between its first read and its
    first write, that write fails at once with "database is locked". Transactions that write first, and
    reads, need nothing. PostgreSQL ignores the option.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"timeout": _SQLITE_TIMEOUT, "check_same_thread": False}, hide_parameters=True
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            # sqlite3 emits no BEGIN of its own: _sqlite_begin does, for every transaction.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            # WAL lets readers go on while a send is being written; the audit must survive a crash.
            _use_wal(cursor)
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(connection: sa.Connection) -> None:
            mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
            if mode not in _SQLITE_BEGIN_MODES:
                raise ValueError(
                    f"{SQLITE_BEGIN} must be one of {', '.join(_SQLITE_BEGIN_MODES)}, not {mode!r}"
                )
            connection.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True
    )


def _use_wal(cursor: sqlite3.Cursor) -> None:
    # Switching a new file to WAL can fail at once, without waiting, while another connection opens it:
    # two processes starting on a new ledger together (the bot and `smsbot send`) would crash.
    deadline = time.monotonic() + _SQLITE_TIMEOUT
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def begin_immediate(engine: Engine) -> AbstractContextManager[sa.Connection]:
    """``engine.begin()`` for a transaction that reads, then writes depending on what it read.

    On SQLite it begins with ``BEGIN IMMEDIATE``: it holds the database's write lock from its first
    statement, so no other connection, in this process or another, writes between its reads and its
    writes (others wait for it, up to the engine's 30 s timeout). On PostgreSQL it is ``engine.begin()``.
    """
    return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}).begin()


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration for this version's migrations (on ``connection`` when one is given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against this version's migrations."""

    current: str | None  # the database's revision; None on an empty schema
    head: str | None  # this version's latest revision
    known: bool  # False when a newer smsbot wrote the schema: this one must not start on it
    pending: tuple[str, ...]  # the revisions `migrate` would apply, oldest first

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def schema_state(connection: sa.Connection) -> SchemaState:
    """Read the schema's revision (reads only: `smsbot check` uses it too, and never migrates)."""
    script = ScriptDirectory.from_config(alembic_config())
    current = MigrationContext.configure(connection).get_current_revision()
    head = script.get_current_head()
    try:
        known = current is None or script.get_revision(current) is not None
    except CommandError:
        known = False
    pending: tuple[str, ...] = ()
    if known and current != head:
        pending = tuple(reversed([revision.revision for revision in script.iterate_revisions(head, current)]))
    return SchemaState(current, head, known, pending)


@translated
def migrate(engine: Engine) -> None:
    """Bring the schema to this version's head, or refuse if the database is newer than this code.

    Raises :class:`ConfigurationError` for a newer schema, :class:`LedgerUnavailable` if the database fails.

    Instances starting together migrate one after the other: on PostgreSQL under an advisory lock, on
    SQLite in one transaction holding the write lock (``smsbot send`` migrates too, beside a running bot).
    """
    with engine.connect() as connection:
        connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        try:
            state = schema_state(connection)
            if not state.known:
                raise ConfigurationError(
                    f"The database schema is at revision {state.current}, which this version of smsbot does "
                    "not know: it was written by a newer smsbot. Upgrade smsbot, or point DATABASE_URL "
                    "elsewhere."
                )
            if not state.up_to_date:
                log.info("migrating the database schema from %s to %s", state.current, state.head)
                command.upgrade(alembic_config(connection), "head")
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID})
                connection.commit()
