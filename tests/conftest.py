"""Shared fixtures: fake Slack and OVH servers, a database, and the bot running over HTTP against them."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot.settings import Mode, Settings, load_settings
from tests.fakes.ovh_api import FakeOvh
from tests.fakes.slack_api import FakeSlack
from tests.harness import SIGNING_SECRET, RunningBot, SlackSender
from tests.processes import HttpBotProcess

POSTGRES_URL = os.environ.get("SMSBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("SMSBOT_REQUIRE_POSTGRES") == "1"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake_ovh() -> Iterator[FakeOvh]:
    with FakeOvh() as fake:
        yield fake


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'smsbot.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"smsbot_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        reason = f"PostgreSQL is not reachable at {POSTGRES_URL} ({type(error).__name__}); set SMSBOT_TEST_POSTGRES_URL"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (SMSBOT_REQUIRE_POSTGRES=1: these tests must run)")
        pytest.skip(reason)
    url = sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def env(fake_slack: FakeSlack, fake_ovh: FakeOvh, sqlite_url: str) -> dict[str, str]:
    """The environment of a bot wired to the fakes; tests change what they need."""
    return {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "OVH_ENDPOINT": fake_ovh.endpoint,
        "OVH_APPLICATION_KEY": fake_ovh.application_key,
        "OVH_APPLICATION_SECRET": fake_ovh.application_secret,
        "OVH_CONSUMER_KEY": fake_ovh.consumer_key,
        "SMS_DEFAULT_REGION": "ES",
        "SMS_ALLOWED_COUNTRIES": "ES,FR,GB",
        "SMS_ALLOWED_USERS": "UALICE",
        "DATABASE_URL": sqlite_url,
        # Costly sends ask for a confirmation first (tests/test_compose_confirm.py); elsewhere they go at once.
        "SMS_CONFIRM_ABOVE_CREDITS": "100000",
        "SMS_CONFIRM_ABOVE_RECEIVERS": "100000",
    }


@pytest.fixture
def make_settings(env: dict[str, str]) -> Callable[..., Settings]:
    def make(*, unknown_grace_seconds: float | None = None, **overrides: str) -> Settings:
        settings = load_settings({**env, **overrides}, Mode.HTTP)
        if unknown_grace_seconds is not None:
            # Start-up refuses a grace under its floor; a test that looks at an unknown outcome at once
            # stands in for the time passing this way.
            settings = dataclasses.replace(settings, unknown_grace_seconds=unknown_grace_seconds)
        return settings

    return make


@pytest.fixture
def start_bot(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., RunningBot]]:
    """Start a bot (several may run, e.g. to restart one); all are stopped at the end of the test."""
    running: list[RunningBot] = []

    def start(**overrides: Any) -> RunningBot:
        bot = RunningBot(make_settings(**overrides))
        running.append(bot)
        return bot

    yield start
    for bot in running:
        bot.close()


@pytest.fixture
def bot_processes(env: dict[str, str], tmp_path) -> Iterator[Callable[..., HttpBotProcess]]:
    """Start real `python -m bot run --http` processes (to kill one, say); all are stopped at the end."""
    started: list[HttpBotProcess] = []

    def start(name: str, **overrides: str) -> HttpBotProcess:
        process = HttpBotProcess({**env, **overrides}, tmp_path, name)
        started.append(process)
        process.wait_ready()
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def bot(start_bot: Callable[..., RunningBot]) -> RunningBot:
    return start_bot()


@pytest.fixture
def slack(bot: RunningBot) -> SlackSender:
    return SlackSender(bot.url)
