"""Real `python -m bot …` processes for the tests that need one: start-up, signals, several instances."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

# Settings come from the test's env alone: none leaks in from the environment the tests run in.
_SETTINGS_PREFIXES = ("SLACK_", "OVH_", "SMS_", "SMSBOT_", "DATABASE_", "LOG_")


def clean_env(env: dict[str, str]) -> dict[str, str]:
    """The environment for a bot process: this one's, less any bot setting, plus ``env``."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(_SETTINGS_PREFIXES)}
    return {**keep, **env}


def free_port() -> int:
    """A port of 127.0.0.1 that is free now, picked below the kernel's range of local ports for outgoing
    connections (``ip_local_port_range``): a port from that range (what binding port 0 gives) may be handed
    out again, as the local port of another connection, before the bot binds it."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default
    for _ in range(100):
        port = random.randrange(10_000, max(low, 10_001))
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:  # the range below is full: any free port
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BotProcess:
    """`python -m bot <args>` in its own process and working folder (no `.env` there), logging to a file."""

    def __init__(self, args: list[str], env: dict[str, str], workdir: Path, name: str) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self._env, self._workdir = env, workdir
        self._launch(args)

    def _launch(self, args: list[str]) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            env=clean_env(self._env),
            cwd=self._workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the process dies at once, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, as a container runtime stops it; SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


class HttpBotProcess(BotProcess):
    """`python -m bot run --http` on a free port of 127.0.0.1."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str) -> None:
        self._pick_port()
        super().__init__(self._args(), env, workdir, name)

    def _pick_port(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def _args(self) -> list[str]:
        return ["run", "--http", "--host", "127.0.0.1", "--port", str(self.port)]

    def wait_ready(self) -> None:
        """Wait until `/health` answers 200; fail with the process's log if it exits or never does.

        The bound is generous: a process that is alive is only slow (imports and migrations on a loaded
        machine took over 20 s once), and one that failed is seen at once by its exit. Should the free port
        picked be taken before the bot binds it (by another test process), the bot exits saying so, and
        starts again on another port."""
        for attempt in range(5):
            if self._ready():
                return
            if attempt == 4 or "Address already in use" not in self.log():
                break
            self._log.close()
            self._pick_port()
            self._launch(self._args())
        self.stop()
        raise AssertionError(f"{self.name} did not start:\n{self.log()}")

    def _ready(self) -> bool:
        """Whether `/health` answered 200 before the process exited (or 60 s passed: then it is stopped)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return True
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or busy starting
                pass
            if self.process.poll() is not None:
                return False
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{self.name} did not start within 60 s:\n{self.log()}")
            time.sleep(0.05)


def wait_for(what: str, ready: Callable[[], object], timeout: float = 15) -> None:
    """Poll ``ready()`` until it is true: what another process does can only be waited for from outside."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
