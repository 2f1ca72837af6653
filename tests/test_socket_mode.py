"""The default mode: `smsbot run` in Socket Mode, as a real process, against a fake Socket Mode server.

The bot asks the fake Web API (`apps.connections.open` on SLACK_API_URL) for its WebSocket URL and
connects; tests push envelopes the way Slack does and read the acks the bot sends back on the socket.

One bot process serves the module (start-up to connected takes about 0.6 s and stopping 0.3 s, which per
test would double the file's time). Tests stay independent: each uses its own channel, trigger ids and
text, and checks only what those caused. Tests that stop the process, or need another configuration,
start their own.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.records import AuditStatus, SendRecord, SendStatus
from bot.slack.compose import COMPOSE_CALLBACK_ID
from bot.storage.ledger import Ledger
from tests.fakes.ovh_api import FakeOvh, OvhJob
from tests.fakes.slack_api import FakeSlack, SlackCall, new_trigger_id
from tests.fakes.socket_mode import Ack, FakeSocketMode, SocketConnection
from tests.harness import TEAM_ID, all_sends, audit_thread, blocks_text
from tests.processes import BotProcess

ACK_DEADLINE = 3.0  # seconds Slack waits for an envelope's ack before telling the person it failed


class SocketModeBot(BotProcess):
    """`python -m bot run` (no `--http`) in its own process, logging to a file."""

    def __init__(self, env: dict[str, str], workdir: Path, socket_mode: FakeSocketMode) -> None:
        self.database_url = env["DATABASE_URL"]
        self._socket_mode = socket_mode
        self._known = len(socket_mode.connections)  # connections made before this process: not its own
        super().__init__(["run"], env, workdir, f"smsbot-{uuid.uuid4().hex[:8]}")
        self.connection: SocketConnection | None = None

    def wait_connected(self, timeout: float = 20) -> SocketConnection:
        """Wait until this process holds an open Socket Mode connection; fail with its log if it exits."""
        deadline = time.monotonic() + timeout
        while True:
            mine = [c for c in self._socket_mode.connections[self._known :] if c.open]
            if mine:
                self.connection = mine[0]
                return self.connection
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the bot did not connect (exit {self.process.poll()}):\n{self.log()}")
            time.sleep(0.01)

    def ledger(self, channel: str) -> list[SendRecord]:
        """The sends recorded for ``channel``."""
        engine = sa.create_engine(self.database_url)
        try:
            return [record for record in all_sends(Ledger(engine)) if record.channel_id == channel]
        finally:
            engine.dispose()

    def settled(self, channel: str) -> list[SendRecord]:
        """The sends for ``channel`` once each is settled and reported (the ledger is written after Slack)."""

        def done() -> bool:
            records = self.ledger(channel)
            return bool(records) and all(
                r.status != "pending" and r.audit_status != "pending" for r in records
            )

        eventually(done, f"the sends in {channel} settled and reported")
        return self.ledger(channel)

    def stop(self) -> None:
        super().stop()
        if self.connection is not None:  # the next test's envelopes must not go to a dead process
            self.connection.closed.wait(5)


@pytest.fixture(scope="module")
def slack_api() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def ovh_api() -> Iterator[FakeOvh]:
    with FakeOvh() as fake:
        yield fake


@pytest.fixture(scope="module")
def socket_mode(slack_api: FakeSlack) -> Iterator[FakeSocketMode]:
    """The Socket Mode server, whose URLs the fake Web API's apps.connections.open hands out."""
    with FakeSocketMode() as fake:
        # Slack pings its clients (often here, so that a test sees the bot's pongs at once).
        fake.ping_interval = 0.2
        slack_api.socket_mode_url = fake.new_url
        yield fake


@pytest.fixture(scope="module")
def bot_env(slack_api: FakeSlack, ovh_api: FakeOvh) -> dict[str, str]:
    """The environment of a Socket Mode bot wired to the fakes (no signing secret: it needs none)."""
    return {
        "SLACK_BOT_TOKEN": slack_api.bot_token,
        "SLACK_APP_TOKEN": slack_api.app_token,
        "SLACK_API_URL": slack_api.api_url,
        "OVH_ENDPOINT": ovh_api.endpoint,
        "OVH_APPLICATION_KEY": ovh_api.application_key,
        "OVH_APPLICATION_SECRET": ovh_api.application_secret,
        "OVH_CONSUMER_KEY": ovh_api.consumer_key,
        "SMS_DEFAULT_REGION": "ES",
        "SMS_ALLOWED_COUNTRIES": "ES",
        "SMS_ALLOWED_USERS": "UALICE",
    }


@pytest.fixture(scope="module")
def socket_bot(
    bot_env: dict[str, str], socket_mode: FakeSocketMode, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SocketModeBot]:
    """The module's bot, connected."""
    workdir = tmp_path_factory.mktemp("socket_bot")
    bot = SocketModeBot(
        {**bot_env, "DATABASE_URL": f"sqlite:///{workdir / 'smsbot.db'}"}, workdir, socket_mode
    )
    bot.wait_connected()
    yield bot
    bot.stop()


@pytest.fixture
def run_bot(
    bot_env: dict[str, str], socket_mode: FakeSocketMode, tmp_path: Path
) -> Iterator[Callable[..., SocketModeBot]]:
    """Start a bot of the test's own, with its own database (not waiting for it to connect)."""
    started: list[SocketModeBot] = []

    def run(**overrides: str) -> SocketModeBot:
        env = {**bot_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'smsbot.db'}", **overrides}
        started.append(SocketModeBot(env, tmp_path, socket_mode))
        return started[-1]

    yield run
    for bot in started:
        bot.stop()


@pytest.fixture
def channel() -> str:
    """A channel of this test's own: what the bot posts there was caused by this test alone."""
    return "C" + uuid.uuid4().hex[:10].upper()


def command_payload(
    text: str,
    channel: str,
    *,
    trigger_id: str | None = None,
    user_id: str = "UALICE",
    response_url: str = "http://127.0.0.1:9/unused",
) -> dict[str, Any]:
    """A `/sms` slash command as Slack puts it in a Socket Mode envelope (text with `&<>` escaped)."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "test",
        "channel_id": channel,
        "channel_name": "ops",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": "/sms",
        "text": text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
        "api_app_id": "A0SMSBOT",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }


def submission_payload(view: dict[str, Any], *, receivers: str, message: str) -> dict[str, Any]:
    """A `view_submission` of the compose modal (``view`` as views.open answered it, with its id)."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": "UALICE", "name": "ualice", "team_id": TEAM_ID},
        "api_app_id": "A0SMSBOT",
        "token": "legacy-verification-token",
        "trigger_id": new_trigger_id(),
        "view": {
            **view,
            "state": {
                "values": {
                    "receivers": {"value": {"type": "plain_text_input", "value": receivers}},
                    "message": {"value": {"type": "plain_text_input", "value": message}},
                }
            },
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }


def acked(socket_mode: FakeSocketMode, envelope_id: str) -> Ack:
    """The bot's ack of an envelope, which must come within Slack's deadline."""
    ack = socket_mode.wait_for_ack(envelope_id, timeout=ACK_DEADLINE)
    assert ack.elapsed < ACK_DEADLINE
    return ack


def jobs_with(ovh_api: FakeOvh, text: str) -> list[OvhJob]:
    """The OVH jobs sending ``text`` (each test sends a text of its own)."""
    return [job for job in ovh_api.jobs if job.body["message"] == text]


def posts_in(slack_api: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [p for p in slack_api.calls_to("chat.postMessage") if p.get("channel") == channel]


def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:6]}"


def eventually(condition: Callable[[], bool], what: str, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        time.sleep(0.01)


def wait_for_ovh_post(ovh_api: FakeOvh, text: str) -> None:
    """Wait until the send of ``text`` reached OVH (whose answer may be slow)."""
    eventually(
        lambda: any(r.method == "POST" and (r.body or {}).get("message") == text for r in ovh_api.requests),
        "send reaching OVH",
    )


# --- connecting ------------------------------------------------------------------------------------------


def test_the_fakes_hold_the_client_to_slacks_rules(slack_api, socket_mode):
    client = WebClient(base_url=slack_api.api_url)
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        client.apps_connections_open(app_token=slack_api.bot_token)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        client.apps_connections_open(app_token="xapp-1-A0SMSBOT-1-wrong")
    url = urlsplit(client.apps_connections_open(app_token=slack_api.app_token)["url"])

    def handshake() -> tuple[socket.socket, bytes]:
        sock = socket.create_connection((url.hostname, url.port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        return sock, sock.recv(4096)

    sock, answer = handshake()
    with sock:
        assert answer.startswith(b"HTTP/1.1 101 ")
        connection = socket_mode.connections[-1]
        sock.sendall(b"\x81\x02hi")  # a text frame, unmasked: clients must mask theirs
        connection.closed.wait(5)
        assert connection.protocol_errors == ["unmasked frame from the client"]
    again, answer = handshake()  # a ticket is good for one connection
    again.close()
    assert answer.startswith(b"HTTP/1.1 401 ")


def test_the_bot_opens_its_connection_with_the_app_token_through_slack_api_url(socket_bot, slack_api):
    # The SDK's client asks for the WebSocket URL through the app's WebClient, so SLACK_API_URL applies,
    # with the app-level token in the Authorization header (the fake refuses any other token).
    urls = [
        c.response["url"] for c in slack_api.calls if c.method == "apps.connections.open" and not c.failed
    ]
    connection = socket_bot.connection
    assert any(connection.ticket in url for url in urls)
    assert connection.path.startswith("/link/?ticket=")
    # The link is alive: the client answers the fake's pings (its own pings are the dead-connection test's).
    eventually(lambda: connection.pongs >= 1, "a pong from the client")
    assert connection.protocol_errors == []
    assert slack_api.app_token not in socket_bot.log()


def test_when_slack_asks_it_to_reconnect_a_command_on_the_new_connection_is_acked_at_once(
    socket_bot, socket_mode, slack_api, ovh_api, channel
):
    opened, connections = len(slack_api.calls_to("apps.connections.open")), len(socket_mode.connections)
    old = socket_mode.open_connections()[-1]

    socket_mode.ask_to_reconnect(connection=old)
    late = unique("Por la vieja")  # Slack may still deliver on the old connection for a moment
    on_old = socket_mode.deliver(
        "slash_commands", command_payload(f"+34600000001 {late}", channel), connection=old
    )
    new = socket_mode.wait_for_connection(count=connections + 1)
    text = unique("Sigo aquí")
    on_new = socket_mode.deliver(
        "slash_commands", command_payload(f"+34600000001 {text}", channel), connection=new
    )

    assert new is not old
    assert len(slack_api.calls_to("apps.connections.open")) == opened + 1  # a fresh ticket for it
    ack = acked(socket_mode, on_new)
    # The SDK's built-in client acked this after 3.1 s, past Slack's deadline (see the README); a loose
    # bound here, the figure is the README's.
    assert ack.elapsed < 2.0 and ack.connection_id == new.id
    assert acked(socket_mode, on_old).connection_id == old.id
    assert old.closed.wait(10), "the bot never left the connection Slack asked it to leave"
    assert new.open
    socket_bot.settled(channel)
    assert len(jobs_with(ovh_api, text)) == 1 and len(jobs_with(ovh_api, late)) == 1
    assert len([p for p in posts_in(slack_api, channel) if not p.get("thread_ts")]) == 2


# --- slash commands --------------------------------------------------------------------------------------


def test_a_command_is_acked_at_once_sends_one_sms_and_posts_the_audit_thread(
    socket_bot, socket_mode, slack_api, ovh_api, channel
):
    text = unique("Hola")
    payload = command_payload(f"+34600000001 {text}", channel)

    envelope_id = socket_mode.deliver("slash_commands", payload)

    ack = acked(socket_mode, envelope_id)
    assert ack.raw == {"envelope_id": envelope_id}  # a bare ack: the channel message is the answer
    [(parent, reply)] = audit_thread(slack_api, channel=channel)
    [job] = jobs_with(ovh_api, text)
    assert job.body["receivers"] == ["+34600000001"]
    assert "<@UALICE> sent an SMS to +34 600 00 00 01" in blocks_text(parent)
    assert f"*OVH job id:* {job.ids[0]}" in blocks_text(reply)
    [record] = socket_bot.settled(channel)
    assert record.request_key == f"command:{payload['trigger_id']}"
    assert (record.status, record.audit_status) == (SendStatus.SENT, AuditStatus.THREAD)
    assert "+34600000001" not in socket_bot.log()  # numbers are masked in logs in this mode too


def test_help_is_the_ack_itself(socket_bot, socket_mode, slack_api, channel):
    ack = acked(socket_mode, socket_mode.deliver("slash_commands", command_payload("help", channel)))

    shown = blocks_text(ack.payload)
    assert "/sms +34600000001 Your message" in shown
    assert "`/sms` alone opens a form" in shown
    assert ack.payload["text"]  # the notification text, for where blocks are not shown
    assert posts_in(slack_api, channel) == []
    assert socket_bot.ledger(channel) == []


def test_a_bad_number_is_answered_in_the_ack_and_nothing_is_sent(
    socket_bot, socket_mode, slack_api, ovh_api, channel
):
    text = unique("Hola")
    ack = acked(
        socket_mode, socket_mode.deliver("slash_commands", command_payload(f"+3460000 {text}", channel))
    )

    assert "+3460000" in blocks_text(ack.payload)
    assert socket_bot.ledger(channel) == []
    assert jobs_with(ovh_api, text) == []
    assert posts_in(slack_api, channel) == []


def test_an_envelope_delivered_again_sends_once(socket_bot, socket_mode, slack_api, ovh_api, channel):
    text = unique("Una sola vez")
    payload = command_payload(f"+34600000001 {text}", channel)

    first = socket_mode.deliver("slash_commands", payload)
    again = socket_mode.deliver("slash_commands", payload, retry_attempt=1, retry_reason="timeout")

    assert acked(socket_mode, first).payload is None
    assert acked(socket_mode, again).payload is None
    audit_thread(slack_api, channel=channel)
    # The second delivery is done with, as a duplicate (were it not, it would be sending).
    eventually(
        lambda: f"command:{payload['trigger_id']} was delivered again" in socket_bot.log(),
        "the second delivery taken for a duplicate",
    )
    assert len(jobs_with(ovh_api, text)) == 1
    assert len([p for p in posts_in(slack_api, channel) if not p.get("thread_ts")]) == 1
    [record] = socket_bot.ledger(channel)
    assert record.request_key == f"command:{payload['trigger_id']}"


# --- the modal -------------------------------------------------------------------------------------------


def test_the_modal_opens_and_bad_input_is_refused_inline_then_the_fixed_form_sends(
    socket_bot, socket_mode, slack_api, ovh_api, channel
):
    payload = command_payload("", channel, response_url=slack_api.new_response_url())
    ack = acked(socket_mode, socket_mode.deliver("slash_commands", payload))
    assert ack.payload is None

    def opened() -> list[SlackCall]:
        return [
            c
            for c in slack_api.calls
            if c.method == "views.open" and c.params["trigger_id"] == payload["trigger_id"]
        ]

    eventually(lambda: bool(opened()), "views.open with the command's trigger id")
    [call] = opened()
    view = call.response["view"]  # as Slack stored it: with its id, which the submission carries
    assert view["callback_id"] == COMPOSE_CALLBACK_ID
    assert json.loads(view["private_metadata"])["channel_id"] == channel

    text = unique("Hola desde el formulario")
    bad = submission_payload(view, receivers="+34600000001, 12345678", message=text)
    ack = acked(socket_mode, socket_mode.deliver("interactive", bad))
    assert ack.payload["response_action"] == "errors"
    assert "12345678" in ack.payload["errors"]["receivers"]
    assert socket_bot.ledger(channel) == [] and jobs_with(ovh_api, text) == []

    fixed = submission_payload(view, receivers="+34600000001", message=text)
    ack = acked(socket_mode, socket_mode.deliver("interactive", fixed))
    assert ack.payload is None  # closes the modal
    [(parent, _reply)] = audit_thread(slack_api, channel=channel)
    assert "<@UALICE> sent an SMS to" in blocks_text(parent)
    assert len(jobs_with(ovh_api, text)) == 1
    [record] = socket_bot.ledger(channel)
    assert record.request_key == f"view:{view['id']}"


def test_the_forms_summary_and_a_costly_sends_confirmation_work_over_socket_mode(
    socket_bot, socket_mode, slack_api, ovh_api, channel
):
    payload = command_payload("", channel, response_url=slack_api.new_response_url())
    acked(socket_mode, socket_mode.deliver("slash_commands", payload))
    eventually(
        lambda: any(
            c.method == "views.open" and c.params["trigger_id"] == payload["trigger_id"]
            for c in slack_api.calls
        ),
        "the form",
    )
    view = next(
        c.response["view"]
        for c in slack_api.calls
        if c.method == "views.open" and c.params["trigger_id"] == payload["trigger_id"]
    )
    eleven = ", ".join(f"+346000000{n:02d}" for n in range(1, 12))  # above the default 10 receivers
    text = unique("Aviso")
    keystroke = {
        **submission_payload(view, receivers=eleven, message=text),
        "type": "block_actions",
        "container": {"type": "view", "view_id": view["id"]},
        "actions": [{"type": "plain_text_input", "block_id": "message", "action_id": "value", "value": text}],
    }

    assert acked(socket_mode, socket_mode.deliver("interactive", keystroke)).payload is None
    eventually(
        lambda: any(
            c.method == "views.update" and c.params.get("view_id") == view["id"] for c in slack_api.calls
        ),
        "the summary's views.update",
    )
    ack = acked(
        socket_mode,
        socket_mode.deliver("interactive", submission_payload(view, receivers=eleven, message=text)),
    )
    assert ack.payload["response_action"] == "push"
    assert ack.payload["view"]["callback_id"] == "sms_confirm"
    assert jobs_with(ovh_api, text) == [] and socket_bot.ledger(channel) == []


# --- stopping and starting -------------------------------------------------------------------------------


@pytest.fixture
def slow_ovh(ovh_api: FakeOvh) -> Iterator[FakeOvh]:
    """OVH answering sends after a second, for this test only."""
    ovh_api.delay = 1.0
    yield ovh_api
    ovh_api.delay = 0.0


def test_sigterm_lets_a_send_in_flight_finish_and_exits_0(run_bot, socket_mode, slack_api, slow_ovh, channel):
    bot = run_bot()
    connection = bot.wait_connected()
    text = unique("Casi a tiempo")
    payload = command_payload(f"+34600000001 {text}", channel)
    acked(socket_mode, socket_mode.deliver("slash_commands", payload, connection=connection))
    wait_for_ovh_post(slow_ovh, text)

    bot.process.terminate()  # SIGTERM, as a container runtime or systemd stops it
    assert bot.process.wait(timeout=20) == 0

    assert len(jobs_with(slow_ovh, text)) == 1
    [(_parent, reply)] = audit_thread(slack_api, channel=channel)
    assert "Sent by OVH" in blocks_text(reply)
    [record] = bot.ledger(channel)
    assert (record.status, record.audit_status, record.lease_until) == (
        SendStatus.SENT,
        AuditStatus.THREAD,
        None,
    )
    assert connection.closed.wait(5)


def test_sigterm_leaves_slack_before_waiting_for_sends_in_flight(run_bot, socket_mode, slow_ovh, channel):
    slow_ovh.delay = 2.0  # the process cannot exit, and so drop the socket, before this
    bot = run_bot()
    connection = bot.wait_connected()
    text = unique("En vuelo")
    acked(
        socket_mode,
        socket_mode.deliver(
            "slash_commands", command_payload(f"+34600000001 {text}", channel), connection=connection
        ),
    )
    wait_for_ovh_post(slow_ovh, text)

    bot.process.terminate()

    # While the send drains, an open connection is one Slack still routes new commands to.
    assert connection.closed.wait(1.5), "still connected while draining: new commands would go unanswered"
    assert jobs_with(slow_ovh, text) == [], "the send finished first: the test did not catch the drain"
    assert bot.process.wait(timeout=20) == 0
    assert len(jobs_with(slow_ovh, text)) == 1


def test_a_refused_app_token_is_reported_naming_the_variable(run_bot, socket_mode, slack_api):
    refused_before = [c for c in slack_api.calls if c.method == "apps.connections.open" and c.failed]
    connections_before = len(socket_mode.connections)
    bot = run_bot(SLACK_APP_TOKEN="xapp-1-A0SMSBOT-1-revoked")

    status = bot.process.wait(timeout=20)

    refused = [c for c in slack_api.calls if c.method == "apps.connections.open" and c.failed]
    assert [c.error for c in refused[len(refused_before) :]] == ["invalid_auth"]
    assert len(socket_mode.connections) == connections_before
    log = bot.log()
    assert status == 2, log
    assert "SLACK_APP_TOKEN" in log and "Traceback" not in log


def test_sigterm_acks_and_sends_what_it_took_and_takes_nothing_more(
    run_bot, socket_mode, slack_api, slow_ovh, channel
):
    bot = run_bot()
    connection = bot.wait_connected()
    first = unique("Antes")
    acked(
        socket_mode,
        socket_mode.deliver(
            "slash_commands", command_payload(f"+34600000001 {first}", channel), connection=connection
        ),
    )
    wait_for_ovh_post(slow_ovh, first)  # a send in flight: the process cannot be gone before it settles

    bot.process.terminate()
    pushed: dict[str, str] = {}  # envelope id -> its text: commands Slack sends while the bot stops
    while connection.open:
        text = unique("Durante")
        try:
            envelope_id = socket_mode.deliver(
                "slash_commands", command_payload(f"+34600000001 {text}", channel), connection=connection
            )
        except OSError:
            break  # the bot closed the connection meanwhile
        pushed[envelope_id] = text
        connection.closed.wait(0.02)  # at Slack's pace, not a flood

    assert bot.process.wait(timeout=20) == 0
    assert pushed, "the connection was closed before any command could be pushed"
    taken = {envelope_id for envelope_id in pushed if socket_mode.acks(envelope_id)}
    for envelope_id, text in pushed.items():
        sends = len(jobs_with(slow_ovh, text))
        # Acked and sent once, or neither: never sent for a person Slack told it failed, never acked and dropped.
        assert sends == (1 if envelope_id in taken else 0), (envelope_id in taken, sends, bot.log())
    records = bot.ledger(channel)
    assert len(records) == 1 + len(taken)
    assert all(r.status == SendStatus.SENT and r.audit_status == AuditStatus.THREAD for r in records)
    assert "Traceback" not in bot.log()


def test_start_up_retries_apps_connections_open_with_backoff(run_bot, socket_mode, slack_api, channel):
    slack_api.fail_next("apps.connections.open", error="internal_error")  # ok: false, HTTP 200
    slack_api.fail_next("apps.connections.open", status=500)
    bot = run_bot()

    connection = bot.wait_connected()

    log = bot.log()
    assert "attempt 1: apps.connections.open answered HTTP 200, internal_error); retrying in" in log
    assert "attempt 2: apps.connections.open answered HTTP 500, service_unavailable); retrying in" in log
    assert "attempt 3" not in log and "Traceback" not in log
    ack = acked(
        socket_mode,
        socket_mode.deliver("slash_commands", command_payload("help", channel), connection=connection),
    )
    assert "/sms +34600000001 Your message" in blocks_text(ack.payload)


def test_a_lost_or_dead_connection_is_replaced(run_bot, socket_mode, slack_api, ovh_api, channel):
    bot = run_bot()
    first = bot.wait_connected()

    # Dropped without a closing handshake, while apps.connections.open fails twice: retried with backoff.
    slack_api.fail_next("apps.connections.open", status=500, times=2)
    count = len(socket_mode.connections)
    first.drop()
    second = socket_mode.wait_for_connection(count=count + 1, timeout=10)
    log = bot.log()
    assert "attempt 2: apps.connections.open answered HTTP 500" in log and "Traceback" not in log

    # Dead without a word (no FIN, no RST): only the bot's own pings can tell. Slack's mock and the SDK's
    # client took about 60 s; a ping every 3 s, 4 s for its pong and 1 s to close make it at most 8 s.
    second.go_silent()
    third = socket_mode.wait_for_connection(count=count + 2, timeout=15)
    assert second.closed.wait(5), "the dead connection was never closed"

    text = unique("Otra vez en línea")
    acked(
        socket_mode,
        socket_mode.deliver(
            "slash_commands", command_payload(f"+34600000001 {text}", channel), connection=third
        ),
    )
    bot.settled(channel)
    assert len(jobs_with(ovh_api, text)) == 1


@pytest.fixture
def no_hello(socket_mode: FakeSocketMode) -> Iterator[FakeSocketMode]:
    """A Socket Mode server that never says hello (as Slack's own mock until the client speaks)."""
    socket_mode.send_hello = False
    yield socket_mode
    socket_mode.send_hello = True


def test_the_bot_serves_a_connection_that_never_says_hello(run_bot, no_hello, channel):
    bot = run_bot()
    connection = bot.wait_connected()

    ack = acked(
        no_hello, no_hello.deliver("slash_commands", command_payload("help", channel), connection=connection)
    )

    assert "/sms +34600000001 Your message" in blocks_text(ack.payload)
    assert "attempt" not in bot.log()
