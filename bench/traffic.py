"""What Slack would send: signed `/sms` commands, posted one at a time or in bursts released together."""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bench.measure import Latencies
from tests.fakes.slack_api import new_trigger_id
from tests.harness import SIGNING_SECRET, TEAM_ID

# A team: commands come from many people in several channels, so that the default daily limits per person
# (SMS_LIMIT_USER_SMS_PER_DAY) and per channel hold for the whole run, and are checked as in production.
USERS = tuple(f"UBENCH{n:03d}" for n in range(200))
CHANNELS = tuple(f"CBENCH{n:02d}" for n in range(40))
_turns = itertools.count()
_verifier = SignatureVerifier(SIGNING_SECRET)


@dataclass(frozen=True)
class Prepared:
    """A signed request, built before the clock starts so only the round trip is timed."""

    body: bytes
    headers: dict[str, str]
    trigger_id: str


@dataclass(frozen=True)
class Sample:
    """One request's answer and timing."""

    status: int
    started_at: float  # wall clock (time.time), comparable with the fake Slack's SlackCall.at
    elapsed: float  # seconds, request start to the whole answer read
    trigger_id: str


def slash_command(text: str) -> Prepared:
    """`/sms <text>` as Slack posts it (the same fields as tests.harness.SlackSender.command)."""
    trigger_id = new_trigger_id()
    turn = next(_turns)
    user, channel = USERS[turn % len(USERS)], CHANNELS[turn % len(CHANNELS)]
    form = {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "test",
        "channel_id": channel,
        "channel_name": channel.lower(),
        "user_id": user,
        "user_name": user.lower(),
        "command": "/sms",
        "text": text,
        "api_app_id": "A0SMSBOT",
        "is_enterprise_install": "false",
        "response_url": "http://127.0.0.1:9/unused",
        "trigger_id": trigger_id,
    }
    body = urlencode(form)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": _verifier.generate_signature(timestamp=timestamp, body=body),
    }
    return Prepared(body.encode(), headers, trigger_id)


def post(port: int, request: Prepared) -> Sample:
    """One request on a new connection, as Slack opens them; times connect → whole answer."""
    started_at = time.time()
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/slack/events", body=request.body, headers=request.headers)
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    return Sample(response.status, started_at, time.perf_counter() - started, request.trigger_id)


class Texts:
    """Command texts: valid sends to distinct numbers (each a real send through the fake OVH), or others."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def send(self) -> str:
        """A valid send to a number never used before in this run."""
        with self._lock:
            self._next += 1
            n = self._next
        return f"+346{n:08d} Bench message {n}: the server is down, call me"

    @staticmethod
    def help() -> str:
        return "help"

    @staticmethod
    def modal() -> str:
        return ""


def add(result: Latencies, samples: list[Sample]) -> None:
    """Count ``samples`` in ``result``."""
    result.samples.extend(sample.elapsed for sample in samples)
    result.errors += sum(sample.status != 200 for sample in samples)


def run_sequential(port: int, make_text: Callable[[], str], count: int) -> list[Sample]:
    """``count`` requests one after the other."""
    return [post(port, slash_command(make_text())) for _ in range(count)]


def run_burst(
    port: int, make_text: Callable[[], str], concurrency: int, pool: ThreadPoolExecutor
) -> list[Sample]:
    """``concurrency`` requests released at the same instant (a barrier), on as many client threads."""
    requests = [slash_command(make_text()) for _ in range(concurrency)]
    barrier = threading.Barrier(concurrency)

    def one(request: Prepared) -> Sample:
        barrier.wait()
        return post(port, request)

    return list(pool.map(one, requests))
