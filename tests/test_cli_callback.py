"""`smsbot callback set URL | show | clear`, and what `smsbot check` says after a send (callback, replies,
credit alert), against the fake OVH; the callback token is never printed."""

from __future__ import annotations

import pytest

from bot.storage.db import create_engine, migrate
from tests.test_cli_check import Cli, assert_no_secret, fix_after, kept_logging, line

TOKEN = "cb-token-0123456789abcdefghijkl"
URL = f"https://bot.example.org/ovh/callback/{TOKEN}"


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    with kept_logging():
        yield Cli(monkeypatch, capsys, tmp_path)


@pytest.fixture
def migrated(sqlite_url: str) -> str:
    engine = create_engine(sqlite_url)
    migrate(engine)
    engine.dispose()
    return sqlite_url


def _env(env: dict[str, str], **more: str) -> dict[str, str]:
    return {**env, "OVH_CALLBACK_TOKEN": TOKEN, **more}


def test_set_points_the_accounts_callback_at_the_bot(cli, env, fake_ovh):
    fake_ovh.rules.append(("PUT", "/sms/*"))

    outcome = cli("callback", "set", URL, env=_env(env))

    assert outcome.code == 0, outcome.err
    assert fake_ovh.callback_url == URL
    assert "OVH now pushes delivery changes to https://bot.example.org/ovh/callback/***" in outcome.out
    assert TOKEN not in outcome.out + outcome.err
    shown = cli("callback", "show", env=_env(env))
    assert shown.code == 0 and "callback https://bot.example.org/ovh/callback/***." in shown.out
    cleared = cli("callback", "clear", env=_env(env))
    assert cleared.code == 0 and fake_ovh.callback_url == ""
    assert "callback not set" in cli("callback", "show", env=_env(env)).out


def test_without_the_put_rule_the_fix_is_a_key_with_it(cli, env, fake_ovh):
    outcome = cli("callback", "set", URL, env=_env(env))

    assert outcome.code == 1
    assert "not granted PUT /sms/*" in outcome.err
    assert "createToken/?GET=/sms&GET=/sms/*&POST=/sms/*/jobs&PUT=/sms/*" in outcome.err.replace("\n", "")
    assert fake_ovh.callback_url == ""


def test_a_url_that_the_bot_would_answer_404_is_refused_before_ovh(cli, env, fake_ovh):
    fake_ovh.rules.append(("PUT", "/sms/*"))
    for url in (
        "https://bot.example.org/ovh/callback/other-token-0123456789abcdef",
        f"https://bot.example.org/ovh/callback/{TOKEN}?x=1",
        f"ftp://bot.example.org/ovh/callback/{TOKEN}",
        "not a url",
    ):
        outcome = cli("callback", "set", url, env=_env(env))
        assert outcome.code == 2, url
        assert TOKEN not in outcome.err
    assert fake_ovh.callback_url == ""
    assert [r for r in fake_ovh.requests if r.method == "PUT"] == []


def test_without_a_token_set_it_says_to_set_one_first(cli, env, fake_ovh):
    outcome = cli("callback", "set", URL, env=env)
    assert outcome.code == 2 and "Set OVH_CALLBACK_TOKEN first" in outcome.err


def test_the_simulator_has_no_callback(cli, env):
    outcome = cli("callback", "show", env={**env, "OVH_ENDPOINT": "simulator"})
    assert outcome.code == 2 and "simulator" in outcome.err


def test_check_shows_a_callback_that_points_at_the_bot(cli, env, migrated, fake_ovh):
    fake_ovh.callback_url = URL

    outcome = cli("check", env=_env(env))

    assert line(outcome.out, "✓ OVH callback:") == (
        "✓ OVH callback: OVH pushes changes to https://bot.example.org/ovh/callback/*** "
        "(OVH_CALLBACK_TOKEN matches)."
    )
    assert line(outcome.out, "✓ delivery:").startswith(
        "✓ delivery: each SMS is followed for 48 h, read every 30 s"
    )
    assert TOKEN not in outcome.out
    assert_no_secret(outcome, env)


def test_check_warns_when_the_token_is_set_but_ovh_does_not_push(cli, env, migrated, fake_ovh):
    outcome = cli("check", env=_env(env))

    assert line(outcome.out, "! OVH callback:").startswith("! OVH callback: OVH_CALLBACK_TOKEN is set but")
    assert "smsbot callback set" in fix_after(outcome.out, "! OVH callback:")
    assert outcome.code == 0


def test_check_warns_of_a_callback_that_points_elsewhere(cli, env, migrated, fake_ovh):
    fake_ovh.callback_url = "https://old.example.org/ovh/callback/old-secret-token-value-1234"

    outcome = cli("check", env=_env(env))

    shown = line(outcome.out, "! OVH callback:")
    assert "https://old.example.org/ovh/callback/***" in shown and "old-secret" not in outcome.out


def test_check_shows_the_reply_and_credit_alert_settings(cli, env, migrated, fake_ovh):
    outcome = cli(
        "check",
        env={
            **env,
            "SMS_REPLIES_CHANNEL": "CREPLIES",
            "SMS_ALERT_CHANNEL": "CALERTS",
            "SMS_CREDITS_ALERT_BELOW": "50",
        },
    )

    assert "replies that match no send go to <#CREPLIES>" in line(outcome.out, "✓ replies:")
    assert line(outcome.out, "✓ credit alert:") == (
        "✓ credit alert: posted once in <#CALERTS> when the credits left fall below 50 "
        "(SMS_CREDITS_ALERT_BELOW, SMS_ALERT_CHANNEL)."
    )
    assert line(outcome.out, "✓ OVH callback:").startswith("✓ OVH callback: not used")
    off = cli("check", env=env)
    assert line(off.out, "✓ credit alert:").startswith("✓ credit alert: off")
