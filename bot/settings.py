"""Configuration: read once from the environment (and a `.env` file) into a typed, validated object.

Every problem found names the variable and says what to put there. Secret values are never echoed back.
The public contract (README and `.env.example`) documents each variable read here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import phonenumbers

from bot.domain.errors import ConfigurationError
from bot.domain.limits import Limits
from bot.slack.ids import CHANNEL_ID, USER_ID, USERGROUP_ID, is_id

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///smsbot.db"
OVH_REGIONS = ("ovh-eu", "ovh-ca", "ovh-us")
# OVH_ENDPOINT=simulator: OVH played in the process (bot/ovh/simulator.py); no account, no keys, nothing sent.
OVH_SIMULATOR = "simulator"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Mode(StrEnum):
    """How Slack reaches the bot."""

    SOCKET = "socket"
    HTTP = "http"
    OFFLINE = "offline"  # commands that do not talk to Slack at all (tests of settings, future CLI tools)


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment. Built by :func:`load_settings`."""

    slack_bot_token: str = field(repr=False)
    slack_signing_secret: str | None = field(repr=False)
    slack_app_token: str | None = field(repr=False)
    slack_api_url: str
    ovh_endpoint: str
    ovh_application_key: str = field(repr=False)
    ovh_application_secret: str = field(repr=False)
    ovh_consumer_key: str = field(repr=False)
    ovh_sms_service: str | None
    ovh_sms_sender: str | None
    ovh_no_stop_clause: bool
    ovh_connect_timeout: float
    ovh_read_timeout: float
    sms_default_region: str | None
    allowed_users: frozenset[str]
    allowed_usergroups: frozenset[str]
    allowed_channels: frozenset[str]
    allowed_countries: frozenset[str] | None  # None: any country (SMS_ALLOWED_COUNTRIES=*)
    admin_users: frozenset[str]
    workspace_admins_are_admins: bool
    usergroup_cache_seconds: float
    limits: Limits
    recovery_interval_seconds: float
    recovery_after_seconds: float
    unknown_grace_seconds: float
    database_url: str = field(repr=False)  # may hold a password
    send_workers: int
    log_level: str
    log_format: str  # "text" or "json"
    retention_days: int = (
        365  # texts and full numbers of settled sends older than this are erased (0: at once)
    )
    # After a send (issue 11): delivery receipts, replies and credit alerts; see _delivery.
    delivery_poll_seconds: float = 30.0
    delivery_validity_hours: float = 48.0
    ovh_reads_per_minute: int = 30
    ovh_callback_token: str | None = field(default=None, repr=False)
    replies_channel: str | None = None
    allow_replies: bool = False
    alert_channel: str | None = None
    credits_alert_below: float | None = None
    confirm_above_credits: float = 10.0  # a send estimated above this many credits asks its author to confirm
    confirm_above_receivers: int = 10  # and one to more receivers than this
    # The team's language (SMS_LANGUAGE): for what the bot posts that belongs to no person's send, the credit
    # alert and replies that match no send. A send's thread is in the language of the person who asked.
    language: str = "en"

    @property
    def ovh_simulated(self) -> bool:
        """Whether OVH is simulated (OVH_ENDPOINT=simulator): no SMS leaves the machine."""
        return self.ovh_endpoint == OVH_SIMULATOR

    @property
    def ovh_base_url(self) -> str:
        """The full OVH API base URL, whether configured as a region name or as a URL."""
        from ovh.client import ENDPOINTS

        return ENDPOINTS.get(self.ovh_endpoint, self.ovh_endpoint)


class _Reader:
    """Collects every problem at once, so a person fixes their `.env` in one go, not one error per run."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def required(self, name: str, what: str, *, prefix: str | None = None) -> str:
        value = self.raw(name)
        if value is None:
            self.problems.append(f"{name} is not set: put {what} there.")
            return ""
        if prefix and not value.startswith(prefix):
            self.problems.append(f"{name} must start with `{prefix}`: put {what} there.")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        self.problems.append(f"{name} must be `true` or `false` (got `{value}`).")
        return default

    def number(self, name: str, default: float, *, minimum: float, maximum: float) -> float:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not minimum <= number <= maximum:
            self.problems.append(f"{name} must be a number from {minimum:g} to {maximum:g} (got `{value}`).")
            return default
        return number

    def whole(self, name: str, default: int, *, maximum: int = 1_000_000) -> int:
        value = self.raw(name)
        if value is None:
            return default
        if not value.isdigit() or int(value) > maximum:
            self.problems.append(
                f"{name} must be a whole number from 0 to {maximum:,} (got `{value}`); 0 means no limit."
            )
            return default
        return int(value)

    def ids(self, name: str, pattern: re.Pattern[str], what: str) -> frozenset[str]:
        value = self.raw(name)
        if value is None:
            return frozenset()
        items = [item.strip() for item in re.split(r"[,\s]+", value) if item.strip()]
        bad = [item for item in items if not is_id(pattern, item)]
        if bad:
            self.problems.append(
                f"{name} must be a comma-separated list of {what}; these are not: {', '.join(bad)}."
            )
        return frozenset(item for item in items if is_id(pattern, item))


# Floors of the settings whose value can break exactly-once. Below them, start-up refuses to run.
# OVH may record a job some time after it took it (30 s late was seen). Recovery looks for a send at OVH,
# and sends it again if OVH has no trace, so it must never look sooner than this after OVH last could have
# taken it: after an unknown outcome (the bot stopped waiting), or after the slowest OVH call (connect + read)
# of a send whose process died mid-call.
OVH_LATE_SECONDS = 60.0
UNKNOWN_GRACE_FLOOR = OVH_LATE_SECONDS
RECOVERY_MARGIN = OVH_LATE_SECONDS


def load_settings(env: Mapping[str, str], mode: Mode = Mode.SOCKET) -> Settings:
    """Read and validate the settings from ``env`` (usually ``os.environ`` after loading `.env`).

    Each section is read by its own reader; every problem of every section is collected first, so
    :class:`ConfigurationError` lists them all at once, each naming its variable.
    """
    r = _Reader(env)
    ovh = _ovh(r)
    fields = {
        **_slack(r, mode),
        **ovh,
        **_rules(r),
        **_database(r),
        **_runtime(r, slowest_ovh_call=ovh["ovh_connect_timeout"] + ovh["ovh_read_timeout"]),
        **_retention(r),
        **_delivery(r),
        **_confirmation(r),
        **_language(r),
    }
    if r.problems:
        raise ConfigurationError(
            "The configuration needs fixing (see .env.example and the README):\n"
            + "\n".join(f"- {p}" for p in r.problems)
        )
    return Settings(**fields)


def _slack(r: _Reader, mode: Mode) -> dict[str, Any]:
    """SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (HTTP mode), SLACK_APP_TOKEN (Socket Mode), SLACK_API_URL."""
    bot_token = r.required(
        "SLACK_BOT_TOKEN", "the app's Bot User OAuth Token (OAuth & Permissions page)", prefix="xoxb-"
    )
    signing_secret = r.raw("SLACK_SIGNING_SECRET")
    if mode is Mode.HTTP and signing_secret is None:
        r.problems.append(
            "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests "
            "(Basic Information page, App Credentials)."
        )
    app_token = r.raw("SLACK_APP_TOKEN")
    if mode is Mode.SOCKET:
        app_token = r.required(
            "SLACK_APP_TOKEN",
            "an app-level token with the `connections:write` scope (Basic Information page; "
            "or run in HTTP mode with `--http`)",
            prefix="xapp-",
        )
    slack_api_url = r.raw("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if not re.match(r"^https?://", slack_api_url):
        r.problems.append(f"SLACK_API_URL must be an http(s) URL such as {DEFAULT_SLACK_API_URL}.")
    if not slack_api_url.endswith("/"):
        slack_api_url += "/"
    return {
        "slack_bot_token": bot_token,
        "slack_signing_secret": signing_secret,
        "slack_app_token": app_token,
        "slack_api_url": slack_api_url,
    }


def _ovh(r: _Reader) -> dict[str, Any]:
    """OVH_ENDPOINT, the three OVH keys, OVH_SMS_SERVICE, OVH_SMS_SENDER, OVH_NO_STOP_CLAUSE, timeouts."""
    ovh_endpoint = r.raw("OVH_ENDPOINT") or "ovh-eu"
    simulated = ovh_endpoint == OVH_SIMULATOR
    if not simulated and ovh_endpoint not in OVH_REGIONS and not re.match(r"^https?://[^\s]+$", ovh_endpoint):
        r.problems.append(
            f"OVH_ENDPOINT must be one of {', '.join(OVH_REGIONS)}, a base URL such as "
            f"https://eu.api.ovh.com/1.0, or {OVH_SIMULATOR} to try the bot without OVH (got `{ovh_endpoint}`)."
        )
    key_help = "a key from https://eu.api.ovh.com/createToken/ (see the README's OVH section)"

    def key(name: str, what: str) -> str:
        # The simulator needs no keys: it is how to try the bot before having an OVH account.
        return (r.raw(name) or "") if simulated else r.required(name, f"{what} of {key_help}")

    return {
        "ovh_endpoint": ovh_endpoint.rstrip("/"),
        "ovh_application_key": key("OVH_APPLICATION_KEY", "the application key"),
        "ovh_application_secret": key("OVH_APPLICATION_SECRET", "the application secret"),
        "ovh_consumer_key": key("OVH_CONSUMER_KEY", "the consumer key"),
        "ovh_sms_service": r.raw("OVH_SMS_SERVICE"),
        "ovh_sms_sender": r.raw("OVH_SMS_SENDER"),
        "ovh_no_stop_clause": r.boolean("OVH_NO_STOP_CLAUSE", True),
        "ovh_connect_timeout": r.number("OVH_CONNECT_TIMEOUT", 5.0, minimum=0.1, maximum=120),
        "ovh_read_timeout": r.number("OVH_READ_TIMEOUT", 30.0, minimum=0.1, maximum=300),
    }


def _rules(r: _Reader) -> dict[str, Any]:
    """Who may send, where SMS may go and how much: SMS_DEFAULT_REGION, SMS_ALLOWED_*, SMS_ADMIN_USERS,
    SMS_WORKSPACE_ADMINS_ARE_ADMINS, SMS_USERGROUP_CACHE_SECONDS and the SMS_LIMIT_* variables."""
    region = r.raw("SMS_DEFAULT_REGION")
    if region is not None:
        region = region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            r.problems.append(
                f"SMS_DEFAULT_REGION must be a two-letter country code such as ES, FR or GB (got `{region}`)."
            )
            region = None
    return {
        "sms_default_region": region,
        "allowed_users": r.ids("SMS_ALLOWED_USERS", USER_ID, "Slack user ids (U…)"),
        "allowed_usergroups": r.ids("SMS_ALLOWED_USERGROUPS", USERGROUP_ID, "Slack user group ids (S…)"),
        "allowed_channels": r.ids("SMS_ALLOWED_CHANNELS", CHANNEL_ID, "Slack channel ids (C…, G… or D…)"),
        "allowed_countries": _allowed_countries(r, region),
        "admin_users": r.ids("SMS_ADMIN_USERS", USER_ID, "Slack user ids (U…)"),
        "workspace_admins_are_admins": r.boolean("SMS_WORKSPACE_ADMINS_ARE_ADMINS", False),
        "usergroup_cache_seconds": r.number("SMS_USERGROUP_CACHE_SECONDS", 60.0, minimum=0, maximum=3600),
        "limits": Limits(
            receivers_per_send=r.whole("SMS_LIMIT_RECEIVERS_PER_SEND", 50),
            user_sms_per_day=r.whole("SMS_LIMIT_USER_SMS_PER_DAY", 100),
            channel_sms_per_day=r.whole("SMS_LIMIT_CHANNEL_SMS_PER_DAY", 500),
            user_credits_per_day=r.whole("SMS_LIMIT_USER_CREDITS_PER_DAY", 0),
            channel_credits_per_day=r.whole("SMS_LIMIT_CHANNEL_CREDITS_PER_DAY", 0),
        ),
    }


def _allowed_countries(r: _Reader, region: str | None) -> frozenset[str] | None:
    countries_raw = r.raw("SMS_ALLOWED_COUNTRIES")
    if countries_raw == "*":
        return None
    if countries_raw:
        codes = [code.strip().upper() for code in re.split(r"[,\s]+", countries_raw) if code.strip()]
        unknown = [code for code in codes if code not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            r.problems.append(
                f"SMS_ALLOWED_COUNTRIES must be two-letter country codes such as ES,FR (or `*` for any); "
                f"these are not: {', '.join(unknown)}."
            )
        return frozenset(code for code in codes if code not in unknown)
    if region is not None:
        return frozenset({region})
    r.problems.append(
        "SMS_ALLOWED_COUNTRIES is not set and there is no SMS_DEFAULT_REGION to default to: list the "
        "countries SMS may go to (e.g. ES,FR), or `*` for any country."
    )
    return frozenset()


def _database(r: _Reader) -> dict[str, Any]:
    """DATABASE_URL."""
    database_url = r.raw("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", database_url):
        r.problems.append(
            "DATABASE_URL must be a SQLite or PostgreSQL URL, such as sqlite:///smsbot.db or "
            "postgresql://user:password@host:5432/smsbot."
        )
    elif database_url.startswith(("postgresql://", "postgres://")):
        # SQLAlchemy's bare postgresql:// means psycopg2; the driver we ship is psycopg 3.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return {"database_url": database_url}


def _runtime(r: _Reader, *, slowest_ovh_call: float) -> dict[str, Any]:
    """Recovery timings (each with its safe floor), SMSBOT_SEND_WORKERS, LOG_LEVEL and LOG_FORMAT.

    ``slowest_ovh_call`` is OVH_CONNECT_TIMEOUT + OVH_READ_TIMEOUT, which the recovery lease must outlast.
    """
    minimum_recovery = slowest_ovh_call + RECOVERY_MARGIN
    recovery_after = r.number(
        "SMS_RECOVERY_AFTER_SECONDS", max(120.0, minimum_recovery), minimum=1, maximum=86400
    )
    if recovery_after < minimum_recovery:
        r.problems.append(
            f"SMS_RECOVERY_AFTER_SECONDS must be at least OVH_CONNECT_TIMEOUT + OVH_READ_TIMEOUT + "
            f"{RECOVERY_MARGIN:g} ({minimum_recovery:g}): OVH may record a job some time after it took it, and "
            "recovery must not take over a send still in progress, or find no trace of it yet, and send it "
            "twice."
        )
    grace = r.number("SMS_UNKNOWN_GRACE_SECONDS", 60.0, minimum=0, maximum=3600)
    if grace < UNKNOWN_GRACE_FLOOR:
        r.problems.append(
            f"SMS_UNKNOWN_GRACE_SECONDS must be at least {UNKNOWN_GRACE_FLOOR:g} (got `{grace:g}`): OVH may "
            "record a job some time after its answer was lost, and recovery must not find no trace of it "
            "yet and send it twice."
        )

    log_level = (r.raw("LOG_LEVEL") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        r.problems.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR (got `{log_level}`).")
        log_level = "INFO"
    log_format = (r.raw("LOG_FORMAT") or "text").lower()
    if log_format not in {"text", "json"}:
        r.problems.append(f"LOG_FORMAT must be `text` or `json` (got `{log_format}`).")
        log_format = "text"
    return {
        "recovery_interval_seconds": r.number("SMS_RECOVERY_INTERVAL_SECONDS", 30.0, minimum=1, maximum=3600),
        "recovery_after_seconds": recovery_after,
        "unknown_grace_seconds": grace,
        "send_workers": int(r.number("SMSBOT_SEND_WORKERS", 100, minimum=1, maximum=256)),
        "log_level": log_level,
        "log_format": log_format,
    }


def _language(r: _Reader) -> dict[str, Any]:
    """SMS_LANGUAGE: the language of what the bot posts for the team rather than for one person."""
    from bot.i18n import DEFAULT_LANGUAGE, languages

    value = (r.raw("SMS_LANGUAGE") or DEFAULT_LANGUAGE).strip().lower()
    if value not in languages():
        r.problems.append(
            f"SMS_LANGUAGE must be one of {', '.join(languages())} (got `{value}`): the language of the credit "
            "alert and of replies that match no send."
        )
        return {"language": DEFAULT_LANGUAGE}
    return {"language": value}


def _retention(r: _Reader) -> dict[str, Any]:
    """SMS_RETENTION_DAYS: how long the ledger keeps texts and full numbers (0: erased as soon as settled)."""
    value = r.raw("SMS_RETENTION_DAYS")
    if value is None:
        return {"retention_days": 365}
    if not value.isdigit() or int(value) > 36_500:
        r.problems.append(
            f"SMS_RETENTION_DAYS must be a whole number of days from 0 to 36500 (got `{value}`); 0 erases texts "
            "and numbers as soon as a send is settled."
        )
        return {"retention_days": 365}
    return {"retention_days": int(value)}


# OVH_CALLBACK_TOKEN is a secret in a URL: long enough not to be guessed, and only URL-safe characters.
CALLBACK_TOKEN = re.compile(r"^[A-Za-z0-9_-]{24,128}$")


def _delivery(r: _Reader) -> dict[str, Any]:
    """What follows a send: SMS_DELIVERY_POLL_SECONDS, SMS_DELIVERY_VALIDITY_HOURS, SMS_OVH_READS_PER_MINUTE,
    OVH_CALLBACK_TOKEN, SMS_REPLIES_CHANNEL, SMS_ALLOW_REPLIES, SMS_ALERT_CHANNEL, SMS_CREDITS_ALERT_BELOW."""
    token = r.raw("OVH_CALLBACK_TOKEN")
    if token is not None and not CALLBACK_TOKEN.match(token):
        r.problems.append(
            "OVH_CALLBACK_TOKEN must be 24 to 128 letters, digits, `-` or `_` (it is the secret part of the "
            "callback URL): generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
        token = None

    def channel(name: str) -> str | None:
        found = r.ids(name, CHANNEL_ID, "Slack channel ids (C…, G…)")
        if len(found) > 1:
            r.problems.append(f"{name} must be one channel id (C… or G…), not a list.")
        return next(iter(sorted(found)), None) if len(found) == 1 else None

    below_raw = r.raw("SMS_CREDITS_ALERT_BELOW")
    below = r.number("SMS_CREDITS_ALERT_BELOW", 0.0, minimum=0, maximum=1_000_000) if below_raw else None
    alert_channel = channel("SMS_ALERT_CHANNEL")
    if below is not None and alert_channel is None and r.raw("SMS_ALERT_CHANNEL") is None:
        r.problems.append(
            "SMS_CREDITS_ALERT_BELOW is set but SMS_ALERT_CHANNEL is not: name the channel (C…) the alert goes to."
        )
    return {
        "delivery_poll_seconds": r.number("SMS_DELIVERY_POLL_SECONDS", 30.0, minimum=5, maximum=3600),
        "delivery_validity_hours": r.number("SMS_DELIVERY_VALIDITY_HOURS", 48.0, minimum=1, maximum=168),
        "ovh_reads_per_minute": int(r.number("SMS_OVH_READS_PER_MINUTE", 30, minimum=1, maximum=60)),
        "ovh_callback_token": token,
        "replies_channel": channel("SMS_REPLIES_CHANNEL"),
        "allow_replies": r.boolean("SMS_ALLOW_REPLIES", False),
        "alert_channel": alert_channel,
        "credits_alert_below": below,
    }


def _confirmation(r: _Reader) -> dict[str, Any]:
    """SMS_CONFIRM_ABOVE_CREDITS and SMS_CONFIRM_ABOVE_RECEIVERS: when a send waits for its author to
    confirm it."""
    return {
        "confirm_above_credits": r.number("SMS_CONFIRM_ABOVE_CREDITS", 10.0, minimum=0, maximum=1_000_000),
        "confirm_above_receivers": r.whole("SMS_CONFIRM_ABOVE_RECEIVERS", 10),
    }
