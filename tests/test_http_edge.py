"""HTTP mode at its edge, through the real `python -m bot run --http` process: Slack's unsigned SSL check,
bodies over the size cap, slow connections, and requests that arrive after Slack stopped waiting."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from bot.server.http import MAX_BODY_BYTES
from bot.slack.blocks import compose_modal
from tests.harness import SlackSender
from tests.processes import HttpBotProcess


@pytest.fixture
def process(env, tmp_path) -> Iterator[HttpBotProcess]:
    bot = HttpBotProcess(env, tmp_path, "edge")
    try:
        bot.wait_ready()
        yield bot
    finally:
        bot.stop()


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
