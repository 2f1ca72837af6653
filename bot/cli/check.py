"""`smsbot check`: run every check of :mod:`bot.checks` and print the report."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.checks import Status, exit_status, run_checks
from bot.cli.output import Marks, cli_translator, say, sdk_logs_quiet, settings_or_exit
from bot.i18n import N_, in_
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


# The areas' headings, as bot.checks names them, marked for translation.
_AREAS = {
    "Settings": N_("Settings"),
    "Slack": N_("Slack"),
    "OVH": N_("OVH"),
    "Database": N_("Database"),
    "After a send": N_("After a send"),
}


def check(_args: argparse.Namespace) -> int:
    """Run every check of :mod:`bot.checks`, print one line each (with the fix for a problem)."""
    settings = settings_or_exit(Mode.OFFLINE)
    configure_logging(settings)
    t = cli_translator()
    env_file = Path.cwd() / ".env"
    if env_file.exists():
        print(t._("smsbot check: settings from {file} and the environment").format(file=env_file))
    else:
        print(t._("smsbot check: settings from the environment (no .env here)"))
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
            print(f"\n{t._(_AREAS.get(area, area))}")
        say(f"{symbol[result.status]} {t._(result.name)}: {in_(result.detail, t)}", indent="  ")
        if result.fix and result.status in (Status.FAILED, Status.WARNING):
            say(t._("fix: {fix}").format(fix=in_(result.fix, t)), indent="      ")
    failed = sum(result.status is Status.FAILED for result in results)
    warnings = sum(result.status is Status.WARNING for result in results)
    print()
    counted = t.ngettext("{count} warning", "{count} warnings", warnings).format(count=warnings)
    if failed:
        say(
            f"{marks.failed} "
            + t.ngettext(
                "{count} problem to fix, {warnings}. Fix the {mark} lines above, then run `smsbot check` again.",
                "{count} problems to fix, {warnings}. Fix the {mark} lines above, then run `smsbot check` again.",
                failed,
            ).format(count=failed, warnings=counted, mark=marks.failed)
        )
    elif warnings:
        say(f"{marks.ok} " + t._("Ready to run, with {warnings} worth a look.").format(warnings=counted))
    else:
        say(f"{marks.ok} " + t._("All good: the bot is ready to run."))
    return exit_status(results)
