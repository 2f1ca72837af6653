"""What stops `smsbot run` from starting, told in one line that says what failed and what to check.

A start-up failure is an operator's problem, not a bug: the network, a proxy, a wrong URL or token, a
database that does not answer. Each becomes one line on stderr and an exit status, never a traceback
(with LOG_LEVEL=DEBUG the libraries' own log lines still show the detail).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from http.client import HTTPException

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.checks.result import shown_url
from bot.domain.errors import ConfigurationError, LedgerUnavailable
from bot.settings import DEFAULT_SLACK_API_URL, Settings
from bot.slack.client import failure_reason

# Exit statuses of `smsbot run` when it cannot start.
SETTINGS_WRONG = 2  # a setting must change (a refused token, a URL that is not Slack's, a bad database)
UNREACHABLE = 1  # something did not answer: it may pass, and starting again may work

_SLACK_ERROR_CODE = re.compile(r"^[a-z0-9_]+$")
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
_REFUSED_TOKEN = {"invalid_auth", "not_authed", "token_revoked", "account_inactive", "not_allowed_token_type"}
_BOT_TOKEN_HELP = "copy the Bot User OAuth Token (xoxb-…, OAuth & Permissions page) into SLACK_BOT_TOKEN"  # noqa: S105 - advice


@dataclass(frozen=True)
class StartFailure:
    """Why the bot cannot start: the line to print and the exit status."""

    line: str
    status: int


def explain(error: BaseException, settings: Settings) -> StartFailure | None:
    """The one-line explanation of a failure while building the bot, or None for a bug (let it show)."""
    if isinstance(error, ConfigurationError):
        return StartFailure(error.user_message, SETTINGS_WRONG)
    if isinstance(error, LedgerUnavailable):
        check = (
            "that the file's folder exists and the bot may write there"
            if settings.database_url.startswith("sqlite")
            else "that it runs, its address and the credentials"
        )
        return StartFailure(
            f"smsbot cannot start: the database in DATABASE_URL cannot be used ({error.reason}). Check "
            f"{check}; `smsbot check` says more.",
            SETTINGS_WRONG,
        )
    # Bolt checks the bot token with auth.test as the app is built, and wraps Slack's refusal.
    refusal = error.__context__ if isinstance(error, BoltError) else error
    if isinstance(refusal, SlackApiError):
        return _slack_answer(refusal, settings)
    if isinstance(error, SlackClientError | OSError | HTTPException):
        return StartFailure(
            f"smsbot cannot start: Slack's Web API at {shown_url(settings.slack_api_url)} cannot be reached "
            f"({failure_reason(error)}). Check the network, {_proxy_hint()} and SLACK_API_URL (default "
            f"{DEFAULT_SLACK_API_URL}).",
            UNREACHABLE,
        )
    return None


def _slack_answer(error: SlackApiError, settings: Settings) -> StartFailure:
    code = error.response.get("error") if isinstance(error.response.data, dict) else None
    if not isinstance(code, str) or not _SLACK_ERROR_CODE.match(code):
        code = None  # the SDK's own words for an answer it could not read (HTML, say), not Slack's code
    if code in _REFUSED_TOKEN:
        return StartFailure(
            f"smsbot cannot start: Slack refused SLACK_BOT_TOKEN ({code}): {_BOT_TOKEN_HELP}.", SETTINGS_WRONG
        )
    if code:
        return StartFailure(
            f"smsbot cannot start: Slack answered auth.test with `{code}`. Check SLACK_BOT_TOKEN and "
            f"SLACK_API_URL (default {DEFAULT_SLACK_API_URL}).",
            SETTINGS_WRONG,
        )
    # An answer, but not the Web API's JSON: a wrong URL, or a proxy or portal answering in its place.
    return StartFailure(
        f"smsbot cannot start: {shown_url(settings.slack_api_url)} answered HTTP {error.response.status_code}, "
        f"not as Slack's Web API does. Check SLACK_API_URL (default {DEFAULT_SLACK_API_URL}) and "
        f"{_proxy_hint()}.",
        SETTINGS_WRONG,
    )


def _proxy_hint() -> str:
    """Which proxy variable the Slack SDK uses, if any (its value may hold a password: never shown)."""
    for name in _PROXY_VARIABLES:
        if os.environ.get(name, "").strip():  # the SDK takes the first one set and not empty
            return f"the proxy in {name}"
    return "any proxy (HTTPS_PROXY)"
