"""Logs: text or one JSON object per line, and never a phone number or a secret from our code paths."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest

from bot.logs import JsonFormatter, configure_logging
from bot.settings import Mode, load_settings
from tests.test_cli_check import Cli, kept_logging


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path) -> Iterator[Cli]:
    with kept_logging():
        yield Cli(monkeypatch, capsys, tmp_path)


@pytest.fixture
def configure(env) -> Iterator:
    """configure_logging with settings from ``env`` plus overrides; the logging set-up is restored after."""
    with kept_logging():
        yield lambda **overrides: configure_logging(load_settings(env | overrides, Mode.OFFLINE))


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_records_carry_time_level_logger_message_and_traceback():
    try:
        1 / 0  # noqa: B018 - the exception is the point
    except ZeroDivisionError:
        record = logging.LogRecord("smsbot.test", logging.ERROR, __file__, 1, "send #%d failed", (7,), None)
        record.exc_info = sys.exc_info()

    entry = json.loads(JsonFormatter().format(record))

    assert set(entry) == {"ts", "level", "logger", "message", "exc_info"}
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "smsbot.test"
    assert entry["message"] == "send #7 failed"
    assert entry["ts"].endswith("+00:00")
    assert entry["exc_info"].startswith("Traceback (most recent call last):")
    assert "ZeroDivisionError: division by zero" in entry["exc_info"]


def test_json_format_writes_one_object_per_line(configure, capsys):
    configure(LOG_FORMAT="json")

    logging.getLogger("smsbot.test").info("two\nlines")
    logging.getLogger("smsbot.test").debug("not at INFO")

    [entry] = json_lines(capsys.readouterr().err)
    assert entry["message"] == "two\nlines"
    assert entry["level"] == "INFO"
    assert "exc_info" not in entry


def test_text_format_and_a_second_call_replaces_the_first(configure, capsys):
    configure(LOG_FORMAT="json")
    configure(LOG_FORMAT="text", LOG_LEVEL="WARNING")

    logging.getLogger("smsbot.test").info("hidden")
    logging.getLogger("smsbot.test").warning("shown")

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.rstrip().endswith(" WARNING smsbot.test: shown")


def test_debug_keeps_slack_request_bodies_out(configure, capsys):
    configure(LOG_LEVEL="DEBUG", LOG_FORMAT="json")

    logging.getLogger("slack_sdk.web.base_client").debug(
        "Sending a request - body_params: {'text': '+34600000001'}"
    )
    logging.getLogger("bot.sending.service").debug("ours")

    assert [entry["message"] for entry in json_lines(capsys.readouterr().err)] == ["ours"]


def test_a_cli_send_logs_json_without_numbers_or_secrets(cli, env, fake_ovh):
    fake_ovh.invalid_receivers = {"+34600000002"}

    outcome = cli(
        "send",
        "+34600000001,+34600000002",
        "Hola equipo",
        "--user",
        "UALICE",
        "--channel",
        "COPS",
        env=env | {"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"},
    )

    assert outcome.code == 0, outcome.err
    entries = json_lines(outcome.err)  # every line is a JSON object
    messages = [entry["message"] for entry in entries]
    assert any("+34******001" in message for message in messages)
    logged = outcome.err
    for number in ("600000001", "600000002", "600 00 00 01"):
        assert number not in logged
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"):
        assert env[name] not in logged, f"{name} was logged"
    assert "Hola equipo" not in logged


def test_a_failed_send_logs_text_without_numbers(cli, env, fake_ovh):
    fake_ovh.fail_next(400, message="Invalid receivers")

    outcome = cli("send", "+34600000001", "Hola", "--user", "UALICE", env=env)

    assert outcome.code == 1
    assert "send #1 failed: rejected" in outcome.err
    assert "600000001" not in outcome.err
