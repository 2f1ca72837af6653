"""`smsbot export`: the ledger's sends over a period, one row each, as CSV or JSON on standard output."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from bot.cli.output import Marks, cli_translator, database_or_exit, say, settings_or_exit
from bot.domain.errors import LedgerUnavailable
from bot.settings import Mode
from bot.storage.export import FORMATS, export_row, parse_day, render
from bot.storage.reports import Reports


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Declare `smsbot export` and its arguments."""
    parser = commands.add_parser(
        "export",
        help="write the sends of a period as CSV or JSON (for the monthly cost report)",
        description="Write one row per send recorded from --since to --until: when, who, channel, receivers "
        "(masked unless --full-numbers), parts, credits estimated and taken, status, OVH job ids. To standard "
        "output; redirect it to a file. Exit status: 0 written, 1 the database failed, 2 bad arguments or "
        "settings.",
    )
    parser.add_argument(
        "--since", required=True, help="the first day (2026-11-01; a date-time is read as UTC)"
    )
    parser.add_argument("--until", help="the day after the last one (excluded); default: now")
    parser.add_argument("--format", choices=FORMATS, default="csv", help="csv (default) or json")
    parser.add_argument(
        "--full-numbers",
        action="store_true",
        help="write the receivers' whole numbers (by default masked: +34******001); mind who gets the file",
    )
    parser.set_defaults(handler=export)


def export(args: argparse.Namespace) -> int:
    """Write the period's sends to standard output."""
    marks = Marks()
    t = cli_translator()
    try:
        since = parse_day(args.since)
        until = parse_day(args.until) if args.until else None
    except ValueError as error:
        say(f"{marks.failed} {error}", stream=sys.stderr)
        return 2
    if until is not None and until <= since:
        told = t._("--until ({until}) must come after --since ({since}).").format(
            until=args.until, since=args.since
        )
        say(f"{marks.failed} {told}", stream=sys.stderr)
        return 2
    if since > datetime.now(UTC):
        told = t._("--since ({since}) is in the future: nothing was sent then.").format(since=args.since)
        say(f"{marks.failed} {told}", stream=sys.stderr)
        return 2
    settings = settings_or_exit(Mode.OFFLINE)
    stop_clause = not settings.ovh_no_stop_clause
    engine = database_or_exit(settings)
    try:
        rows = (
            export_row(record, full_numbers=args.full_numbers, stop_clause=stop_clause)
            for record in Reports(engine).sends_between(since, until)
        )
        for chunk in render(rows, args.format):
            sys.stdout.write(chunk)
        sys.stdout.flush()
    except LedgerUnavailable as error:
        told = t._("The database failed while reading: {reason}. The output is incomplete.").format(
            reason=error.reason
        )
        say(f"{marks.failed} {told}", stream=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0
