"""Checks of the settings alone: which run mode has its token, and whether anyone may send."""

from __future__ import annotations

from bot.checks.result import CheckResult, Status
from bot.i18n import N_, T_, Text, Tn_, joined
from bot.settings import Settings


def check_settings(settings: Settings) -> list[CheckResult]:
    """What the settings alone say: which run mode has its token, and whether anyone may send."""
    return [_mode_tokens(settings), _access(settings)]


def _mode_tokens(settings: Settings) -> CheckResult:
    app_token, signing_secret = settings.slack_app_token, settings.slack_signing_secret
    name = N_("run modes")
    if app_token and not app_token.startswith("xapp-"):
        return CheckResult(
            "Settings",
            name,
            Status.FAILED,
            N_("SLACK_APP_TOKEN does not start with `xapp-`: it is not an app-level token."),
            N_(
                "Generate one under Basic Information → App-Level Tokens (scope `connections:write`) and put it "
                "in SLACK_APP_TOKEN."
            ),
        )
    if app_token and signing_secret:
        return CheckResult(
            "Settings",
            name,
            Status.OK,
            N_(
                "Socket Mode (SLACK_APP_TOKEN) and HTTP mode (SLACK_SIGNING_SECRET) both have what they need."
            ),
        )
    if app_token:
        return CheckResult(
            "Settings",
            name,
            Status.OK,
            N_(
                "Socket Mode (`smsbot run`) has SLACK_APP_TOKEN; HTTP mode (`smsbot run --http`) would also "
                "need SLACK_SIGNING_SECRET."
            ),
        )
    if signing_secret:
        return CheckResult(
            "Settings",
            name,
            Status.OK,
            N_(
                "HTTP mode (`smsbot run --http`) has SLACK_SIGNING_SECRET; Socket Mode (`smsbot run`) would "
                "also need SLACK_APP_TOKEN."
            ),
        )
    return CheckResult(
        "Settings",
        name,
        Status.FAILED,
        N_(
            "Neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) is set: the bot cannot "
            "receive `/sms`."
        ),
        N_(
            "For Socket Mode, generate an app-level token (Basic Information → App-Level Tokens, scope "
            "`connections:write`) into SLACK_APP_TOKEN; for HTTP mode, copy the Signing Secret (Basic "
            "Information → App Credentials) into SLACK_SIGNING_SECRET."
        ),
    )


def _access(settings: Settings) -> CheckResult:
    who: list[Text] = []
    if settings.allowed_users:
        who.append(Tn_("{count} user", "{count} users", len(settings.allowed_users)))
    if settings.allowed_usergroups:
        groups = len(settings.allowed_usergroups)
        who.append(Tn_("the members of {count} user group", "the members of {count} user groups", groups))
    if settings.admin_users:
        who.append(Tn_("{count} admin", "{count} admins", len(settings.admin_users)))
    if settings.workspace_admins_are_admins:
        who.append(T_("the workspace's admins"))
    if not who and not settings.allowed_channels:
        return CheckResult(
            "Settings",
            N_("access"),
            Status.WARNING,
            N_(
                "None of SMS_ALLOWED_USERS, SMS_ALLOWED_USERGROUPS, SMS_ALLOWED_CHANNELS, SMS_ADMIN_USERS is "
                "set: nobody may send."
            ),
            N_(
                "List who may send in SMS_ALLOWED_USERS (user ids, U…) or SMS_ALLOWED_USERGROUPS (S…), and/or "
                "where in SMS_ALLOWED_CHANNELS (C…); see the README's Access section."
            ),
        )
    where = (
        Tn_("from {count} channel", "from {count} channels", len(settings.allowed_channels))
        if settings.allowed_channels
        else T_("from any channel")
    )
    countries = settings.allowed_countries
    to = (
        T_("to any country")
        if countries is None
        else T_("to {countries}", countries=", ".join(sorted(countries)))
    )
    anyone = joined(who, ", ") if who else T_("anyone")
    return CheckResult(
        "Settings", "access", Status.OK, T_("{who} may send, {where}, {to}.", who=anyone, where=where, to=to)
    )
