"""Checks of Slack: the bot token works, has the app's scopes, and sees the allowed user groups."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.checks.result import CheckResult, Status, shown_url
from bot.i18n import N_, T_, Text, Tn_, joined
from bot.settings import Settings
from bot.slack.client import failure_reason, make_web_client

# The bot token scopes the app needs: the same list as `oauth_config.scopes.bot` in manifest.yml (a test
# keeps them equal). Kept here because an installed bot has no manifest.yml next to it.
REQUIRED_SLACK_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
    "channels:join",
    "usergroups:read",
    "users:read",
    "files:write",
    "im:write",
)
# Scopes with which the bot finds an audit message it posted just before a crash (or whose answer was lost),
# instead of posting it again (bot/slack/audit.py). Without them it works, but such a message may be doubled.
_LOOKUP_SCOPES = ("channels:history", "groups:history", "im:history", "mpim:history", "channels:join")
# Scopes with which admins get the ledger as a CSV file in their DM from `/sms history`; nothing else needs them.
_EXPORT_SCOPES = ("files:write", "im:write")
_USERGROUPS_SCOPE = "usergroups:read"
_USERS_SCOPE = "users:read"
# Scopes that only one setting needs: while it is off, a missing one is worth a warning, no more.
_UNUSED_WHILE = {
    _USERGROUPS_SCOPE: N_("SMS_ALLOWED_USERGROUPS is empty"),
    "users:read": N_("SMS_WORKSPACE_ADMINS_ARE_ADMINS is false"),
}
_SLACK_TOKEN_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}


def check_slack(settings: Settings, client: WebClient | None = None) -> list[CheckResult]:
    """The bot token works (which workspace, which bot), has the app's scopes, and sees the user groups."""
    client = client or make_web_client(settings.slack_bot_token, settings.slack_api_url)
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        code = str(error.response.get("error"))
        if code in _SLACK_TOKEN_ERRORS:
            fix: Text = T_(
                "Copy the Bot User OAuth Token (xoxb-…) again from the app's OAuth & Permissions page into "
                "SLACK_BOT_TOKEN; if the app was uninstalled, install it to the workspace again."
            )
        else:
            fix = T_(
                "Check SLACK_API_URL ({url}) and Slack's status page.", url=shown_url(settings.slack_api_url)
            )
        return [
            CheckResult(
                "Slack",
                N_("bot token"),
                Status.FAILED,
                T_("Slack refused SLACK_BOT_TOKEN ({code}).", code=code),
                fix,
            ),
            *_skipped_slack(settings, T_("not checked: the bot token does not work.")),
        ]
    except (SlackClientError, OSError) as error:
        return [
            CheckResult(
                "Slack",
                "bot token",
                Status.FAILED,
                T_(
                    "Slack's Web API at {url} cannot be reached ({reason}).",
                    url=shown_url(settings.slack_api_url),
                    reason=failure_reason(error),
                ),
                N_("Check the network, any proxy, and SLACK_API_URL (default https://slack.com/api/)."),
            ),
            *_skipped_slack(settings, T_("not checked: Slack cannot be reached.")),
        ]
    identity = CheckResult(
        "Slack",
        "bot token",
        Status.OK,
        T_(
            "workspace {team} ({team_id}), bot @{user} ({user_id}).",
            team=answer.get("team"),
            team_id=answer.get("team_id"),
            user=answer.get("user"),
            user_id=answer.get("user_id"),
        ),
    )
    header = _header(answer.headers, "X-OAuth-Scopes")
    granted = None if header is None else {scope.strip() for scope in header.split(",") if scope.strip()}
    readable = granted is None or _USERGROUPS_SCOPE in granted
    return [identity, _scopes_result(settings, granted), *_usergroups(settings, client, readable=readable)]


def _skipped_slack(settings: Settings, why: Text) -> list[CheckResult]:
    results = [CheckResult("Slack", N_("scopes"), Status.SKIPPED, why)]
    results += [
        CheckResult("Slack", f"user group {group}", Status.SKIPPED, why)
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
            N_(
                "Slack did not say which scopes the token has (no X-OAuth-Scopes header; a proxy may drop it)."
            ),
            T_(
                "Make sure the app has the bot scopes {scopes} (OAuth & Permissions).",
                scopes=", ".join(REQUIRED_SLACK_SCOPES),
            ),
        )
    missing = [scope for scope in REQUIRED_SLACK_SCOPES if scope not in granted]
    in_use = {
        _USERGROUPS_SCOPE: bool(settings.allowed_usergroups),
        "users:read": settings.workspace_admins_are_admins,
    }
    optional = (*_LOOKUP_SCOPES, *_EXPORT_SCOPES)
    needed = [scope for scope in missing if in_use.get(scope, True) and scope not in optional]
    fix = Tn_(
        "Add the missing bot scope under OAuth & Permissions → Scopes (or recreate the app from "
        "manifest.yml), then reinstall the app to the workspace so the token gets it.",
        "Add the missing bot scopes under OAuth & Permissions → Scopes (or recreate the app from "
        "manifest.yml), then reinstall the app to the workspace so the token gets them.",
        len(missing),
    )
    lacking = ", ".join(missing)
    if needed:
        return CheckResult(
            "Slack", "scopes", Status.FAILED, T_("the token lacks {scopes}.", scopes=lacking), fix
        )
    if missing:
        reasons: list[Text] = []
        unused = [T_(_UNUSED_WHILE[scope]) for scope in missing if scope in _UNUSED_WHILE]
        if unused:
            reasons.append(T_("fine while {settings}, needed otherwise", settings=_both(unused)))
        people = [scope for scope in (_USERS_SCOPE, _USERGROUPS_SCOPE) if scope in missing]
        if people:
            reasons.append(
                T_(
                    "people and user groups cannot be named as receivers (`/sms @person`) without {scopes}",
                    scopes=_both(people),
                )
            )
        if any(scope in _LOOKUP_SCOPES for scope in missing):
            reasons.append(
                T_(
                    "without the history and join scopes, an audit message posted just before a crash may be "
                    "posted twice"
                )
            )
        if any(scope in _EXPORT_SCOPES for scope in missing):
            reasons.append(
                T_("without files:write and im:write, admins cannot get the CSV from `/sms history`")
            )
        return CheckResult(
            "Slack",
            "scopes",
            Status.WARNING,
            T_("the token lacks {scopes}: {reasons}.", scopes=lacking, reasons=joined(reasons, "; ")),
            fix,
        )
    extra = sorted(granted - set(REQUIRED_SLACK_SCOPES))
    scopes = ", ".join(REQUIRED_SLACK_SCOPES)
    granted_text = (
        T_("{scopes} (also granted: {extra}).", scopes=scopes, extra=", ".join(extra))
        if extra
        else T_("{scopes}.", scopes=scopes)
    )
    return CheckResult("Slack", "scopes", Status.OK, granted_text)


def _both(items: list[Text] | list[str]) -> object:
    """One or two things, as a sentence names them ("a", "a and b")."""
    if len(items) == 1:
        return items[0]
    return T_("{first} and {second}", first=items[0], second=items[1])


def _usergroups(settings: Settings, client: WebClient, *, readable: bool) -> list[CheckResult]:
    results = []
    for group in sorted(settings.allowed_usergroups):
        name = f"user group {group}"
        if not readable:
            results.append(
                CheckResult(
                    "Slack",
                    name,
                    Status.SKIPPED,
                    T_("not checked: the token lacks {scope}.", scope=_USERGROUPS_SCOPE),
                )
            )
            continue
        try:
            members = client.usergroups_users_list(usergroup=group).get("users") or []
        except SlackApiError as error:
            code = str(error.response.get("error"))
            fix = (
                T_(
                    "SMS_ALLOWED_USERGROUPS lists {group}, which is not a user group of this workspace: copy "
                    "the group's id (S…) from its page in Slack.",
                    group=group,
                )
                if code == "no_such_subteam"
                else T_("Slack answered {code} when asked for the group's members.", code=code)
            )
            results.append(
                CheckResult("Slack", name, Status.FAILED, T_("cannot be read ({code}).", code=code), fix)
            )
        except (SlackClientError, OSError) as error:
            results.append(
                CheckResult(
                    "Slack", name, Status.FAILED, T_("cannot be read ({code}).", code=type(error).__name__)
                )
            )
        else:
            results.append(
                CheckResult(
                    "Slack", name, Status.OK, Tn_("{count} member.", "{count} members.", len(members))
                )
            )
    return results
