"""The `smsbot` command: run the bot, check its set-up, or send an SMS from the terminal.

One module per subcommand (:mod:`bot.cli.run`, :mod:`bot.cli.check`, :mod:`bot.cli.send`); what they
share (settings for the terminal, marks, wrapping) is in :mod:`bot.cli.output`.

Exit statuses:

- ``smsbot check``: 0 when every check passed (warnings allowed), 1 when one failed.
- ``smsbot send``: 0 sent (OVH accepted at least one receiver), 1 failed or outcome unknown (the database
  failing mid-way included: the message says whether anything may have gone out), 2 nothing was sent
  because of the input or the access rules. With ``--dry-run``: 0 it would go, 1 the database could not
  be read to tell, 2 it would not.
- Every command: 2 when the settings cannot be read (each problem is named).
"""

from __future__ import annotations

import argparse

from bot.cli import check, run, send


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smsbot", description="Send SMS from Slack through OVHcloud.")
    commands = parser.add_subparsers(dest="command", required=True)
    run.add_parser(commands)
    check.add_parser(commands)
    send.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `smsbot` script; exits with the command's status (see the module docstring)."""
    args = _parser().parse_args(argv)
    status = args.handler(args)
    if status:
        raise SystemExit(status)


__all__ = ["main"]
