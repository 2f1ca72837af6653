"""`smsbot check`: every check over real HTTP against the fakes, read-only, with the fix for each problem."""

from __future__ import annotations

import logging
import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from bot.checks import REQUIRED_SLACK_SCOPES, create_token_url, rule_matches, shown_url
from bot.cli import main
from bot.settings import Mode, load_settings
from bot.storage.db import MIGRATIONS, create_engine, migrate
from tests.fakes.slack_api import DEFAULT_SCOPES

ROOT = Path(__file__).resolve().parent.parent
# Every variable the settings read starts with one of these (or is one of _VARIABLES).
_PREFIXES = ("SLACK_", "OVH_", "SMS_", "SMSBOT_")
_VARIABLES = ("DATABASE_URL", "LOG_LEVEL", "LOG_FORMAT")
# The command line speaks the environment's language: English unless a test asks for another.
_LOCALE = ("LC_ALL", "LC_MESSAGES", "LANG")


@dataclass(frozen=True)
class Outcome:
    """What one `smsbot` run printed and how it exited."""

    code: int
    out: str
    err: str


class Cli:
    """Runs `smsbot` in-process, in an empty directory (so no real .env is read), with exactly ``env``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path):
        self._monkeypatch = monkeypatch
        self._capsys = capsys
        self._tmp_path = tmp_path

    def __call__(self, *argv: str, env: dict[str, str]) -> Outcome:
        self._monkeypatch.chdir(self._tmp_path)
        for name in list(os.environ):
            if name.startswith(_PREFIXES) or name in _VARIABLES or name in _LOCALE:
                self._monkeypatch.delenv(name)
        for name, value in env.items():
            self._monkeypatch.setenv(name, value)
        self._capsys.readouterr()
        try:
            main(list(argv))
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = self._capsys.readouterr()
        return Outcome(code, captured.out, captured.err)


@contextmanager
def kept_logging() -> Iterator[None]:
    """The CLI configures the root logger; put it back as it was for the next tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ("slack_sdk", "slack_bolt", "smsbot.bolt", "alembic")
    levels = {name: logging.getLogger(name).level for name in names}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path) -> Iterator[Cli]:
    with kept_logging():
        yield Cli(monkeypatch, capsys, tmp_path)


@pytest.fixture
def migrated(sqlite_url: str) -> str:
    engine = create_engine(sqlite_url)
    migrate(engine)
    engine.dispose()
    return sqlite_url


def lines(text: str) -> list[str]:
    """Output lines, stripped, with wrapping undone (a wrapped line goes on 4 spaces deeper)."""
    joined: list[str] = []
    head_indent = 0
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped:
            continue
        indent = len(raw) - len(raw.lstrip())
        if joined and indent >= head_indent + 4 and not stripped.startswith("fix:"):
            joined[-1] += " " + stripped
        else:
            joined.append(stripped)
            head_indent = indent
    return joined


def line(text: str, start: str) -> str:
    """The one output line starting with ``start``."""
    found = [candidate for candidate in lines(text) if candidate.startswith(start)]
    assert len(found) == 1, f"expected one line starting with {start!r} in:\n{text}"
    return found[0]


def fix_after(text: str, start: str) -> str:
    """The `fix:` line printed right after the line starting with ``start``."""
    all_lines = lines(text)
    index = all_lines.index(line(text, start))
    assert all_lines[index + 1].startswith("fix: "), f"no fix after {start!r} in:\n{text}"
    return all_lines[index + 1]


def assert_no_secret(outcome: Outcome, env: dict[str, str]) -> None:
    printed = outcome.out + outcome.err
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"):
        assert env[name] not in printed, f"{name} was printed"


def test_all_green(cli, env, migrated, fake_ovh):
    outcome = cli("check", env=env)

    assert outcome.code == 0, outcome.out
    out = outcome.out
    assert "✗" not in out and "\n  ! " not in out
    assert line(out, "✓ bot token:") == "✓ bot token: workspace Test (T0TEST), bot @smsbot (UBOT)."
    assert line(out, "✓ scopes:") == f"✓ scopes: {', '.join(REQUIRED_SLACK_SCOPES)}."
    assert line(out, "✓ run modes:").startswith(
        "✓ run modes: HTTP mode (`smsbot run --http`) has SLACK_SIGNING_SECRET"
    )
    assert line(out, "✓ access:") == "✓ access: 1 user may send, from any channel, to ES, FR, GB."
    assert line(out, "✓ API keys:") == f"✓ API keys: accepted by {fake_ovh.endpoint}."
    assert line(out, "✓ key rules:") == "✓ key rules: GET /sms, GET /sms/*, POST /sms/*/jobs."
    assert line(out, "✓ key expiry:").startswith("✓ key expiry: the key expires on ")
    assert line(out, "✓ SMS service:") == (
        "✓ SMS service: sms-tt12345-1 (the account's only one; OVH_SMS_SERVICE is not set)."
    )
    assert line(out, "✓ credits:") == "✓ credits: 100 credits left."
    assert line(out, "✓ sender:").startswith("✓ sender: OVH_SMS_SENDER is empty")
    assert line(out, "✓ connection:").startswith("✓ connection: sqlite:///")
    assert line(out, "✓ schema:").startswith("✓ schema: up to date (revision ")
    assert line(out, "✓ All good")
    assert_no_secret(outcome, env)
    # Nothing was sent, and the only OVH calls were reads.
    assert fake_ovh.jobs == []
    assert {request.method for request in fake_ovh.requests} == {"GET"}


def test_python_m_bot_check_exits_0_when_all_is_well_and_1_when_not(env, migrated, tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_PREFIXES) and k not in _VARIABLES}
    command = [sys.executable, "-m", "bot", "check"]

    good = subprocess.run(command, cwd=tmp_path, env=clean | env, capture_output=True, text=True, timeout=60)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "All good" in good.stdout

    bad_env = clean | env | {"OVH_CONSUMER_KEY": "not-the-consumer-key"}
    bad = subprocess.run(command, cwd=tmp_path, env=bad_env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "✗ API keys: OVH does not accept the consumer key in OVH_CONSUMER_KEY" in bad.stdout


def test_python_m_bot_check_prints_only_the_report_while_the_slack_sdk_retries(env, migrated, tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_PREFIXES) and k not in _VARIABLES}
    with socket.socket() as probe:  # a port nothing listens on: the SDK fails, logs it, retries, fails
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    unreachable = env | {"SLACK_API_URL": f"http://127.0.0.1:{closed}/api/"}
    # As a terminal shows it: both streams in one, in the order written.
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        cwd=tmp_path,
        env=clean | unreachable,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "✗ bot token: Slack's Web API at" in result.stdout
    assert "cannot be reached (Connection refused)." in " ".join(result.stdout.split())  # not "(URLError)"
    assert "slack_sdk" not in result.stdout
    assert "retry" not in result.stdout.lower()
    assert not re.search(r"^\d{4}-\d\d-\d\d ", result.stdout, re.MULTILINE), result.stdout


@pytest.mark.parametrize(
    "argv",
    [["check"], ["send", "+34600000001", "Hola", "--user", "UALICE"], ["run"]],
    ids=["check", "send", "run"],
)
def test_first_run_without_env_file_says_what_to_do(cli, argv):
    outcome = cli(*argv, env={})

    assert outcome.code == 2
    assert "SLACK_BOT_TOKEN is not set" in outcome.err
    assert "No .env file here: copy .env.example to .env" in outcome.err


# --- OVH ----------------------------------------------------------------------------------------------


def test_a_key_without_the_post_rule_is_refused_with_a_ready_link(cli, env, migrated, fake_ovh):
    fake_ovh.rules = [("GET", "/sms"), ("GET", "/sms/*")]

    outcome = cli("check", env=env)

    assert outcome.code == 1
    assert line(outcome.out, "✗ key rules:") == (
        "✗ key rules: the key is not allowed POST /sms/*/jobs: OVH will refuse this call with NOT_GRANTED_CALL."
    )
    link = f"{fake_ovh.base_url}/createToken/?GET=/sms&GET=/sms/*&POST=/sms/*/jobs"
    assert link in fix_after(outcome.out, "✗ key rules:")
    # What the key may do is still checked.
    assert line(outcome.out, "✓ SMS service:")
    assert line(outcome.out, "✓ credits:")


def test_calls_refused_with_not_granted_call_are_reported(cli, env, migrated, fake_ovh):
    fake_ovh.rules = [("GET", "/sms/*")]

    outcome = cli("check", env=env)

    assert outcome.code == 1
    assert line(outcome.out, "✗ key rules:").startswith(
        "✗ key rules: the key is not allowed GET /sms, POST /sms/*/jobs"
    )
    assert line(outcome.out, "✗ SMS service:") == (
        "✗ SMS service: OVH refused the call: the key was not granted it."
    )
    assert "/createToken/?GET=/sms&GET=/sms/*&POST=/sms/*/jobs" in fix_after(outcome.out, "✗ SMS service:")
    assert line(outcome.out, "- credits:") == "- credits: not checked: no usable SMS service."


def test_when_the_credential_cannot_be_read_the_calls_still_tell(cli, env, migrated, fake_ovh):
    fake_ovh.fail_next(403, error_code="NOT_GRANTED_CALL", path_contains="/auth/currentCredential")

    outcome = cli("check", env=env)

    assert outcome.code == 0
    assert line(outcome.out, "! key rules:").startswith("! key rules: OVH did not show the key's rules")
    assert line(outcome.out, "✓ SMS service:")


def test_without_get_sms_a_configured_service_is_enough(cli, env, migrated, fake_ovh):
    fake_ovh.rules = [("GET", "/sms/sms-tt12345-1*"), ("POST", "/sms/sms-tt12345-1/jobs")]

    outcome = cli("check", env=env | {"OVH_SMS_SERVICE": "sms-tt12345-1"})

    assert outcome.code == 0, outcome.out
    assert line(outcome.out, "✓ key rules:") == (
        "✓ key rules: GET /sms, GET /sms/*, POST /sms/*/jobs (GET /sms is not granted: fine while "
        "OVH_SMS_SERVICE is set)."
    )


def test_recovery_needs_the_outgoing_list(cli, env, migrated, fake_ovh):
    fake_ovh.rules = [("GET", "/sms"), ("GET", "/sms/sms-tt12345-1"), ("POST", "/sms/*/jobs")]

    outcome = cli("check", env=env)

    assert outcome.code == 1
    assert line(outcome.out, "✗ key rules:").startswith("✗ key rules: the key is not allowed GET /sms/*: ")


def test_a_key_that_allows_more_than_needed_is_a_warning(cli, env, migrated, fake_ovh):
    fake_ovh.rules = [("GET", "/*"), ("POST", "/*"), ("DELETE", "/sms/*")]

    outcome = cli("check", env=env)

    assert outcome.code == 0
    assert line(outcome.out, "! key rules:") == (
        "! key rules: the key also allows GET /*, POST /*, DELETE /sms/*, more than the bot needs."
    )


@pytest.mark.parametrize(
    ("variable", "detail"),
    [
        ("OVH_APPLICATION_KEY", "OVH does not know the application key in OVH_APPLICATION_KEY."),
        ("OVH_CONSUMER_KEY", "OVH does not accept the consumer key in OVH_CONSUMER_KEY"),
        ("OVH_APPLICATION_SECRET", "OVH rejected the requests' signature: OVH_APPLICATION_SECRET is not"),
    ],
)
def test_an_invalid_key_is_named_and_the_rest_skipped(cli, env, migrated, fake_ovh, variable, detail):
    outcome = cli("check", env=env | {variable: "wrong-value"})

    assert outcome.code == 1
    assert line(outcome.out, "✗ API keys:").startswith(f"✗ API keys: {detail}")
    assert "/createToken/?GET=/sms&GET=/sms/*&POST=/sms/*/jobs" in fix_after(outcome.out, "✗ API keys:")
    for name in ("key rules", "key expiry", "SMS service", "credits"):
        assert line(outcome.out, f"- {name}:") == f"- {name}: not checked: the OVH keys do not work."
    assert_no_secret(outcome, env)


def test_ovh_unreachable(cli, env, migrated):
    outcome = cli("check", env=env | {"OVH_ENDPOINT": "http://127.0.0.1:9/1.0"})

    assert outcome.code == 1
    assert line(outcome.out, "✗ API keys:") == (
        "✗ API keys: OVH's API at http://127.0.0.1:9/1.0 did not answer properly (unreachable)."
    )


@pytest.mark.parametrize(
    ("expires_in", "mark", "detail"),
    [
        (timedelta(days=10), "!", "the key expires in 10 days, on "),
        (timedelta(hours=3), "!", "the key expires within a day, on "),
        (timedelta(days=-1), "✗", "the key expired on "),
        (timedelta(days=15), "✓", "the key expires on "),
        (None, "✓", "the key never expires."),
    ],
)
def test_key_expiry(cli, env, migrated, fake_ovh, expires_in, mark, detail):
    fake_ovh.credential_expiration = None if expires_in is None else datetime.now(UTC) + expires_in

    outcome = cli("check", env=env)

    assert line(outcome.out, f"{mark} key expiry:").startswith(f"{mark} key expiry: {detail}")
    assert outcome.code == (1 if mark == "✗" else 0)


def test_several_services_need_ovh_sms_service(cli, env, migrated, fake_ovh):
    fake_ovh.services = ["sms-aa11111-1", "sms-bb22222-1"]

    outcome = cli("check", env=env)

    assert outcome.code == 1
    assert line(outcome.out, "✗ SMS service:") == (
        "✗ SMS service: OVH_SMS_SERVICE is not set and the account has 2 SMS services: sms-aa11111-1, "
        "sms-bb22222-1."
    )
    assert (
        fix_after(outcome.out, "✗ SMS service:")
        == "fix: Set OVH_SMS_SERVICE to the one the bot should send with."
    )

    chosen = cli("check", env=env | {"OVH_SMS_SERVICE": "sms-bb22222-1"})
    assert chosen.code == 0
    assert line(chosen.out, "✓ SMS service:") == "✓ SMS service: sms-bb22222-1."


def test_an_unknown_service_lists_the_accounts_services(cli, env, migrated, fake_ovh):
    outcome = cli("check", env=env | {"OVH_SMS_SERVICE": "sms-zz99999-9"})

    assert outcome.code == 1
    assert (
        line(outcome.out, "✗ SMS service:") == "✗ SMS service: the account has no SMS service sms-zz99999-9."
    )
    assert fix_after(outcome.out, "✗ SMS service:") == (
        "fix: Set OVH_SMS_SERVICE to one of the account's SMS services: sms-tt12345-1."
    )


def test_an_account_without_a_service(cli, env, migrated, fake_ovh):
    fake_ovh.services = []

    outcome = cli("check", env=env)

    assert outcome.code == 1
    assert line(outcome.out, "✗ SMS service:") == "✗ SMS service: the OVH account has no SMS service."


def test_no_credits_left_is_a_warning(cli, env, migrated, fake_ovh):
    fake_ovh.credits_left = 0

    outcome = cli("check", env=env)

    assert outcome.code == 0
    assert (
        line(outcome.out, "! credits:")
        == "! credits: no credits left: every send fails until credits are added."
    )
    assert line(outcome.out, "✓ Ready to run, with 1 warning worth a look")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("enable", "✓ sender: `ACME` is enabled."),
        ("waitingValidation", "✗ sender: `ACME` is waiting for OVH's validation: sends with it fail"),
        ("refused", "✗ sender: `ACME` was refused by OVH: sends with it fail."),
        ("disable", "✗ sender: `ACME` is disabled: sends with it fail."),
        (None, "✗ sender: `ACME` is not a sender of sms-tt12345-1: sends with it fail."),
    ],
)
def test_the_configured_sender_must_be_enabled(cli, env, migrated, fake_ovh, status, expected):
    fake_ovh.senders = {"ACME": status} if status else {"OTHER": "enable"}

    outcome = cli("check", env=env | {"OVH_SMS_SENDER": "ACME"})

    assert line(outcome.out, expected[:10]).startswith(expected)
    assert outcome.code == (0 if status == "enable" else 1)
    if status == "waitingValidation":
        assert "leave OVH_SMS_SENDER empty meanwhile" in fix_after(outcome.out, "✗ sender:")


# --- Slack -----------------------------------------------------------------------------------------------


def test_a_missing_slack_scope_fails(cli, env, migrated, fake_slack):
    fake_slack.scopes = ["commands", "chat:write"]

    outcome = cli("check", env=env)

    assert outcome.code == 1
    assert line(outcome.out, "✗ scopes:") == (
        "✗ scopes: the token lacks chat:write.public, channels:history, groups:history, im:history, "
        "mpim:history, channels:join, usergroups:read, users:read, files:write, im:write."
    )
    assert "reinstall the app to the workspace" in fix_after(outcome.out, "✗ scopes:")


def test_the_history_scopes_missing_is_a_warning_that_says_what_it_risks(cli, env, migrated, fake_slack):
    fake_slack.scopes = [
        *("commands", "chat:write", "chat:write.public", "usergroups:read", "users:read"),
        *("files:write", "im:write"),
    ]

    outcome = cli("check", env=env)

    assert outcome.code == 0
    assert line(outcome.out, "! scopes:") == (
        "! scopes: the token lacks channels:history, groups:history, im:history, mpim:history, channels:join: "
        "without the history and join scopes, an audit message posted just before a crash may be posted twice."
    )


def test_the_file_scopes_missing_is_a_warning_that_names_the_csv(cli, env, migrated, fake_slack):
    fake_slack.scopes = [scope for scope in DEFAULT_SCOPES if scope not in ("files:write", "im:write")]

    outcome = cli("check", env=env)

    assert outcome.code == 0
    assert line(outcome.out, "! scopes:") == (
        "! scopes: the token lacks files:write, im:write: without files:write and im:write, admins cannot get "
        "the CSV from `/sms history`."
    )


def test_usergroups_read_is_only_needed_with_user_groups(cli, env, migrated, fake_slack):
    fake_slack.scopes = [scope for scope in DEFAULT_SCOPES if scope != "usergroups:read"]
    fake_slack.usergroup_members = {"SOPS": ["UALICE"]}

    without_groups = cli("check", env=env)
    assert without_groups.code == 0
    assert line(without_groups.out, "! scopes:") == (
        "! scopes: the token lacks usergroups:read: fine while SMS_ALLOWED_USERGROUPS is empty, needed otherwise; "
        "people and user groups cannot be named as receivers (`/sms @person`) without usergroups:read."
    )

    with_groups = cli("check", env=env | {"SMS_ALLOWED_USERGROUPS": "SOPS"})
    assert with_groups.code == 1
    assert line(with_groups.out, "✗ scopes:") == "✗ scopes: the token lacks usergroups:read."
    assert line(with_groups.out, "- user group SOPS:") == (
        "- user group SOPS: not checked: the token lacks usergroups:read."
    )


def test_users_read_is_only_needed_for_workspace_admins(cli, env, migrated, fake_slack):
    fake_slack.scopes = [scope for scope in DEFAULT_SCOPES if scope != "users:read"]

    without_admins = cli("check", env=env)
    assert without_admins.code == 0
    assert "people and user groups cannot be named as receivers (`/sms @person`) without users:read" in line(
        without_admins.out, "! scopes:"
    )
    admins = cli("check", env=env | {"SMS_WORKSPACE_ADMINS_ARE_ADMINS": "true"})
    assert admins.code == 1
    assert line(admins.out, "✗ scopes:") == "✗ scopes: the token lacks users:read."


def test_user_groups_are_looked_up(cli, env, migrated, fake_slack):
    fake_slack.usergroup_members = {"SOPS": ["UALICE", "UBOB"]}

    outcome = cli("check", env=env | {"SMS_ALLOWED_USERGROUPS": "SOPS,STYPO"})

    assert outcome.code == 1
    assert line(outcome.out, "✓ user group SOPS:") == "✓ user group SOPS: 2 members."
    assert line(outcome.out, "✗ user group STYPO:") == "✗ user group STYPO: cannot be read (no_such_subteam)."
    assert "which is not a user group of this workspace" in fix_after(outcome.out, "✗ user group STYPO:")


def test_an_invalid_bot_token(cli, env, migrated):
    outcome = cli("check", env=env | {"SLACK_BOT_TOKEN": "xoxb-revoked"})

    assert outcome.code == 1
    assert line(outcome.out, "✗ bot token:") == "✗ bot token: Slack refused SLACK_BOT_TOKEN (invalid_auth)."
    assert "OAuth & Permissions" in fix_after(outcome.out, "✗ bot token:")
    assert line(outcome.out, "- scopes:") == "- scopes: not checked: the bot token does not work."
    assert "xoxb-revoked" not in outcome.out


def test_without_any_mode_token_the_bot_cannot_run(cli, env, migrated):
    outcome = cli("check", env={k: v for k, v in env.items() if k != "SLACK_SIGNING_SECRET"})

    assert outcome.code == 1
    assert line(outcome.out, "✗ run modes:").startswith(
        "✗ run modes: Neither SLACK_APP_TOKEN (Socket Mode) nor"
    )


def test_the_app_token_is_reported_never_printed(cli, env, migrated):
    token = "xapp-1-A0SMSBOT-secret-part"

    outcome = cli("check", env=env | {"SLACK_APP_TOKEN": token})

    assert outcome.code == 0
    assert line(outcome.out, "✓ run modes:") == (
        "✓ run modes: Socket Mode (SLACK_APP_TOKEN) and HTTP mode (SLACK_SIGNING_SECRET) both have what they need."
    )
    assert token not in outcome.out + outcome.err


def test_nobody_allowed_is_a_warning(cli, env, migrated):
    outcome = cli("check", env={k: v for k, v in env.items() if k != "SMS_ALLOWED_USERS"})

    assert outcome.code == 0
    assert line(outcome.out, "! access:").startswith("! access: None of SMS_ALLOWED_USERS")


def test_required_scopes_are_the_manifests():
    assert manifest_bot_scopes() == list(REQUIRED_SLACK_SCOPES)


def manifest_bot_scopes() -> list[str]:
    """`oauth_config.scopes.bot` of manifest.yml, read without a YAML library (the project has none)."""
    path: list[tuple[int, str]] = []
    scopes: list[str] = []
    for raw in (ROOT / "manifest.yml").read_text().splitlines():
        text = raw.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        indent = len(text) - len(text.lstrip())
        item = re.fullmatch(r"-\s*(\S+)", text.strip())
        if item:
            if [key for _, key in path] == ["oauth_config", "scopes", "bot"]:
                scopes.append(item.group(1))
            continue
        while path and path[-1][0] >= indent:
            path.pop()
        path.append((indent, text.strip().split(":", 1)[0]))
    return scopes


# --- database --------------------------------------------------------------------------------------------


def all_revisions() -> list[str]:
    """This version's migrations, oldest first."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return [revision.revision for revision in reversed(list(script.iterate_revisions("head", None)))]


def _tables(url: str) -> set[str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_a_database_not_migrated_is_reported_and_left_alone(cli, env, sqlite_url):
    sqlite3.connect(sqlite_url.removeprefix("sqlite:///")).execute(
        "CREATE TABLE unrelated (x)"
    ).connection.close()

    outcome = cli("check", env=env)

    assert outcome.code == 0
    revisions = all_revisions()
    assert line(outcome.out, "! schema:").startswith(
        f"! schema: {len(revisions)} migrations pending ({', '.join(revisions)}; the database is at an empty schema)"
    )
    assert "`smsbot run` applies them at start-up" in line(outcome.out, "! schema:")
    assert _tables(sqlite_url) == {"unrelated"}


def test_a_missing_sqlite_file_is_not_created(cli, env, sqlite_url):
    outcome = cli("check", env=env)

    assert outcome.code == 0
    assert line(outcome.out, "! connection:").endswith(
        "does not exist yet: `smsbot run` creates it, with its schema, at start-up."
    )
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


def test_a_database_from_a_newer_smsbot_fails(cli, env, migrated):
    with sqlite3.connect(migrated.removeprefix("sqlite:///")) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")

    outcome = cli("check", env=env)

    assert outcome.code == 1
    assert line(outcome.out, "✗ schema:").startswith("✗ schema: the schema is at revision 9999")


def test_an_unreachable_database_hides_its_password(cli, env):
    url = "postgresql://smsbot:hunter2-secret@127.0.0.1:9/smsbot"

    outcome = cli("check", env=env | {"DATABASE_URL": url})

    assert outcome.code == 1
    assert line(outcome.out, "✗ connection:").startswith(
        "✗ connection: postgresql+psycopg://smsbot:***@127.0.0.1:9/smsbot cannot be reached"
    )
    assert "hunter2-secret" not in outcome.out + outcome.err


@pytest.mark.postgres
def test_postgres_schema_state(cli, env, postgres_url):
    pending = cli("check", env=env | {"DATABASE_URL": postgres_url})
    assert line(pending.out, "! schema:").startswith(f"! schema: {len(all_revisions())} migrations pending")

    engine = create_engine(postgres_url)
    migrate(engine)
    engine.dispose()
    done = cli("check", env=env | {"DATABASE_URL": postgres_url})
    assert done.code == 0
    assert line(done.out, "✓ schema:")


# --- pure parts --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "call", "allowed"),
    [
        (("GET", "/sms"), ("GET", "/sms"), True),
        (("GET", "/sms"), ("GET", "/sms/sms-ab1-1"), False),
        (("GET", "/sms/*"), ("GET", "/sms"), False),
        (("GET", "/sms/*"), ("GET", "/sms/sms-ab1-1"), True),
        (("GET", "/sms/*"), ("GET", "/sms/sms-ab1-1/senders/ACME"), True),
        (("GET", "/sms/*"), ("POST", "/sms/sms-ab1-1/jobs"), False),
        (("POST", "/sms/*/jobs"), ("POST", "/sms/sms-ab1-1/jobs"), True),
        (("POST", "/sms/*/jobs"), ("POST", "/sms/sms-ab1-1/jobs/1"), False),
        (("POST", "/*"), ("POST", "/sms/sms-ab1-1/jobs"), True),
        (("post", "/sms/sms-ab1-1/jobs"), ("POST", "/sms/sms-ab1-1/jobs"), True),
        (("GET", "/sms.*"), ("GET", "/sms/x"), False),  # only `*` is special
    ],
)
def test_rule_matching(rule, call, allowed):
    assert rule_matches(rule, *call) is allowed


@pytest.mark.parametrize(
    ("endpoint", "base"),
    [
        ("ovh-eu", "https://eu.api.ovh.com/createToken/"),
        ("ovh-ca", "https://ca.api.ovh.com/createToken/"),
        ("ovh-us", "https://api.us.ovhcloud.com/createToken/"),
        ("https://eu.api.ovh.com/1.0", "https://eu.api.ovh.com/createToken/"),
        ("https://proxy.example/ovh/1.0/", "https://proxy.example/ovh/createToken/"),
    ],
)
def test_create_token_url(env, endpoint, base):
    settings = load_settings(env | {"OVH_ENDPOINT": endpoint}, Mode.OFFLINE)

    assert create_token_url(settings) == base + "?GET=/sms&GET=/sms/*&POST=/sms/*/jobs"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://slack.com/api/", "https://slack.com/api/"),
        ("https://user:s3cret@proxy.example:8443/api/", "https://***@proxy.example:8443/api/"),
        ("http://token@proxy.example/1.0", "http://***@proxy.example/1.0"),
    ],
)
def test_urls_are_shown_without_credentials(url, shown):
    assert shown_url(url) == shown
