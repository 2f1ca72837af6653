"""HTTP mode at its edge, through the real `python -m bot run --http` process: Slack's unsigned SSL check,
bodies over the size cap, slow connections, and requests that arrive after Slack stopped waiting.

Figures (how fast, how much memory) are measured by `python -m bench.slow_clients`; here only outcomes."""

from __future__ import annotations

import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from bot.server.http import MAX_BODY_BYTES, RECEIVE_SECONDS, HttpServer
from bot.slack.compose import compose_modal
from tests.harness import RunningBot, SlackSender, audit_thread
from tests.processes import HttpBotProcess


@pytest.fixture
def process(bot_processes) -> HttpBotProcess:
    return bot_processes("edge")


# --- Slack's SSL check -----------------------------------------------------------------------------


def test_slacks_unsigned_ssl_check_is_answered_200_as_bolt_does_and_nothing_else(
    process, fake_slack, fake_ovh
):
    """Bolt answers a body whose ``ssl_check`` is "1" (form or JSON) before checking signatures; the flag
    gets an unsigned request its 200 and nothing more: no listener sees it."""
    events = process.url + "/slack/events"
    unsigned = SlackSender(process.url)
    url = fake_slack.new_response_url()
    forged = {"ssl_check": "1", "command": "/sms", "text": "+34600000001 forged", "user_id": "UALICE"}
    forged |= {"channel_id": "COPS", "team_id": "T0TEST", "trigger_id": "t-forged", "response_url": url}

    as_slack_sends_it = unsigned.post(urlencode({"ssl_check": "1", "token": "legacy"}), sign=False)
    as_json = requests.post(events, json={"ssl_check": "1"}, timeout=10)
    flag_on_a_forged_command = unsigned.post(urlencode(forged), sign=False)
    other_flags = [unsigned.post(urlencode({"ssl_check": flag}), sign=False) for flag in ("0", "true", "")]
    valid = SlackSender(process.url).command("+34600000001 real")
    fake_ovh.wait_for_jobs(1)

    assert (as_slack_sends_it.status, as_slack_sends_it.body) == (200, "")
    assert (as_json.status_code, as_json.text) == (200, "")
    assert (flag_on_a_forged_command.status, flag_on_a_forged_command.body) == (200, "")
    assert [answer.status for answer in other_flags] == [401, 401, 401]
    assert valid.status == 200
    assert [job.body["message"] for job in fake_ovh.jobs] == ["real"]
    assert fake_slack.responses(url) == []


# --- bodies over the cap ---------------------------------------------------------------------------

HUGE = 50 * 1024 * 1024
PIECE = b"a" * 65536


def _head(port: int, *, content_length: int | None) -> bytes:
    length = "Transfer-Encoding: chunked" if content_length is None else f"Content-Length: {content_length}"
    return (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{length}\r\n\r\n"
    ).encode()


def _status(sock: socket.socket) -> int | None:
    """The status of the answer waiting on ``sock``; None if the connection was cut before one came."""
    try:
        line = sock.recv(64).split(b"\r\n", 1)[0]
    except OSError:
        return None
    return int(line.split()[1]) if line.startswith(b"HTTP/1.1 ") else None


def post_huge(port: int, *, chunked: bool, size: int = HUGE) -> tuple[int | None, int]:
    """POST an unsigned body of ``size`` bytes as fast as the server takes it, stopping as soon as it
    answers (or cuts the connection); returns the status it answered and how many body bytes were sent."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_head(port, content_length=None if chunked else size))
        try:
            while sent < size and not select.select([sock], [], [], 0)[0]:
                sock.sendall(b"%x\r\n%s\r\n" % (len(PIECE), PIECE) if chunked else PIECE)
                sent += len(PIECE)
            if chunked and sent >= size:
                sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server closed the connection on its answer: read what it said
            pass
        return _status(sock), sent


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


def test_a_body_over_the_cap_is_refused_413_before_it_is_read(process, fake_slack, fake_ovh):
    view = compose_modal(channel_id="COPS", response_url=fake_slack.new_response_url(), default_region="ES")
    largest = SlackSender(process.url).submit_modal(  # 99 KB: 16 bytes a character, JSON-escaped, encoded
        {**view, "id": "V0LARGEST"}, receivers="\U0001f600" * 3000, message="\U0001f600" * 3000
    )
    with socket.create_connection(("127.0.0.1", process.port), timeout=10) as sock:
        sock.sendall(_head(process.port, content_length=MAX_BODY_BYTES + 1))  # announced, never sent
        announced = _status(sock)
    chunked, sent = post_huge(process.port, chunked=True)
    at_the_cap = SlackSender(process.url).post("a" * MAX_BODY_BYTES, sign=False)  # read, then refused
    valid = SlackSender(process.url).command("+34600000001 after the big bodies")
    fake_ovh.wait_for_jobs(1)

    assert largest.status == 200 and largest.json()["response_action"] == "errors"  # read, and answered
    assert announced == 413
    assert chunked == 413 and sent < HUGE
    assert at_the_cap.status == 401
    assert valid.status == 200


def test_ten_concurrent_50_mb_bodies_leave_peak_memory_under_64_mb_more(process, fake_ovh):
    SlackSender(process.url).command("+34600000001 warm-up")  # every module the send path needs is loaded
    fake_ovh.wait_for_jobs(1)
    before = peak_rss_mb(process.process.pid)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda i: post_huge(process.port, chunked=i % 2 == 0), range(10)))
    grown = peak_rss_mb(process.process.pid) - before
    print(f"peak RSS {before:.0f} MB, +{grown:.1f} MB under ten 50 MB bodies; sent {[s for _, s in answers]}")

    assert grown < 64
    assert all(status in (413, None) for status, _ in answers), answers
    assert sum(status == 413 for status, _ in answers) >= 5  # the announced ones, at least, are answered
    assert requests.get(process.url + "/health", timeout=10).status_code == 200


# --- slow connections ------------------------------------------------------------------------------


def slow_connections(port: int, count: int) -> list[socket.socket]:
    """``count`` connections, each with the first lines of a request sent and the rest never coming."""
    opened = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            opened.append(sock)
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
    except BaseException:
        close_all(opened)
        raise
    return opened


def close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def closed_by_server(sockets: list[socket.socket]) -> list[socket.socket]:
    """Those the server closed (their end of stream is ready to read)."""
    return select.select(sockets, [], [], 0)[0] if sockets else []


def test_200_slow_connections_do_not_keep_valid_requests_from_being_answered(process, fake_slack, fake_ovh):
    started = time.monotonic()
    slow = slow_connections(process.port, 200)
    try:
        valid = SlackSender(process.url).command("+34600000001 while slow clients hold on")
        health = requests.get(process.url + "/health", timeout=10)
        cut = len(closed_by_server(slow))
        held_for = time.monotonic() - started
    finally:
        close_all(slow)
    audit_thread(fake_slack)

    assert valid.status == 200 and health.status_code == 200
    assert [job.body["message"] for job in fake_ovh.jobs] == ["while slow clients hold on"]
    assert cut == 0 or held_for > RECEIVE_SECONDS, "the server let go of slow clients before their time"


def wait_closed(sock: socket.socket, timeout: float = 10) -> bool:
    """Wait until the server closes ``sock``; whether it did in ``timeout`` seconds."""
    if not select.select([sock], [], [], timeout)[0]:
        return False
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def get_health(sock: socket.socket) -> int:
    """Ask for /health on ``sock`` and read the whole answer, keeping the connection open; its status."""
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(4096)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return int(head.split()[1])


def test_a_connection_slow_to_send_its_request_is_closed_an_idle_kept_alive_one_is_not(bot: RunningBot):
    server = HttpServer(bot.bot, "127.0.0.1", 0, receive_seconds=0.5)
    serving = threading.Thread(target=server.serve, daemon=True)
    serving.start()
    kept_alive = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        assert get_health(kept_alive) == 200
        [slow] = slow_connections(server.port, 1)
        silent = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        try:
            assert wait_closed(slow), "a request that never ends kept its connection"
            assert wait_closed(silent), "a connection that never sent anything was kept"
        finally:
            close_all([slow, silent])
        assert closed_by_server([kept_alive]) == []  # idle between requests, not slow
        assert get_health(kept_alive) == 200
    finally:
        kept_alive.close()
        server.stop()
        serving.join(timeout=10)


# --- requests that arrive after Slack stopped waiting ----------------------------------------------


def test_a_request_that_reaches_the_bot_after_slacks_deadline_is_not_acted_on(process, fake_slack, fake_ovh):
    late = SlackSender(process.url, sent_ago=10)
    view = compose_modal(channel_id="COPS", response_url=fake_slack.new_response_url(), default_region="ES")

    command = late.command("+34600000001 typed 10 s ago")
    form = late.submit_modal({**view, "id": "V0LATE"}, receivers="+34600000001", message="sent 10 s ago")
    in_time = SlackSender(process.url, sent_ago=1).command("+34600000001 typed 1 s ago")
    audit_thread(fake_slack)

    assert command.status == 200 and "nothing was sent" in command.json()["text"]
    assert form.status == 200 and form.json()["response_action"] == "errors"
    assert "nothing was sent" in form.json()["errors"]["receivers"]
    assert in_time.status == 200
    assert [job.body["message"] for job in fake_ovh.jobs] == ["typed 1 s ago"]
    assert process.log().count("after Slack's 3 s deadline: not acted on") == 2
