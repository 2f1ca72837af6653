"""`smsbot purge`: erase now the texts and full numbers that SMS_RETENTION_DAYS no longer keeps."""

from __future__ import annotations

import argparse
import sys

from bot.cli.output import Marks, cli_translator, database_or_exit, say, settings_or_exit
from bot.domain.errors import LedgerUnavailable
from bot.settings import Mode
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
    t = cli_translator()
    engine = database_or_exit(settings)
    days = settings.retention_days
    try:
        result = Retention(engine, days).run(due_only=False)
    except LedgerUnavailable as error:
        told = t._("The database failed: {reason}. Run `smsbot purge` again.").format(reason=error.reason)
        say(f"{marks.failed} {told}", stream=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if result is None:
        say(
            f"{marks.failed} " + t._("Another instance is purging right now; nothing was done here."),
            stream=sys.stderr,
        )
        return 1
    sends = t.ngettext("{count} send", "{count} sends", result.changed).format(count=t.number(result.changed))
    if days == 0:
        erased = t._(
            "Erased the text and numbers of {sends} as soon as settled (SMS_RETENTION_DAYS); their counts, "
            "credits and statuses stay."
        ).format(sends=sends)
    else:
        erased = t.ngettext(
            "Erased the text and numbers of {sends} older than {count} day, before {before} UTC "
            "(SMS_RETENTION_DAYS); their counts, credits and statuses stay.",
            "Erased the text and numbers of {sends} older than {count} days, before {before} UTC "
            "(SMS_RETENTION_DAYS); their counts, credits and statuses stay.",
            days,
        ).format(sends=sends, count=days, before=f"{result.before:%Y-%m-%d %H:%M}")
    also = t._(
        "Also the numbers of {reports} and the senders and texts of {replies}, and deleted {drafts}."
    ).format(
        reports=t.ngettext("{count} delivery report", "{count} delivery reports", result.deliveries).format(
            count=t.number(result.deliveries)
        ),
        replies=t.ngettext("{count} reply", "{count} replies", result.replies).format(
            count=t.number(result.replies)
        ),
        drafts=t.ngettext(
            "{count} send never confirmed", "{count} sends never confirmed", result.drafts
        ).format(count=t.number(result.drafts)),
    )
    say(f"{marks.ok} {erased} {also}")
    return 0
