"""`smsbot check`: run every check of :mod:`bot.checks` and print the report."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.checks import Status, exit_status, run_checks
from bot.cli.output import Marks, say, sdk_logs_quiet, settings_or_exit
from bot.logs import configure_logging
from bot.settings import Mode


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Declare `smsbot check`."""
    parser = commands.add_parser(
        "check",
        help="check the Slack app, the OVH keys and the database, and say what to fix",
        description="Check the set-up without changing anything. Exit status: 0 all good (warnings "
        "allowed), 1 something must be fixed, 2 the settings cannot be read.",
    )
    parser.set_defaults(handler=check)


def check(_args: argparse.Namespace) -> int:
    """Run every check of :mod:`bot.checks`, print one line each (with the fix for a problem)."""
    settings = settings_or_exit(Mode.OFFLINE)
    configure_logging(settings)
    env_file = Path.cwd() / ".env"
    source = f"{env_file} and the environment" if env_file.exists() else "the environment (no .env here)"
    print(f"smsbot check: settings from {source}")
    marks = Marks()
    symbol = {
        Status.OK: marks.ok,
        Status.FAILED: marks.failed,
        Status.WARNING: marks.warning,
        Status.SKIPPED: marks.skipped,
    }
    with sdk_logs_quiet(settings):  # each failure is a result below; the SDK's lines would interleave
        results = run_checks(settings)
    area = None
    for result in results:
        if result.area != area:
            area = result.area
            print(f"\n{area}")
        say(f"{symbol[result.status]} {result.name}: {result.detail}", indent="  ")
        if result.fix and result.status in (Status.FAILED, Status.WARNING):
            say(f"fix: {result.fix}", indent="      ")
    failed = sum(result.status is Status.FAILED for result in results)
    warnings = sum(result.status is Status.WARNING for result in results)
    print()
    if failed:
        say(
            f"{marks.failed} {failed} problem(s) to fix, {warnings} warning(s). Fix the {marks.failed} "
            "lines above, then run `smsbot check` again."
        )
    elif warnings:
        say(f"{marks.ok} Ready to run, with {warnings} warning(s) worth a look.")
    else:
        say(f"{marks.ok} All good: the bot is ready to run.")
    return exit_status(results)
