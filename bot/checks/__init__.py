"""`smsbot check`: is everything the bot needs in place, and if not, what exactly to fix.

Each check is a plain function returning :class:`CheckResult` objects; the CLI only prints them. Checks
read and never change anything: no message is sent, no database is created or migrated. No secret is
ever put in a result: variables are named, their values are not shown.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain.errors import DeliveryError
from bot.ovh.gateway import REQUIRED_RULES, Credential, OvhGateway, SmsAccount
from bot.settings import Settings
from bot.slack.client import make_web_client
from bot.storage.db import MIGRATIONS

# The bot token scopes the app needs: the same list as `oauth_config.scopes.bot` in manifest.yml (a test
# keeps them equal). Kept here because an installed bot has no manifest.yml next to it.
REQUIRED_SLACK_SCOPES = ("commands", "chat:write", "chat:write.public", "usergroups:read", "users:read")
_USERGROUPS_SCOPE = "usergroups:read"
# Scopes that only one setting needs: while it is off, a missing one is worth a warning, no more.
_UNUSED_WHILE = {
    _USERGROUPS_SCOPE: "SMS_ALLOWED_USERGROUPS is empty",
    "users:read": "SMS_WORKSPACE_ADMINS_ARE_ADMINS is false",
}
EXPIRY_WARNING = timedelta(days=14)
# A service name that only stands for "any" when checking rules before the real one is known.
_ANY_SERVICE = "sms-xx00000-1"
_SLACK_TOKEN_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
_SENDER_STATUS = {
    "waitingValidation": (
        "is waiting for OVH's validation: sends with it fail until OVH validates it (this can take a few "
        "days, and OVH may ask for a document)",
        "Wait for the validation (OVHcloud Control Panel → Telecom → SMS → Senders), or leave "
        "OVH_SMS_SENDER empty meanwhile to send from the account's default sender.",
    ),
    "refused": (
        "was refused by OVH: sends with it fail",
        "See why in the OVHcloud Control Panel (Telecom → SMS → Senders), then register another sender "
        "and put it in OVH_SMS_SENDER, or leave OVH_SMS_SENDER empty to use the account's default sender.",
    ),
    "disable": (
        "is disabled: sends with it fail",
        "Enable it in the OVHcloud Control Panel (Telecom → SMS → Senders), or leave OVH_SMS_SENDER "
        "empty to use the account's default sender.",
    ),
}


class Status(StrEnum):
    """How a check went. Only ``FAILED`` makes `smsbot check` exit with 1."""

    OK = "ok"
    WARNING = "warning"  # works, but deserves attention (expiring key, no credits, pending migrations)
    FAILED = "failed"  # the bot cannot work like this
    SKIPPED = "skipped"  # not checked, because something it depends on failed


@dataclass(frozen=True)
class CheckResult:
    """One line of `smsbot check`: what was checked, how it went, and for a problem, the fix."""

    area: str  # "Settings", "Slack", "OVH", "Database"
    name: str
    status: Status
    detail: str
    fix: str | None = None


def shown_url(url: str) -> str:
    """``url`` fit to print: a user name and password in it (a proxy's) become ``***``."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}:{parts.port}" if parts.port else f"***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def exit_status(results: Iterable[CheckResult]) -> int:
    """1 when any check failed, else 0 (warnings do not fail the check)."""
    return 1 if any(result.status is Status.FAILED for result in results) else 0


def run_checks(settings: Settings) -> list[CheckResult]:
    """Every check, in the order they are shown."""
    return [
        *check_settings(settings),
        *check_slack(settings),
        *check_ovh(settings),
        *check_database(settings),
    ]


# --- settings ------------------------------------------------------------------------------------------


def check_settings(settings: Settings) -> list[CheckResult]:
    """What the settings alone say: which run mode has its token, and whether anyone may send."""
    return [_mode_tokens(settings), _access(settings)]


def _mode_tokens(settings: Settings) -> CheckResult:
    app_token, signing_secret = settings.slack_app_token, settings.slack_signing_secret
    name = "run modes"
    if app_token and not app_token.startswith("xapp-"):
        return CheckResult(
            "Settings",
            name,
            Status.FAILED,
            "SLACK_APP_TOKEN does not start with `xapp-`: it is not an app-level token.",
            "Generate one under Basic Information → App-Level Tokens (scope `connections:write`) and put it "
            "in SLACK_APP_TOKEN.",
        )
    if app_token and signing_secret:
        return CheckResult(
            "Settings",
            name,
            Status.OK,
            "Socket Mode (SLACK_APP_TOKEN) and HTTP mode (SLACK_SIGNING_SECRET) both have what they need.",
        )
    if app_token:
        return CheckResult(
            "Settings",
            name,
            Status.OK,
            "Socket Mode (`smsbot run`) has SLACK_APP_TOKEN; HTTP mode (`smsbot run --http`) would also "
            "need SLACK_SIGNING_SECRET.",
        )
    if signing_secret:
        return CheckResult(
            "Settings",
            name,
            Status.OK,
            "HTTP mode (`smsbot run --http`) has SLACK_SIGNING_SECRET; Socket Mode (`smsbot run`) would "
            "also need SLACK_APP_TOKEN.",
        )
    return CheckResult(
        "Settings",
        name,
        Status.FAILED,
        "Neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) is set: the bot cannot "
        "receive `/sms`.",
        "For Socket Mode, generate an app-level token (Basic Information → App-Level Tokens, scope "
        "`connections:write`) into SLACK_APP_TOKEN; for HTTP mode, copy the Signing Secret (Basic "
        "Information → App Credentials) into SLACK_SIGNING_SECRET.",
    )


def _access(settings: Settings) -> CheckResult:
    who = []
    if settings.allowed_users:
        who.append(f"{len(settings.allowed_users)} user(s)")
    if settings.allowed_usergroups:
        who.append(f"the members of {len(settings.allowed_usergroups)} user group(s)")
    if settings.admin_users:
        who.append(f"{len(settings.admin_users)} admin(s)")
    if settings.workspace_admins_are_admins:
        who.append("the workspace's admins")
    if not who and not settings.allowed_channels:
        return CheckResult(
            "Settings",
            "access",
            Status.WARNING,
            "None of SMS_ALLOWED_USERS, SMS_ALLOWED_USERGROUPS, SMS_ALLOWED_CHANNELS, SMS_ADMIN_USERS is "
            "set: nobody may send.",
            "List who may send in SMS_ALLOWED_USERS (user ids, U…) or SMS_ALLOWED_USERGROUPS (S…), and/or "
            "where in SMS_ALLOWED_CHANNELS (C…); see the README's Access section.",
        )
    where = (
        f"from {len(settings.allowed_channels)} channel(s)"
        if settings.allowed_channels
        else "from any channel"
    )
    countries = settings.allowed_countries
    to = "to any country" if countries is None else f"to {', '.join(sorted(countries))}"
    return CheckResult(
        "Settings", "access", Status.OK, f"{', '.join(who) or 'anyone'} may send, {where}, {to}."
    )


# --- Slack -----------------------------------------------------------------------------------------------


def check_slack(settings: Settings, client: WebClient | None = None) -> list[CheckResult]:
    """The bot token works (which workspace, which bot), has the app's scopes, and sees the user groups."""
    client = client or make_web_client(settings.slack_bot_token, settings.slack_api_url)
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        code = str(error.response.get("error"))
        if code in _SLACK_TOKEN_ERRORS:
            fix = (
                "Copy the Bot User OAuth Token (xoxb-…) again from the app's OAuth & Permissions page into "
                "SLACK_BOT_TOKEN; if the app was uninstalled, install it to the workspace again."
            )
        else:
            fix = f"Check SLACK_API_URL ({shown_url(settings.slack_api_url)}) and Slack's status page."
        return [
            CheckResult("Slack", "bot token", Status.FAILED, f"Slack refused SLACK_BOT_TOKEN ({code}).", fix),
            *_skipped_slack(settings, "the bot token does not work"),
        ]
    except (SlackClientError, OSError) as error:
        return [
            CheckResult(
                "Slack",
                "bot token",
                Status.FAILED,
                f"Slack's Web API at {shown_url(settings.slack_api_url)} cannot be reached "
                f"({type(error).__name__}).",
                "Check the network, any proxy, and SLACK_API_URL (default https://slack.com/api/).",
            ),
            *_skipped_slack(settings, "Slack cannot be reached"),
        ]
    identity = CheckResult(
        "Slack",
        "bot token",
        Status.OK,
        f"workspace {answer.get('team')} ({answer.get('team_id')}), bot @{answer.get('user')} "
        f"({answer.get('user_id')}).",
    )
    header = _header(answer.headers, "X-OAuth-Scopes")
    granted = None if header is None else {scope.strip() for scope in header.split(",") if scope.strip()}
    readable = granted is None or _USERGROUPS_SCOPE in granted
    return [identity, _scopes_result(settings, granted), *_usergroups(settings, client, readable=readable)]


def _skipped_slack(settings: Settings, why: str) -> list[CheckResult]:
    results = [CheckResult("Slack", "scopes", Status.SKIPPED, f"not checked: {why}.")]
    results += [
        CheckResult("Slack", f"user group {group}", Status.SKIPPED, f"not checked: {why}.")
        for group in sorted(settings.allowed_usergroups)
    ]
    return results


def _header(headers: object, name: str) -> str | None:
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if str(key).lower() == name.lower():
            return ",".join(value) if isinstance(value, list) else str(value)
    return None


def _scopes_result(settings: Settings, granted: set[str] | None) -> CheckResult:
    if granted is None:
        return CheckResult(
            "Slack",
            "scopes",
            Status.WARNING,
            "Slack did not say which scopes the token has (no X-OAuth-Scopes header; a proxy may drop it).",
            f"Make sure the app has the bot scopes {', '.join(REQUIRED_SLACK_SCOPES)} (OAuth & Permissions).",
        )
    missing = [scope for scope in REQUIRED_SLACK_SCOPES if scope not in granted]
    in_use = {
        _USERGROUPS_SCOPE: bool(settings.allowed_usergroups),
        "users:read": settings.workspace_admins_are_admins,
    }
    needed = [scope for scope in missing if in_use.get(scope, True)]
    fix = (
        "Add the missing bot scope(s) under OAuth & Permissions → Scopes (or recreate the app from "
        "manifest.yml), then reinstall the app to the workspace so the token gets them."
    )
    if needed:
        return CheckResult("Slack", "scopes", Status.FAILED, f"the token lacks {', '.join(missing)}.", fix)
    if missing:
        unused = " and ".join(_UNUSED_WHILE[scope] for scope in missing)
        return CheckResult(
            "Slack",
            "scopes",
            Status.WARNING,
            f"the token lacks {', '.join(missing)}: fine while {unused}, needed otherwise.",
            fix,
        )
    extra = sorted(granted - set(REQUIRED_SLACK_SCOPES))
    also = f" (also granted: {', '.join(extra)})" if extra else ""
    return CheckResult("Slack", "scopes", Status.OK, f"{', '.join(REQUIRED_SLACK_SCOPES)}{also}.")


def _usergroups(settings: Settings, client: WebClient, *, readable: bool) -> list[CheckResult]:
    results = []
    for group in sorted(settings.allowed_usergroups):
        name = f"user group {group}"
        if not readable:
            results.append(
                CheckResult(
                    "Slack", name, Status.SKIPPED, f"not checked: the token lacks {_USERGROUPS_SCOPE}."
                )
            )
            continue
        try:
            members = client.usergroups_users_list(usergroup=group).get("users") or []
        except SlackApiError as error:
            code = str(error.response.get("error"))
            fix = (
                f"SMS_ALLOWED_USERGROUPS lists {group}, which is not a user group of this workspace: copy the "
                "group's id (S…) from its page in Slack."
                if code == "no_such_subteam"
                else f"Slack answered {code} when asked for the group's members."
            )
            results.append(CheckResult("Slack", name, Status.FAILED, f"cannot be read ({code}).", fix))
        except (SlackClientError, OSError) as error:
            results.append(
                CheckResult("Slack", name, Status.FAILED, f"cannot be read ({type(error).__name__}).")
            )
        else:
            results.append(CheckResult("Slack", name, Status.OK, f"{len(members)} member(s)."))
    return results


# --- OVH -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Need:
    rule: str  # as granted at createToken, e.g. "POST /sms/*/jobs"
    method: str
    path: str  # a concrete path the bot calls
    required: bool


def create_token_url(settings: Settings, rules: Iterable[str] = REQUIRED_RULES) -> str:
    """The OVH page that creates keys with exactly ``rules``, for the configured region or API URL."""
    base = settings.ovh_base_url.rstrip("/")
    base = base.removesuffix("/1.0")
    query = "&".join(rule.replace(" ", "=", 1) for rule in rules)
    return f"{base}/createToken/?{query}"


def rule_matches(rule: tuple[str, str], method: str, path: str) -> bool:
    """Whether an OVH access rule (method, path pattern) allows ``method path``.

    In a rule's path, `*` stands for any characters, `/` included: `GET /sms/*` allows `GET /sms/x/y`
    but not `GET /sms`.
    """
    rule_method, pattern = rule
    if rule_method.upper() != method.upper():
        return False
    regex = ".*".join(re.escape(piece) for piece in pattern.split("*"))
    return re.fullmatch(regex, path) is not None


def _needs(service: str, service_configured: bool) -> list[_Need]:
    get_sms, get_service, post_jobs = REQUIRED_RULES
    return [
        _Need(get_sms, "GET", "/sms", required=not service_configured),
        _Need(get_service, "GET", f"/sms/{service}", required=True),  # credits left
        _Need(get_service, "GET", f"/sms/{service}/outgoing", required=True),  # recovery finds lost sends
        _Need(post_jobs, "POST", f"/sms/{service}/jobs", required=True),
    ]


def _broader_rules(rules: Iterable[tuple[str, str]]) -> list[str]:
    """Granted rules that allow more than the bot's own rules do (a full-access key, for instance)."""
    needed = [(method, path) for method, path in (rule.split(" ", 1) for rule in REQUIRED_RULES)]
    broader = []
    for method, pattern in rules:
        if (method.upper(), pattern) == ("GET", "/auth/currentCredential"):
            continue  # every key may read its own credential anyway
        example = pattern.replace("*", "x")
        if not any(rule_matches(rule, method, example) for rule in needed):
            broader.append(f"{method.upper()} {pattern}")
    return broader


def check_ovh(
    settings: Settings, gateway: OvhGateway | None = None, *, now: datetime | None = None
) -> list[CheckResult]:
    """The keys work and hold the rules the bot needs; the SMS service, its credits and the sender."""
    gateway = gateway or OvhGateway.from_settings(settings)
    now = now or datetime.now(UTC)
    link = create_token_url(settings)
    new_keys = (
        f"Create keys with exactly the rules the bot needs at {link} and put the three values it shows in "
        "OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY."
    )
    base_url = shown_url(settings.ovh_base_url)
    try:
        credential: Credential | None = gateway.current_credential()
    except DeliveryError as error:
        if error.code != "not_granted":
            keys = _keys_failure(error, base_url, new_keys)
            return [keys, *_skipped_ovh(settings, "the OVH keys do not work")]
        credential = None  # OVH always lets a key read itself; if it does not, judge by the calls below
    keys = CheckResult("OVH", "API keys", Status.OK, f"accepted by {base_url}.")
    if credential is not None and credential.status != "validated":
        keys = CheckResult(
            "OVH", "API keys", Status.FAILED, f"the consumer key's status is {credential.status}.", new_keys
        )

    service_results, service, account = _service(settings, gateway, new_keys)
    results = [keys]
    if credential is None:
        results.append(
            CheckResult(
                "OVH",
                "key rules",
                Status.WARNING,
                "OVH did not show the key's rules (GET /auth/currentCredential was refused); the calls "
                "below show what works.",
            )
        )
    else:
        results.append(_rules_result(settings, credential, service, new_keys))
        results.append(_expiry_result(credential, now, link))
    results += service_results
    if account is not None and service is not None:
        results.append(_credits_result(account))
        results.append(_sender_result(settings, gateway, service))
    else:
        results.append(CheckResult("OVH", "credits", Status.SKIPPED, "not checked: no usable SMS service."))
        if settings.ovh_sms_sender:
            results.append(
                CheckResult("OVH", "sender", Status.SKIPPED, "not checked: no usable SMS service.")
            )
    return results


def _keys_failure(error: DeliveryError, base_url: str, new_keys: str) -> CheckResult:
    if error.code in {"invalid_application_key", "invalid_consumer_key"}:
        return CheckResult("OVH", "API keys", Status.FAILED, error.user_message, new_keys)
    if error.code == "invalid_signature":
        return CheckResult(
            "OVH",
            "API keys",
            Status.FAILED,
            error.user_message,
            "Copy the application secret that came with OVH_APPLICATION_KEY into OVH_APPLICATION_SECRET. "
            + new_keys.replace("Create keys", "Or create new keys"),
        )
    if error.code in {"unreachable", "timeout", "unavailable", "rate_limited"}:
        return CheckResult(
            "OVH",
            "API keys",
            Status.FAILED,
            f"OVH's API at {base_url} did not answer properly ({error.code}).",
            "Check the network and OVH_ENDPOINT (ovh-eu, ovh-ca, ovh-us, or the API's base URL), then try "
            "again; OVH's status page is https://public-cloud.status-ovhcloud.com/.",
        )
    return CheckResult(
        "OVH", "API keys", Status.FAILED, f"OVH refused the keys: {error.user_message}", new_keys
    )


def _skipped_ovh(settings: Settings, why: str) -> list[CheckResult]:
    names = ["key rules", "key expiry", "SMS service", "credits"]
    if settings.ovh_sms_sender:
        names.append("sender")
    return [CheckResult("OVH", name, Status.SKIPPED, f"not checked: {why}.") for name in names]


def _rules_result(
    settings: Settings, credential: Credential, service: str | None, new_keys: str
) -> CheckResult:
    configured = settings.ovh_sms_service is not None
    needs = _needs(service or settings.ovh_sms_service or _ANY_SERVICE, configured)
    missing = [n for n in needs if not any(rule_matches(r, n.method, n.path) for r in credential.rules)]
    required_missing = list(dict.fromkeys(n.rule for n in missing if n.required))
    broader = _broader_rules(credential.rules)
    if required_missing:
        return CheckResult(
            "OVH",
            "key rules",
            Status.FAILED,
            f"the key is not allowed {', '.join(required_missing)}: OVH will refuse "
            f"{'these calls' if len(required_missing) > 1 else 'this call'} with NOT_GRANTED_CALL.",
            new_keys,
        )
    if broader:
        return CheckResult(
            "OVH",
            "key rules",
            Status.WARNING,
            f"the key also allows {', '.join(broader)}, more than the bot needs.",
            "A key limited to the bot's rules does less harm if the .env leaks. " + new_keys,
        )
    note = f" ({missing[0].rule} is not granted: fine while OVH_SMS_SERVICE is set)" if missing else ""
    return CheckResult(
        "OVH", "key rules", Status.OK, f"{', '.join(dict.fromkeys(n.rule for n in needs))}{note}."
    )


def _expiry_result(credential: Credential, now: datetime, link: str) -> CheckResult:
    expiration = credential.expiration
    if expiration is None:
        return CheckResult("OVH", "key expiry", Status.OK, "the key never expires.")
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=UTC)
    when = expiration.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    renew = f"Create a new key before then at {link}, and put its values in the OVH_* variables."
    left = expiration - now
    if left <= timedelta(0):
        return CheckResult("OVH", "key expiry", Status.FAILED, f"the key expired on {when}.", renew)
    if left <= EXPIRY_WARNING:
        days = math.ceil(left / timedelta(days=1))
        soon = "within a day" if left < timedelta(days=1) else f"in {days} day(s)"
        return CheckResult(
            "OVH",
            "key expiry",
            Status.WARNING,
            f"the key expires {soon}, on {when}: sends fail after.",
            renew,
        )
    return CheckResult("OVH", "key expiry", Status.OK, f"the key expires on {when}.")


def _service(
    settings: Settings, gateway: OvhGateway, new_keys: str
) -> tuple[list[CheckResult], str | None, SmsAccount | None]:
    """The SMS service result(s), the service name to use, and its account (None when unusable)."""
    configured = settings.ovh_sms_service
    name = "SMS service"
    try:
        if configured is None:
            services = gateway.list_services()
            if not services:
                return (
                    [
                        CheckResult(
                            "OVH",
                            name,
                            Status.FAILED,
                            "the OVH account has no SMS service.",
                            "Order one in the OVHcloud Control Panel (Telecom → SMS), or use the keys of the "
                            "account that has it.",
                        )
                    ],
                    None,
                    None,
                )
            if len(services) > 1:
                return (
                    [
                        CheckResult(
                            "OVH",
                            name,
                            Status.FAILED,
                            f"OVH_SMS_SERVICE is not set and the account has {len(services)} SMS services: "
                            f"{', '.join(services)}.",
                            "Set OVH_SMS_SERVICE to the one the bot should send with.",
                        )
                    ],
                    None,
                    None,
                )
            service = services[0]
        else:
            service = configured
        account = gateway.account(service)
    except DeliveryError as error:
        return [_ovh_call_failure(name, error, new_keys)], configured, None
    if account is None:
        fix = "Set OVH_SMS_SERVICE to one of the account's SMS services"
        try:
            fix += f": {', '.join(gateway.list_services()) or 'it has none'}."
        except DeliveryError:
            fix += " (GET /sms lists them)."
        return (
            [CheckResult("OVH", name, Status.FAILED, f"the account has no SMS service {service}.", fix)],
            service,
            None,
        )
    if account.status not in (None, "enable"):
        return (
            [
                CheckResult(
                    "OVH",
                    name,
                    Status.FAILED,
                    f"{service} is {account.status}.",
                    "See the service in the OVHcloud Control Panel (Telecom → SMS).",
                )
            ],
            service,
            None,
        )
    how = " (the account's only one; OVH_SMS_SERVICE is not set)" if configured is None else ""
    return [CheckResult("OVH", name, Status.OK, f"{service}{how}.")], service, account


def _ovh_call_failure(name: str, error: DeliveryError, new_keys: str) -> CheckResult:
    if error.code == "not_granted":
        return CheckResult(
            "OVH", name, Status.FAILED, "OVH refused the call: the key was not granted it.", new_keys
        )
    return CheckResult("OVH", name, Status.FAILED, f"OVH answered with an error ({error.code}).", None)


def _credits_result(account: SmsAccount) -> CheckResult:
    credits = account.credits_left
    if credits is None:
        return CheckResult("OVH", "credits", Status.WARNING, "OVH did not say how many credits are left.")
    if credits <= 0:
        return CheckResult(
            "OVH",
            "credits",
            Status.WARNING,
            "no credits left: every send fails until credits are added.",
            "Buy SMS credits in the OVHcloud Control Panel (Telecom → SMS → Order credits).",
        )
    return CheckResult("OVH", "credits", Status.OK, f"{credits:g} credit(s) left.")


def _sender_result(settings: Settings, gateway: OvhGateway, service: str) -> CheckResult:
    sender = settings.ovh_sms_sender
    if not sender:
        return CheckResult(
            "OVH", "sender", Status.OK, "OVH_SMS_SENDER is empty: OVH uses the account's default sender."
        )
    try:
        status = gateway.sender_status(service, sender)
    except DeliveryError as error:
        if error.code == "not_granted":
            return CheckResult(
                "OVH",
                "sender",
                Status.SKIPPED,
                f"not checked: the key may not read {service}'s senders (GET /sms/* covers it).",
            )
        return CheckResult("OVH", "sender", Status.FAILED, f"cannot be read ({error.code}).")
    if status is None:
        return CheckResult(
            "OVH",
            "sender",
            Status.FAILED,
            f"`{sender}` is not a sender of {service}: sends with it fail.",
            "Register it in the OVHcloud Control Panel (Telecom → SMS → Senders) and wait for its "
            "validation, or fix OVH_SMS_SENDER, or leave it empty to use the account's default sender.",
        )
    if status == "enable":
        return CheckResult("OVH", "sender", Status.OK, f"`{sender}` is enabled.")
    detail, fix = _SENDER_STATUS.get(
        status,
        (
            f"has the status {status}, not enable: sends with it may fail",
            "See the sender in the OVHcloud Control Panel (Telecom → SMS → Senders).",
        ),
    )
    return CheckResult("OVH", "sender", Status.FAILED, f"`{sender}` {detail}.", fix)


# --- database --------------------------------------------------------------------------------------------


def check_database(settings: Settings) -> list[CheckResult]:
    """The ledger's database can be reached, and its schema is this version's (read-only: never migrates)."""
    url = sa.engine.make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        missing = _sqlite_file_problem(url.database, shown)
        if missing is not None:
            return [missing]
    connect_args = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
    # A plain engine, not bot.storage.db's: that one switches SQLite to WAL, which writes to the file.
    engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except sa.exc.SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return [
            CheckResult(
                "Database",
                "connection",
                Status.FAILED,
                f"{shown} cannot be reached: {reason}",
                "Check DATABASE_URL, that the server runs and accepts connections from here, and the "
                "user's password and rights.",
            ),
            CheckResult("Database", "schema", Status.SKIPPED, "not checked: no connection."),
        ]
    finally:
        engine.dispose()
    return [CheckResult("Database", "connection", Status.OK, f"{shown}."), _schema_result(current)]


def _sqlite_file_problem(database: str | None, shown: str) -> CheckResult | None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    where = path if path.is_absolute() else f"{path} (relative to {Path.cwd()})"
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            return CheckResult(
                "Database",
                "connection",
                Status.FAILED,
                f"{where} cannot be read and written by this user.",
                "Fix the file's permissions, or point DATABASE_URL elsewhere.",
            )
        return None
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir() or not os.access(directory, os.W_OK | os.X_OK):
        return CheckResult(
            "Database",
            "connection",
            Status.FAILED,
            f"{where} does not exist, and its directory cannot be written: the bot cannot create it.",
            "Create the directory (writable by the bot's user), or point DATABASE_URL elsewhere.",
        )
    return CheckResult(
        "Database",
        "connection",
        Status.WARNING,
        f"{where} does not exist yet: `smsbot run` creates it, with its schema, at start-up.",
        "Nothing to do on a first run. Otherwise, check that DATABASE_URL points at the existing ledger "
        "(a relative SQLite path depends on the directory the bot starts in).",
    )


def _schema_result(current: str | None) -> CheckResult:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    if current == head:
        return CheckResult("Database", "schema", Status.OK, f"up to date (revision {head}).")
    try:
        known = current is None or script.get_revision(current) is not None
    except CommandError:
        known = False
    if not known:
        return CheckResult(
            "Database",
            "schema",
            Status.FAILED,
            f"the schema is at revision {current}, which this smsbot does not know: a newer smsbot wrote it, "
            "and this one refuses to start on it.",
            "Upgrade smsbot, or point DATABASE_URL at this version's database.",
        )
    pending = [revision.revision for revision in script.iterate_revisions(head, current)]
    pending.reverse()
    return CheckResult(
        "Database",
        "schema",
        Status.WARNING,
        f"{len(pending)} migration(s) pending ({', '.join(pending)}; the database is at "
        f"{current or 'an empty schema'}): `smsbot run` applies them at start-up.",
        "Nothing to do if this version is about to start; `smsbot check` itself never migrates.",
    )
