"""Socket Mode figures: `python -m bench.socket_mode` (the README's Reliability page quotes them).

Against the project's fake Slack, fake OVH and fake Socket Mode server on 127.0.0.1, it runs the real bot
(``python -m bot run``, a process of its own) and measures what Slack's routine connection changes cost:

- the ack of a command, plain and right after a ``refresh_requested`` disconnect (delivered on the new
  connection as soon as it is open), and how long the move to the new connection took;
- how long a connection cut without a closing handshake (FIN) and one that died silently (no FIN, no RST)
  take to be replaced;
- SIGTERM: how soon the WebSocket is closed, and the exit with sends in flight on a 1 s OVH.

For comparison it measures slack_sdk's built-in ``SocketModeClient`` (what ``SocketModeHandler`` runs) the
same way, with a listener that acks at once. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from tests.fakes.ovh_api import FakeOvh
from tests.fakes.slack_api import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode, SocketConnection
from tests.harness import TEAM_ID
from tests.processes import BotProcess


def command(text: str) -> dict[str, Any]:
    """A `/sms` slash command as Slack puts it in an envelope."""
    return {
        "team_id": TEAM_ID,
        "channel_id": "CBENCH",
        "user_id": "UALICE",
        "user_name": "ualice",
        "command": "/sms",
        "text": text,
        "api_app_id": "A0SMSBOT",
        "response_url": "http://127.0.0.1:9/unused",
        "trigger_id": f"trigger-{uuid.uuid4().hex}",
    }


def wait(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``condition()`` held (polled every 2 ms); raises after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"not within {timeout} s")
        time.sleep(0.002)
    return time.monotonic() - started


def newer_than(socket_mode: FakeSocketMode, count: int) -> SocketConnection | None:
    live = [c for c in socket_mode.connections[count:] if c.open]
    return live[-1] if live else None


def measure_refreshes(
    socket_mode: FakeSocketMode, text: Callable[[], str], rounds: int
) -> dict[str, list[float]]:
    """Plain acks, then ``rounds`` refreshes each followed by a command on the new connection."""
    plain = []
    for _ in range(rounds):
        envelope_id = socket_mode.deliver("slash_commands", command(text()))
        plain.append(socket_mode.wait_for_ack(envelope_id, timeout=10).elapsed)
    moves, acks = [], []
    for _ in range(rounds):
        count = len(socket_mode.connections)
        started = time.monotonic()
        socket_mode.ask_to_reconnect()
        wait(lambda count=count: newer_than(socket_mode, count) is not None, 30)
        moves.append(time.monotonic() - started)
        new = newer_than(socket_mode, count)
        envelope_id = socket_mode.deliver("slash_commands", command(text()), connection=new)
        acks.append(socket_mode.wait_for_ack(envelope_id, timeout=10).elapsed)
        time.sleep(0.3)  # let the old connection go before the next round
    return {"plain": plain, "moves": moves, "acks": acks}


def measure_losses(socket_mode: FakeSocketMode) -> dict[str, float]:
    """Seconds until a new connection replaces one cut (FIN), then one dead without a word."""
    figures = {}
    for name in ("cut", "dead"):
        count = len(socket_mode.connections)
        connection = socket_mode.open_connections()[-1]
        started = time.monotonic()
        connection.drop() if name == "cut" else connection.go_silent()
        wait(lambda count=count: newer_than(socket_mode, count) is not None, 90)
        figures[name] = time.monotonic() - started
    return figures


def builtin_client(slack: FakeSlack, socket_mode: FakeSocketMode, rounds: int) -> dict[str, Any]:
    """slack_sdk's built-in client, acking each envelope at once."""
    client = SocketModeClient(app_token=slack.app_token, web_client=WebClient(base_url=slack.api_url))

    def ack(client: SocketModeClient, request: SocketModeRequest) -> None:
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    client.socket_mode_request_listeners.append(ack)
    client.connect()
    try:
        socket_mode.wait_for_connection(count=len(socket_mode.connections))
        figures: dict[str, Any] = measure_refreshes(socket_mode, lambda: "hola", rounds)
        figures.update(measure_losses(socket_mode))
        return figures
    finally:
        client.close()


def bot_process(
    slack: FakeSlack, ovh: FakeOvh, socket_mode: FakeSocketMode, folder: Path, rounds: int
) -> dict[str, Any]:
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.api_url,
        "OVH_ENDPOINT": ovh.endpoint,
        "OVH_APPLICATION_KEY": ovh.application_key,
        "OVH_APPLICATION_SECRET": ovh.application_secret,
        "OVH_CONSUMER_KEY": ovh.consumer_key,
        "SMS_DEFAULT_REGION": "ES",
        "SMS_ALLOWED_COUNTRIES": "ES",
        "SMS_ALLOWED_USERS": "UALICE",
        "DATABASE_URL": f"sqlite:///{folder / 'smsbot.db'}",
    }
    numbers = iter(range(1, 1 << 30))

    def text() -> str:
        return f"+34600000001 Bench {next(numbers)}"

    count = len(socket_mode.connections)
    bot = BotProcess(["run"], env, folder, "smsbot-bench")
    try:
        wait(lambda: newer_than(socket_mode, count) is not None, 30)
        figures: dict[str, Any] = measure_refreshes(socket_mode, text, rounds)
        figures.update(measure_losses(socket_mode))
        # SIGTERM with 10 sends waiting on an OVH that takes 1 s.
        ovh.delay = 1.0
        connection = socket_mode.open_connections()[-1]
        for _ in range(10):
            socket_mode.wait_for_ack(
                socket_mode.deliver("slash_commands", command(text()), connection=connection)
            )
        time.sleep(0.2)  # the sends reach OVH
        started = time.monotonic()
        bot.process.terminate()
        figures["closed"] = wait(lambda: not connection.open, 10)
        bot.process.wait(timeout=60)
        figures["exited"] = time.monotonic() - started
        figures["log"] = bot.log()
        return figures
    finally:
        ovh.delay = 0.0
        bot.stop()


def summary(values: list[float]) -> str:
    shown = ", ".join(f"{v * 1000:.0f}" for v in values)
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms ({shown})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="refreshes per client (default 5)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)  # the SDK client's own chatter
    with FakeSlack() as slack, FakeOvh() as ovh, FakeSocketMode() as socket_mode:
        slack.socket_mode_url = socket_mode.new_url
        with tempfile.TemporaryDirectory() as folder:
            print("running the bot (python -m bot run)...", flush=True)
            bot = bot_process(slack, ovh, socket_mode, Path(folder), args.rounds)
        print("running slack_sdk's built-in SocketModeClient...", flush=True)
        builtin = builtin_client(slack, socket_mode, args.rounds)
    print()
    for name, figures in (("slack_sdk built-in client", builtin), ("the bot", bot)):
        print(f"{name}:")
        print(f"  ack, plain:                      {summary(figures['plain'])}")
        print(f"  refresh: new connection after    {summary(figures['moves'])}")
        print(f"  refresh: ack on the new one      {summary(figures['acks'])}")
        print(f"  connection cut (FIN): replaced after {figures['cut']:.2f} s")
        print(f"  connection dead (no FIN): replaced after {figures['dead']:.2f} s")
    print(
        f"the bot, SIGTERM with 10 sends on a 1 s OVH: WebSocket closed after {bot['closed'] * 1000:.0f} ms, "
    )
    print(f"  exited after {bot['exited']:.2f} s; 'Traceback' in its log: {'Traceback' in bot['log']}")


if __name__ == "__main__":
    main()
