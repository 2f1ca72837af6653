"""`smsbot contacts import FILE`: load the contacts (named numbers) from a CSV file, all or nothing."""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.cli.output import Marks, cli_translator, database_or_exit, say, settings_or_exit
from bot.domain.errors import InvalidInput, LedgerUnavailable
from bot.domain.receivers import parse_receiver
from bot.domain.recipients import check_contact_name
from bot.i18n import T_, Text, Tn_
from bot.logs import configure_logging
from bot.settings import Mode
from bot.storage.contacts import ContactList

# Who the ledger names as having added a contact from the terminal.
IMPORTED_BY = "cli"
_HEADER_NAMES = {"name", "nombre", "nom", "contact", "contacto"}


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Declare `smsbot contacts import FILE`."""
    parser = commands.add_parser(
        "contacts",
        help="manage the contacts (named numbers usable as receivers, `/sms @NAME …`)",
        description="Manage the contacts that /sms and the form accept by name.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    importing = actions.add_parser(
        "import",
        help="add or update contacts from a CSV file of NAME,NUMBER rows",
        description="Read a CSV file (UTF-8, commas or semicolons; a first row NAME,NUMBER is a header) and "
        "add each contact, or change its number. Every row is checked first: if any is wrong, each "
        "wrong row is listed with what to fix and nothing is imported. Exit status: 0 imported, 2 not "
        "(bad rows, an unreadable file, settings).",
    )
    importing.add_argument("file", metavar="FILE", type=Path, help="the CSV file")
    importing.set_defaults(handler=import_contacts)


@dataclass(frozen=True)
class _Row:
    line: int
    name: str
    e164: str


def import_contacts(args: argparse.Namespace) -> int:
    """Check every row of the file, then import them all (or none, listing the rows to fix)."""
    settings = settings_or_exit(Mode.OFFLINE)
    configure_logging(settings)
    marks = Marks()
    t = cli_translator()
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = (
            t._("it is not UTF-8 text") if isinstance(error, UnicodeDecodeError) else error.strerror or error
        )
        told = t._("Not imported: {file} cannot be read ({reason}).").format(file=args.file, reason=reason)
        say(f"{marks.failed} {told}", stream=sys.stderr)
        return 2
    rows, problems = read_rows(text, settings.sms_default_region)
    if problems:
        told = t.ngettext(
            "Not imported: {count} row to fix, and nothing was changed:",
            "Not imported: {count} rows to fix, and nothing was changed:",
            len(problems),
        ).format(count=len(problems))
        say(f"{marks.failed} {told}", stream=sys.stderr)
        for problem in problems:
            say(problem.in_(t), indent="  ", stream=sys.stderr)
        return 2
    if not rows:
        told = t._("Not imported: {file} holds no NAME,NUMBER rows.").format(file=args.file)
        say(f"{marks.failed} {told}", stream=sys.stderr)
        return 2
    engine = database_or_exit(settings)
    try:
        contacts = ContactList(engine)
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        for row in rows:
            counts[contacts.put(row.name, row.e164, IMPORTED_BY)] += 1
    except LedgerUnavailable as error:
        told = t._("The database failed ({reason}); some rows may be imported: run it again.").format(
            reason=error.reason
        )
        say(f"{marks.failed} {told}", stream=sys.stderr)
        return 2
    finally:
        engine.dispose()
    told = t.ngettext(
        "{count} contact: {added} added, {updated} with a new number, {unchanged} unchanged.",
        "{count} contacts: {added} added, {updated} with a new number, {unchanged} unchanged.",
        len(rows),
    ).format(count=len(rows), **counts)
    say(f"{marks.ok} {told}")
    return 0


def read_rows(text: str, default_region: str | None) -> tuple[list[_Row], list[Text]]:
    """The file's rows, and a line for each bad one (its line number, what is wrong, what to do)."""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows: list[_Row] = []
    problems: list[Text] = []
    seen: dict[str, int] = {}
    for index, fields in enumerate(csv.reader(text.splitlines(), dialect)):
        line = index + 1
        cells = [cell.strip() for cell in fields]
        if not any(cells):
            continue
        if index == 0 and cells[0].lower() in _HEADER_NAMES:
            continue
        if len(cells) != 2:
            problems.append(
                Tn_(
                    "line {line}: {count} field; write NAME,NUMBER.",
                    "line {line}: {count} fields; write NAME,NUMBER.",
                    len(cells),
                    line=line,
                )
            )
            continue
        name, number = cells[0].lstrip("@"), cells[1]
        try:
            check_contact_name(name)
            receiver = parse_receiver(number, default_region)
        except InvalidInput as error:
            problems.append(T_("line {line}: {problem}", line=line, problem=error.message))
            continue
        first = seen.setdefault(name.casefold(), line)
        if first != line:
            problems.append(
                T_(
                    "line {line}: `{name}` is on line {first} too; keep one.",
                    line=line,
                    name=name,
                    first=first,
                )
            )
            continue
        rows.append(_Row(line, name, receiver.e164))
    return rows, problems
