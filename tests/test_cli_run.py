"""`smsbot run` refuses to start on a refused token or an unusable database, naming what to fix."""

from __future__ import annotations

import subprocess
import sys

from tests.processes import clean_env


def run_bot(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "run", "--http", "--port", "0"],
        env=clean_env(env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_a_refused_bot_token_stops_start_up_naming_the_variable(env, tmp_path):
    result = run_bot({**env, "SLACK_BOT_TOKEN": "xoxb-revoked-token"}, tmp_path)

    assert result.returncode == 2
    assert "Slack refused SLACK_BOT_TOKEN" in result.stderr
    assert "xoxb-revoked-token" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_stops_start_up_naming_the_variable(env, tmp_path):
    result = run_bot({**env, "DATABASE_URL": "postgresql://nobody:pw@127.0.0.1:9/none"}, tmp_path)

    assert result.returncode == 2
    assert "DATABASE_URL cannot be used" in result.stderr
    assert ":pw@" not in result.stderr
    assert "Traceback" not in result.stderr
