"""Configuration: every problem named with its variable, secrets never echoed."""

from __future__ import annotations

import pytest

from bot.domain.errors import ConfigurationError
from bot.settings import Mode, load_settings

VALID = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_APP_TOKEN": "xapp-1-abc",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
    "OVH_APPLICATION_KEY": "app-key-value",
    "OVH_APPLICATION_SECRET": "app-secret-value",
    "OVH_CONSUMER_KEY": "consumer-key-value",
    "SMS_ALLOWED_COUNTRIES": "*",
}


def problems(env: dict[str, str], mode: Mode = Mode.SOCKET) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env, mode)
    return caught.value.user_message


def test_defaults():
    settings = load_settings(VALID)

    assert settings.ovh_endpoint == "ovh-eu"
    assert settings.ovh_base_url == "https://eu.api.ovh.com/1.0"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite:///smsbot.db"
    assert settings.ovh_no_stop_clause is True
    assert (settings.ovh_connect_timeout, settings.ovh_read_timeout) == (5.0, 30.0)
    assert settings.allowed_users == frozenset()
    assert settings.sms_default_region is None
    assert settings.allowed_countries is None
    assert settings.limits.receivers_per_send == 50 and settings.limits.user_sms_per_day == 100
    assert settings.recovery_after_seconds == 120


def test_every_missing_variable_is_named_at_once():
    message = problems({})

    for name in [
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "OVH_APPLICATION_KEY",
        "OVH_APPLICATION_SECRET",
        "OVH_CONSUMER_KEY",
    ]:
        assert f"{name} is not set" in message
    assert "SLACK_SIGNING_SECRET" not in message  # Socket Mode does not need it


def test_http_mode_needs_the_signing_secret_not_the_app_token():
    env = {k: v for k, v in VALID.items() if k not in {"SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"}}

    message = problems(env, Mode.HTTP)

    assert "SLACK_SIGNING_SECRET is not set" in message
    assert "SLACK_APP_TOKEN" not in message


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "must start with `xoxb-`"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind", "must start with `xapp-`"),
        ("OVH_ENDPOINT", "ovh-mars", "OVH_ENDPOINT must be one of ovh-eu, ovh-ca, ovh-us"),
        ("SMS_DEFAULT_REGION", "Spain", "two-letter country code"),
        ("SMS_ALLOWED_USERS", "UALICE, alice", "these are not: alice"),
        ("SMS_ALLOWED_USERGROUPS", "UALICE", "user group ids"),
        ("SMS_ALLOWED_CHANNELS", "#ops", "these are not: #ops"),
        ("OVH_NO_STOP_CLAUSE", "maybe", "`true` or `false`"),
        ("OVH_READ_TIMEOUT", "forever", "a number from"),
        ("DATABASE_URL", "mysql://x/y", "SQLite or PostgreSQL URL"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be"),
        ("SMS_ALLOWED_COUNTRIES", "ES,Spain", "these are not: SPAIN"),
        ("SMS_LIMIT_USER_SMS_PER_DAY", "-3", "whole number"),
        ("SMS_RECOVERY_AFTER_SECONDS", "20", "at least OVH_CONNECT_TIMEOUT + OVH_READ_TIMEOUT + 60"),
        ("SMS_ADMIN_USERS", "admin", "these are not: admin"),
    ],
)
def test_malformed_values_are_named_with_what_to_put(name, value, says):
    message = problems({**VALID, name: value})

    assert name in message and says in message


def test_secrets_are_never_echoed():
    message = problems({**VALID, "SLACK_BOT_TOKEN": "xoxp-very-secret-user-token", "OVH_ENDPOINT": "bad"})
    settings = load_settings({**VALID, "DATABASE_URL": "postgresql://u:dbpassword@h/db"})

    assert "very-secret" not in message
    for secret in [
        "xoxb-1-2-abc",
        "app-secret-value",
        "consumer-key-value",
        "signing-secret-value",
        "dbpassword",
    ]:
        assert secret not in repr(settings)


def test_values_are_normalised():
    settings = load_settings(
        {
            **VALID,
            "OVH_ENDPOINT": "http://127.0.0.1:8080/1.0/",
            "SLACK_API_URL": "http://127.0.0.1:9000/api",
            "SMS_DEFAULT_REGION": "es",
            "SMS_ALLOWED_USERS": " UALICE,UBOB  UCAROL ",
            "DATABASE_URL": "postgresql://smsbot@db/smsbot",
            "OVH_NO_STOP_CLAUSE": "false",
        }
    )

    assert settings.ovh_base_url == "http://127.0.0.1:8080/1.0"
    assert settings.slack_api_url == "http://127.0.0.1:9000/api/"
    assert settings.sms_default_region == "ES"
    assert settings.allowed_users == {"UALICE", "UBOB", "UCAROL"}
    assert settings.database_url == "postgresql+psycopg://smsbot@db/smsbot"
    assert settings.ovh_no_stop_clause is False


def test_countries_default_to_the_default_region():
    env = {k: v for k, v in VALID.items() if k != "SMS_ALLOWED_COUNTRIES"}

    assert load_settings({**env, "SMS_DEFAULT_REGION": "fr"}).allowed_countries == {"FR"}
    assert "SMS_ALLOWED_COUNTRIES is not set" in problems(env)
    assert load_settings({**env, "SMS_ALLOWED_COUNTRIES": "es, pt"}).allowed_countries == {"ES", "PT"}


def test_recovery_waits_longer_than_the_slowest_ovh_call():
    settings = load_settings({**VALID, "OVH_CONNECT_TIMEOUT": "30", "OVH_READ_TIMEOUT": "120"})

    assert settings.recovery_after_seconds == 210


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"SMS_UNKNOWN_GRACE_SECONDS": "0"},
            "SMS_UNKNOWN_GRACE_SECONDS must be at least 60 (got `0`)",
        ),
        (
            {"SMS_UNKNOWN_GRACE_SECONDS": "59.5"},
            "SMS_UNKNOWN_GRACE_SECONDS must be at least 60 (got `59.5`)",
        ),
        (
            {"SMS_RECOVERY_AFTER_SECONDS": "94"},
            "SMS_RECOVERY_AFTER_SECONDS must be at least OVH_CONNECT_TIMEOUT + OVH_READ_TIMEOUT + 60 (95)",
        ),
        (
            {"OVH_READ_TIMEOUT": "200", "SMS_RECOVERY_AFTER_SECONDS": "200"},
            "SMS_RECOVERY_AFTER_SECONDS must be at least OVH_CONNECT_TIMEOUT + OVH_READ_TIMEOUT + 60 (265)",
        ),
    ],
)
def test_settings_that_could_send_twice_are_refused_below_their_floor(env, says):
    assert says in problems({**VALID, **env})


def test_the_floors_themselves_are_accepted():
    settings = load_settings({**VALID, "SMS_UNKNOWN_GRACE_SECONDS": "60", "SMS_RECOVERY_AFTER_SECONDS": "95"})

    assert (settings.unknown_grace_seconds, settings.recovery_after_seconds) == (60, 95)


def test_each_section_reports_all_its_problems_at_once():
    message = problems(
        {
            "SLACK_BOT_TOKEN": "xoxp-user",
            "SLACK_API_URL": "ftp://x",
            "OVH_ENDPOINT": "ovh-mars",
            "OVH_READ_TIMEOUT": "never",
            "SMS_DEFAULT_REGION": "Spain",
            "SMS_ALLOWED_USERS": "alice",
            "SMS_LIMIT_USER_SMS_PER_DAY": "-1",
            "DATABASE_URL": "mysql://x/y",
            "SMS_UNKNOWN_GRACE_SECONDS": "1",
            "LOG_LEVEL": "LOUD",
            "LOG_FORMAT": "xml",
        }
    )

    for name in [
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "OVH_ENDPOINT",
        "OVH_READ_TIMEOUT",
        "OVH_APPLICATION_KEY",
        "SMS_DEFAULT_REGION",
        "SMS_ALLOWED_USERS",
        "SMS_ALLOWED_COUNTRIES",
        "SMS_LIMIT_USER_SMS_PER_DAY",
        "DATABASE_URL",
        "SMS_UNKNOWN_GRACE_SECONDS",
        "LOG_LEVEL",
        "LOG_FORMAT",
    ]:
        assert f"- {name} " in message, name
