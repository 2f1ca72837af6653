"""The README's and docs' examples work as printed with .env.example's defaults, and they say what happens.

A newcomer copies .env.example to .env, fills in the blanks (tokens, keys, who may send) and types the
examples. Here the blanks point at the fakes; every default .env.example sets stays as it is.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from bot.domain.destinations import DestinationPolicy
from bot.domain.receivers import parse_receiver
from bot.settings import Mode, load_settings
from tests.processes import clean_env

ROOT = Path(__file__).resolve().parent.parent
DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "manifest.yml",
    ROOT / ".env.example",
]
# Phone numbers as the docs write them: +E.164, 00 international, or a Spanish national number.
_NUMBER = re.compile(r"(?<![\w.])(?:\+\d{6,15}|00\d{6,15}|[67]\d{2}-?\d{3}-?\d{3})(?![\w.])")
_USER = "U012ABCDEF"


def filled_env_file(env: dict[str, str]) -> str:
    """.env.example as a newcomer fills it: the blanks get values; every default set there stays."""
    fills = {
        "SLACK_BOT_TOKEN": env["SLACK_BOT_TOKEN"],
        "SLACK_SIGNING_SECRET": env["SLACK_SIGNING_SECRET"],
        "SLACK_APP_TOKEN": "xapp-1-example",
        "OVH_APPLICATION_KEY": env["OVH_APPLICATION_KEY"],
        "OVH_APPLICATION_SECRET": env["OVH_APPLICATION_SECRET"],
        "OVH_CONSUMER_KEY": env["OVH_CONSUMER_KEY"],
        "SMS_ALLOWED_USERS": _USER,
    }
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        name, _, value = line.partition("=")
        if name in fills and not value:
            line = f"{name}={fills[name]}"
        lines.append(line)
    # Where the fakes are: in real life these lines stay commented out (Slack's and OVH's own addresses).
    lines += [f"SLACK_API_URL={env['SLACK_API_URL']}", f"OVH_ENDPOINT={env['OVH_ENDPOINT']}"]
    return "\n".join(lines) + "\n"


def example_numbers() -> list[tuple[str, str]]:
    found = [(path.name, number) for path in DOCS for number in _NUMBER.findall(path.read_text())]
    assert len(found) > 10  # the pattern still finds the docs' numbers
    return found


def test_every_phone_number_in_the_docs_may_receive_an_sms_with_the_default_settings(env, tmp_path):
    (tmp_path / ".env").write_text(filled_env_file(env))
    settings = load_settings(dotenv_values(tmp_path / ".env"), Mode.OFFLINE)
    destinations = DestinationPolicy(settings.allowed_countries)

    for where, number in example_numbers():
        receiver = parse_receiver(number, settings.sms_default_region)
        destinations.check([receiver])  # raises, naming the number and why, if the example would be refused
        assert receiver.region == "ES", (where, number)


def send_examples() -> list[str]:
    """Every `smsbot send` line in the docs' shell blocks."""
    examples = []
    for path in (ROOT / "README.md", ROOT / "docs" / "command-line.md"):
        for block in re.findall(r"```sh\n(.*?)```", path.read_text(), re.DOTALL):
            examples += [line for line in block.splitlines() if "smsbot send" in line]
    return examples


@pytest.mark.parametrize("example", send_examples())
def test_each_smsbot_send_example_passes_a_dry_run_as_printed(example, env, tmp_path):
    (tmp_path / ".env").write_text(filled_env_file(env))
    command = example.replace("smsbot", f"{shlex.quote(sys.executable)} -m bot")
    if "--dry-run" not in command:
        command += " --dry-run"  # nothing goes out, and every check runs

    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", command],
        cwd=tmp_path,
        env=clean_env({}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Dry run: nothing was sent" in result.stdout


def test_send_help_says_what_a_dry_run_writes(env, tmp_path):
    (tmp_path / ".env").write_text(filled_env_file(env))
    smsbot = [sys.executable, "-m", "bot", "send"]
    dry_run = subprocess.run(
        [*smsbot, "+34600000001", "Hola", "--user", _USER, "--dry-run"],
        cwd=tmp_path,
        env=clean_env({}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    help_text = subprocess.run(
        [*smsbot, "--help"], cwd=tmp_path, env=clean_env({}), capture_output=True, text=True, check=True
    ).stdout

    assert dry_run.returncode == 0, dry_run.stdout + dry_run.stderr
    # The default DATABASE_URL is a SQLite file, which the dry run creates: the help must not deny it.
    assert (tmp_path / "smsbot.db").exists()
    assert "record nothing" not in " ".join(help_text.split())
    assert "the database is created" in " ".join(help_text.split())
