"""The Socket Mode server's promise to listeners: once ``ack()`` returns, the ack was sent; when it cannot
be sent, ``ack()`` raises and the listener goes no further (so nothing is done for a request Slack was
told had failed).

In process, against the fake Socket Mode server: a Bolt app whose listener waits until the test has cut
its connection (or Bolt has given up waiting for it), then acks.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.server.socket_mode import AckNotSent, SocketModeServer
from tests.fakes.slack_api import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode


class Listener:
    """`/sms` that acks only once ``release`` is set, and records what it did."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.finished = threading.Event()
        self.refused: list[str] = []  # commands whose ack() raised
        self.done: list[str] = []  # commands it went on with after ack()

    def __call__(self, ack: Ack, command: dict[str, Any]) -> None:
        self.release.wait(10)
        try:
            ack()
        except AckNotSent:
            self.refused.append(command["text"])
            raise
        finally:
            self.finished.set()
        self.done.append(command["text"])


@pytest.fixture
def served(fake_slack: FakeSlack) -> Iterator[tuple[FakeSocketMode, Listener]]:
    listener = Listener()
    app = App(
        client=WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url),
        request_verification_enabled=False,
        token_verification_enabled=False,
    )
    app.command("/sms")(listener)
    with FakeSocketMode() as socket_mode:
        fake_slack.socket_mode_url = socket_mode.new_url
        server = SocketModeServer(app, fake_slack.app_token, fake_slack.api_url)
        thread = threading.Thread(target=server.serve, daemon=True)
        thread.start()
        try:
            yield socket_mode, listener
        finally:
            listener.release.set()
            server.stop()
            thread.join(10)
            assert not thread.is_alive(), "the server did not stop"


def command(text: str) -> dict[str, Any]:
    return {"command": "/sms", "text": text, "user_id": "UALICE", "trigger_id": f"t-{uuid.uuid4().hex}"}


def test_ack_returns_once_the_ack_was_sent(served):
    socket_mode, listener = served
    socket_mode.wait_for_connection()
    listener.release.set()

    envelope_id = socket_mode.deliver("slash_commands", command("uno"))

    assert socket_mode.wait_for_ack(envelope_id).raw == {"envelope_id": envelope_id}
    assert listener.finished.wait(5)
    assert (listener.done, listener.refused) == (["uno"], [])


def test_a_listener_whose_ack_cannot_be_sent_goes_no_further(served):
    socket_mode, listener = served
    connection = socket_mode.wait_for_connection()
    envelope_id = socket_mode.deliver("slash_commands", command("dos"))

    connection.drop()  # the network cuts the connection the envelope came on, before the listener acks
    socket_mode.wait_for_connection(count=2)  # the server noticed and moved on
    listener.release.set()

    assert listener.finished.wait(5)
    assert (listener.done, listener.refused) == ([], ["dos"])
    assert socket_mode.acks(envelope_id) == []


def test_an_ack_after_bolt_gave_up_is_refused(served, caplog):
    socket_mode, listener = served
    socket_mode.wait_for_connection()
    caplog.set_level(logging.WARNING, logger="bot.server.socket_mode")
    envelope_id = socket_mode.deliver("slash_commands", command("tres"))

    # Bolt waits 3 s for a listener's ack, then answers nothing: Slack tells the person it failed.
    deadline = time.monotonic() + 10
    while not any(f"envelope {envelope_id} not acked" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "Bolt never gave up on the envelope"
        time.sleep(0.01)
    listener.release.set()

    assert listener.finished.wait(5)
    assert (listener.done, listener.refused) == ([], ["tres"])
    assert socket_mode.acks(envelope_id) == []
