"""A setting whose value could make the bot send one SMS twice stops the real process at start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.processes import clean_env


@pytest.mark.parametrize(
    ("unsafe", "says"),
    [
        ({"SMS_UNKNOWN_GRACE_SECONDS": "0"}, "SMS_UNKNOWN_GRACE_SECONDS must be at least 60 (got `0`)"),
        (
            {"SMS_RECOVERY_AFTER_SECONDS": "20"},
            "SMS_RECOVERY_AFTER_SECONDS must be at least OVH_CONNECT_TIMEOUT + OVH_READ_TIMEOUT + 60 (95)",
        ),
        (
            {"OVH_READ_TIMEOUT": "120", "SMS_RECOVERY_AFTER_SECONDS": "120"},
            "SMS_RECOVERY_AFTER_SECONDS must be at least OVH_CONNECT_TIMEOUT + OVH_READ_TIMEOUT + 60 (185)",
        ),
    ],
)
def test_a_setting_below_its_floor_stops_start_up_naming_it_and_the_floor(env, tmp_path, unsafe, says):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--http", "--port", "0"],
        env=clean_env({**env, **unsafe}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    assert says in result.stderr
    assert "send it twice" in result.stderr
    assert "Traceback" not in result.stderr
