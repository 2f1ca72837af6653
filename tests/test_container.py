"""The Dockerfile's CMD and HEALTHCHECK follow PORT, run as written (with this Python for the image's)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.processes import BotProcess, clean_env, free_port

DOCKERFILE = (Path(__file__).resolve().parent.parent / "Dockerfile").read_text()


def instruction(name: str) -> list[str]:
    """The exec-form (JSON) arguments of the last ``name`` instruction (line continuations joined)."""
    text = DOCKERFILE.replace("\\\n", " ")
    found = re.findall(rf"^{name}\b.*?(\[.*\])\s*$", text, re.MULTILINE)
    assert found, f"no {name} in exec form"
    return json.loads(found[-1])


def healthcheck(workdir: Path, env: dict[str, str]) -> int:
    command = instruction("HEALTHCHECK")
    assert command[0] == "python"
    return subprocess.run(
        [sys.executable, *command[1:]], cwd=workdir, env=clean_env(env), capture_output=True, timeout=30
    ).returncode


def wait_for_health(port: int, bot: BotProcess) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        assert bot.process.poll() is None and time.monotonic() < deadline, bot.log()
        time.sleep(0.05)


def test_cmd_listens_on_port_and_the_healthcheck_asks_there(env, tmp_path):
    cmd = instruction("CMD")
    assert cmd[:3] == ["smsbot", "run", "--http"]
    assert "--port" not in cmd  # the port comes from PORT
    port = free_port()
    bot = BotProcess(cmd[1:], {**env, "PORT": str(port)}, tmp_path, "container")
    try:
        wait_for_health(port, bot)

        assert healthcheck(tmp_path, {"PORT": str(port)}) == 0
        # PORT in the working directory's .env (the image's /data/.env) is read as the bot reads it.
        (tmp_path / ".env").write_text(f"PORT={port}\n")
        assert healthcheck(tmp_path, {}) == 0
        assert healthcheck(tmp_path, {"PORT": str(free_port())}) != 0
    finally:
        bot.stop()


def test_port_in_the_env_file_is_honoured_as_in_the_environment(env, tmp_path):
    port = free_port()
    (tmp_path / ".env").write_text(f"PORT={port}\n")
    bot = BotProcess(["run", "--http"], env, tmp_path, "port-from-env-file")
    try:
        wait_for_health(port, bot)
    finally:
        bot.stop()
    assert f":{port}/slack/events" in bot.log()


def test_a_port_that_is_not_a_number_is_named(env, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--http"],
        cwd=tmp_path,
        env=clean_env({**env, "PORT": "30OO"}),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert result.stderr == "PORT must be a port number between 1 and 65535 (not `30OO`).\n"
