"""`smsbot check`: is everything the bot needs in place, and if not, what exactly to fix.

Each check is a plain function returning :class:`CheckResult` objects; the CLI only prints them. Checks
read and never change anything: no message is sent, no database is created or migrated. No secret is
ever put in a result: variables are named, their values are not shown.

Each area has its module (settings, Slack, OVH, database); this one runs them in the order they are shown.
"""

from __future__ import annotations

from bot.checks.database import check_database
from bot.checks.delivery import check_delivery
from bot.checks.ovh import check_ovh, create_token_url, rule_matches
from bot.checks.result import CheckResult, Status, exit_status, shown_url
from bot.checks.settings import check_settings
from bot.checks.slack import REQUIRED_SLACK_SCOPES, check_slack
from bot.settings import Settings

__all__ = [
    "REQUIRED_SLACK_SCOPES",
    "CheckResult",
    "Status",
    "check_database",
    "check_delivery",
    "check_ovh",
    "check_settings",
    "check_slack",
    "create_token_url",
    "exit_status",
    "rule_matches",
    "run_checks",
    "shown_url",
]


def run_checks(settings: Settings) -> list[CheckResult]:
    """Every check, in the order they are shown."""
    return [
        *check_settings(settings),
        *check_slack(settings),
        *check_ovh(settings),
        *check_delivery(settings),
        *check_database(settings),
    ]
