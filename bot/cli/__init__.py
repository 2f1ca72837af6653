"""The `smsbot` command: run the bot, check its set-up, or send an SMS from the terminal.

One module per subcommand (:mod:`bot.cli.run`, :mod:`bot.cli.check`, :mod:`bot.cli.send`); what they
share (settings for the terminal, marks, wrapping) is in :mod:`bot.cli.output`.

Exit statuses:

- ``smsbot check``: 0 when every check passed (warnings allowed), 1 when one failed.
- ``smsbot send``: 0 sent (OVH accepted at least one receiver), 1 failed or outcome unknown (the database
  failing mid-way included: the message says whether anything may have gone out), 2 nothing was sent
  because of the input or the access rules. With ``--dry-run``: 0 it would go, 1 the database could not
  be read to tell, 2 it would not.
- ``smsbot export``: 0 written, 1 the database failed while reading (the output is incomplete), 2 bad
  arguments, settings or a database that cannot be opened.
- ``smsbot purge``: 0 done (it says how many sends changed), 1 the database failed or another instance was
  purging, 2 settings or a database that cannot be opened.
- ``smsbot run``: 0 stopped by a signal; 1 Slack could not be reached or the port cannot be listened on
  at start-up; 2 a setting must change (a refused token, a URL that is not Slack's) or the database
  cannot be used. Either way one line says what failed and what to check, never a traceback.
- ``smsbot contacts import FILE``: 0 imported, 2 nothing imported (rows to fix, listed; an unreadable file).
- ``smsbot callback set URL | show | clear``: 0 done, 1 OVH refused or failed, 2 the URL or the settings
  are wrong (or OVH is simulated).
- Every command: 2 when the settings cannot be read (each problem is named); ``smsbot`` alone prints the
  usage and exits with 2.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version

from bot.cli import callback, check, contacts, export, purge, run, send


def _version() -> str:
    try:
        return version("smsbot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed: pip install -e .)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smsbot",
        description="Send SMS from Slack through OVHcloud.",
        epilog="Start with `smsbot check`: it says what is missing. `smsbot COMMAND --help` for a command's "
        "options; the README for the set-up.",
    )
    parser.add_argument("--version", action="version", version=f"smsbot {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    run.add_parser(commands)
    check.add_parser(commands)
    send.add_parser(commands)
    contacts.add_parser(commands)
    export.add_parser(commands)
    purge.add_parser(commands)
    callback.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `smsbot` script; exits with the command's status (see the module docstring)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # `smsbot` alone: what it can do, rather than argparse's "the following arguments are required".
        parser.print_help(sys.stderr)
        raise SystemExit(2)
    status = args.handler(args)
    if status:
        raise SystemExit(status)


__all__ = ["main"]
