"""Stopping HTTP mode: the listening socket closes first, the requests in flight still get their answers,
and only then does the server close the rest, within a bounded time."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import requests

from bot.server.http import DRAIN_SECONDS, HttpServer
from tests.fakes import HttpRequest, HttpResponse
from tests.fakes.slack_api import FakeSlack
from tests.harness import SlackSender, audit_thread, blocks_text
from tests.processes import HttpBotProcess


class SlowGroupsSlack(FakeSlack):
    """A Slack whose usergroups.users.list is held until ``release`` is set, for ``groups_delay`` seconds
    at most; ``groups_asked`` is set when one arrives. A form submitted by a member of an allowed group
    waits for it before its answer."""

    def __init__(self) -> None:
        super().__init__()
        self.usergroup_members = {"SOPS": ["UBOB"]}
        self.groups_delay = 0.0
        self.groups_asked = threading.Event()
        self.release = threading.Event()

    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/api/usergroups.users.list" and self.groups_delay:
            self.groups_asked.set()
            self.release.wait(self.groups_delay)
        return super().handle(request)


# Bob may send as a member of SOPS, checked with Slack at every request.
GROUP_ACCESS = {"SMS_ALLOWED_USERGROUPS": "SOPS", "SMS_USERGROUP_CACHE_SECONDS": "0"}


@pytest.fixture
def fake_slack() -> Iterator[SlowGroupsSlack]:
    with SlowGroupsSlack() as fake:
        yield fake


@pytest.fixture
def background() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield pool


def submit_slowly(
    url: str, fake_slack: SlowGroupsSlack, background: ThreadPoolExecutor, delay: float
) -> Future:
    """Open the form as Bob, then submit it with Slack slow to say who is in his group: the submission
    is in flight (not yet answered) when this returns."""
    slack = SlackSender(url)
    assert slack.command("", user_id="UBOB", response_url=fake_slack.new_response_url()).status == 200
    opened = fake_slack.wait_for_view()
    view = {**opened, "id": "V0COMPOSE1"}
    fake_slack.groups_delay = delay
    submitted = background.submit(
        slack.submit_modal, view, receivers="+34600000001", message="in flight at shutdown", user_id="UBOB"
    )
    assert fake_slack.groups_asked.wait(10), "the submission never reached the access check"
    fake_slack.groups_delay = 0.0  # for the checks after this one
    return submitted


def refuses_connections(port: int) -> bool:
    """Whether the port no longer takes connections.

    A connection that arrives while the listening socket is being closed is reset rather than refused:
    `connect()` then fails with ECONNRESET. It was not taken either, so it counts as refused.
    """
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    return False


def test_sigterm_answers_the_request_in_flight_refuses_new_ones_and_exits_0(
    env, tmp_path, fake_slack, fake_ovh, background
):
    bot = HttpBotProcess({**env, **GROUP_ACCESS}, tmp_path, "stopping")
    try:
        bot.wait_ready()
        in_flight = submit_slowly(
            bot.url, fake_slack, background, delay=1.5
        )  # under the 2 s timeout of access lookups

        bot.process.terminate()  # SIGTERM, as a container runtime stops it

        deadline = time.monotonic() + 1.5
        while not refuses_connections(bot.port):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.02)
        assert not in_flight.done(), (
            "the submission had ended (answered or cut off) when the listening socket closed"
        )
        fake_slack.release.set()  # Slack answers the access lookup: the submission goes on
        answer = in_flight.result(timeout=15)
        assert bot.process.wait(timeout=15) == 0
    finally:
        bot.stop()

    assert (answer.status, answer.body) == (200, "")  # the form closes: the send was accepted
    [job] = fake_ovh.jobs  # and, accepted, it was sent before the process exited
    assert job.body["message"] == "in flight at shutdown"
    [(_parent, reply)] = audit_thread(fake_slack)
    assert "Sent by OVH" in blocks_text(reply)
    assert "Traceback" not in bot.log()


def test_an_idle_kept_alive_connection_does_not_hold_up_the_stop(start_bot):
    bot = start_bot()
    session = requests.Session()  # keeps its connection open after the answer
    assert session.get(bot.url + "/health", timeout=5).status_code == 200

    started = time.monotonic()
    bot.close()

    # Had the idle connection counted as a request in flight, the stop would have waited the whole drain.
    assert time.monotonic() - started < DRAIN_SECONDS
    with pytest.raises(requests.ConnectionError):
        session.get(bot.url + "/health", timeout=5)


def test_a_request_stuck_past_the_drain_time_does_not_hold_up_the_stop(start_bot, fake_slack, background):
    running = start_bot(**GROUP_ACCESS)
    server = HttpServer(running.bot, "127.0.0.1", 0, drain_seconds=0.5)
    serving = threading.Thread(target=server.serve, daemon=True)
    serving.start()
    stuck = submit_slowly(f"http://127.0.0.1:{server.port}", fake_slack, background, delay=2.5)

    server.stop()
    serving.join(timeout=5)

    assert not serving.is_alive()
    # Cut off, not answered: the stop did not wait for the request to finish.
    with pytest.raises(requests.ConnectionError):
        stuck.result(timeout=10)
