"""The settings of what follows a send (issue 11): defaults, and every problem named with its variable."""

from __future__ import annotations

import pytest

from bot.domain.errors import ConfigurationError
from bot.settings import load_settings
from tests.test_settings import VALID

TOKEN = "a" * 24


def problems(env: dict[str, str]) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({**VALID, **env})
    return caught.value.user_message


def test_defaults():
    settings = load_settings(VALID)
    assert settings.delivery_poll_seconds == 30
    assert settings.delivery_validity_hours == 48
    assert settings.ovh_reads_per_minute == 30
    assert settings.ovh_callback_token is None
    assert settings.replies_channel is None and settings.alert_channel is None
    assert settings.allow_replies is False
    assert settings.credits_alert_below is None


def test_every_setting_is_read():
    settings = load_settings(
        {
            **VALID,
            "SMS_DELIVERY_POLL_SECONDS": "60",
            "SMS_DELIVERY_VALIDITY_HOURS": "24",
            "SMS_OVH_READS_PER_MINUTE": "20",
            "OVH_CALLBACK_TOKEN": TOKEN,
            "SMS_REPLIES_CHANNEL": "CREPLIES",
            "SMS_ALLOW_REPLIES": "true",
            "SMS_ALERT_CHANNEL": "GALERTS",
            "SMS_CREDITS_ALERT_BELOW": "100",
        }
    )
    assert settings.delivery_poll_seconds == 60 and settings.delivery_validity_hours == 24
    assert settings.ovh_reads_per_minute == 20
    assert settings.ovh_callback_token == TOKEN
    assert TOKEN not in repr(settings)
    assert settings.replies_channel == "CREPLIES" and settings.alert_channel == "GALERTS"
    assert settings.allow_replies is True
    assert settings.credits_alert_below == 100


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SMS_DELIVERY_POLL_SECONDS": "1"}, "SMS_DELIVERY_POLL_SECONDS must be a number from 5 to 3600"),
        ({"SMS_DELIVERY_VALIDITY_HOURS": "0"}, "SMS_DELIVERY_VALIDITY_HOURS must be a number from 1 to 168"),
        ({"SMS_OVH_READS_PER_MINUTE": "61"}, "SMS_OVH_READS_PER_MINUTE must be a number from 1 to 60"),
        ({"OVH_CALLBACK_TOKEN": "short"}, "OVH_CALLBACK_TOKEN must be 24 to 128 letters"),
        ({"OVH_CALLBACK_TOKEN": "a" * 23 + "/"}, "OVH_CALLBACK_TOKEN must be 24 to 128 letters"),
        ({"SMS_REPLIES_CHANNEL": "#general"}, "SMS_REPLIES_CHANNEL must be a comma-separated list"),
        (
            {"SMS_ALERT_CHANNEL": "CALERTS1,CALERTS2", "SMS_CREDITS_ALERT_BELOW": "5"},
            "SMS_ALERT_CHANNEL must be one channel id",
        ),
        ({"SMS_CREDITS_ALERT_BELOW": "100"}, "SMS_CREDITS_ALERT_BELOW is set but SMS_ALERT_CHANNEL is not"),
        (
            {"SMS_CREDITS_ALERT_BELOW": "lots", "SMS_ALERT_CHANNEL": "CALERTS1"},
            "SMS_CREDITS_ALERT_BELOW must be a number",
        ),
        ({"SMS_ALLOW_REPLIES": "maybe"}, "SMS_ALLOW_REPLIES must be `true` or `false`"),
    ],
)
def test_problems_name_the_variable(env, says):
    assert says in problems(env)


def test_a_wrong_callback_token_is_not_echoed():
    secret = "s3cr3t/with/slashes-and-more-than-24"
    assert secret not in problems({"OVH_CALLBACK_TOKEN": secret})
