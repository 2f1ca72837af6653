"""`smsbot purge`: erase now the texts and full numbers that SMS_RETENTION_DAYS no longer keeps."""

from __future__ import annotations

import argparse
import sys

from bot.cli.output import Marks, say, settings_or_exit
from bot.domain.errors import ConfigurationError, LedgerUnavailable
from bot.settings import Mode
from bot.storage.db import create_engine, migrate
from bot.storage.retention import Retention


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Declare `smsbot purge`."""
    parser = commands.add_parser(
        "purge",
        help="erase now the texts and numbers of sends older than SMS_RETENTION_DAYS",
        description="Erase the text and mask the numbers of every settled send older than SMS_RETENTION_DAYS "
        "(0: every settled send), as the bot does once a day; counts, credits and statuses stay. Sends still "
        "in flight keep everything until they settle. Exit status: 0 done, 1 the database failed or another "
        "instance is running it, 2 settings or a database that cannot be opened.",
    )
    parser.set_defaults(handler=purge)


def purge(_args: argparse.Namespace) -> int:
    """Run the retention now and say how many sends it changed."""
    settings = settings_or_exit(Mode.OFFLINE)
    marks = Marks()
    try:
        engine = create_engine(settings.database_url)
        migrate(engine)
    except (ConfigurationError, LedgerUnavailable) as error:
        why = error.reason if isinstance(error, LedgerUnavailable) else error.user_message
        say(f"{marks.failed} The database (DATABASE_URL) cannot be used: {why}", stream=sys.stderr)
        return 2
    days = settings.retention_days
    try:
        result = Retention(engine, days).run(due_only=False)
    except LedgerUnavailable as error:
        say(
            f"{marks.failed} The database failed: {error.reason}. Run `smsbot purge` again.",
            stream=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    if result is None:
        say(
            f"{marks.failed} Another instance is purging right now; nothing was done here.", stream=sys.stderr
        )
        return 1
    window = (
        "as soon as settled"
        if days == 0
        else f"older than {days} day(s), before {result.before:%Y-%m-%d %H:%M} UTC"
    )
    say(
        f"{marks.ok} Erased the text and numbers of {result.changed:,} send(s) {window} "
        "(SMS_RETENTION_DAYS); their counts, credits and statuses stay. Also the numbers of "
        f"{result.deliveries:,} delivery report(s) and the senders and texts of {result.replies:,} reply(ies)."
    )
    return 0
