"""Performance figures for smsbot, measured against the project's fake Slack and OVH servers.

Run it from the repository root::

    .venv/bin/python -m bench.run                      # SQLite in a temporary folder
    .venv/bin/python -m bench.run --database-url postgresql://postgres@127.0.0.1:5432/test

It prints figures next to their targets; it asserts nothing (it exits non-zero only if it crashes).
Everything runs on 127.0.0.1: the real bot as the end-to-end tests run it (``tests.harness.RunningBot``:
the production waitress server, signed requests), and, served the same way, a bare Bolt app that only
acknowledges ``/sms``, the floor any Bolt app can reach. Both live in this process with the fakes and
the client, so they share one interpreter lock, as in the tests. The 1,000-receiver send, and start-up,
memory, CPU per request and SIGTERM (``python -m bot run --http``), are measured in processes of their own,
so that those figures are the bot's alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import itertools
import json
import logging
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from waitress import create_server, wasyncore

from bot.domain.records import AuditStatus, SendStatus
from bot.settings import Mode, Settings, load_settings
from bot.storage.ledger import sends
from tests.fakes.ovh_api import FakeOvh
from tests.fakes.slack_api import FakeSlack
from tests.harness import SIGNING_SECRET, TEAM_ID, RunningBot

ROOT = Path(__file__).absolute().parent.parent
# The same number of threads as RunningBot gives waitress, for the bare app too: a fair comparison.
SERVER_THREADS = 32
DEFAULT_WORKERS = 100  # the bot's own default (bot/settings.py)

ACK_RATIO_TARGET = 1.5
ACK_P99_TARGET = 0.100
MODAL_P99_TARGET = 0.100
SLOW_BURST_TARGET = 3.0


# --- small measuring tools ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Latencies:
    """Seconds per request, and how many answers were not HTTP 200."""

    samples: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 99)

    @property
    def max(self) -> float:
        return max(self.samples)


def ms(seconds: float) -> str:
    """A duration in milliseconds: to the tenth below 100 ms, whole above."""
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def mib(size: float) -> str:
    """A byte count in MiB."""
    return f"{size / 2**20:.1f} MiB"


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS)... of a process, in bytes (Linux; empty elsewhere)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    status = {}
    for line in lines:
        name, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            status[name] = int(value.split()[0]) * 1024
    return status


def reset_peak_rss() -> bool:
    """Restart this process's peak RSS count from its current RSS (Linux 4.0+)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_BEGAN = time.perf_counter()


def progress(message: str) -> None:
    """What is being measured now, on stderr, with the time since the run began."""
    print(f"[{time.perf_counter() - _BEGAN:5.1f} s] {message}", file=sys.stderr, flush=True)


# --- what Slack would send -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A signed request, built before the clock starts so only the round trip is timed."""

    body: bytes
    headers: dict[str, str]
    trigger_id: str


@dataclass(frozen=True)
class Sample:
    status: int
    started_at: float  # wall clock (time.time), comparable with the fake Slack's SlackCall.at
    elapsed: float  # seconds, request start to the whole answer read
    trigger_id: str


_verifier = SignatureVerifier(SIGNING_SECRET)


# A team: commands come from many people in several channels, so that the default daily limits per person
# (SMS_LIMIT_USER_SMS_PER_DAY) and per channel hold for the whole run, and are checked as in production.
USERS = tuple(f"UBENCH{n:03d}" for n in range(200))
CHANNELS = tuple(f"CBENCH{n:02d}" for n in range(40))
_turns = itertools.count()


def slash_command(text: str) -> Prepared:
    """`/sms <text>` as Slack posts it (the same fields as tests.harness.SlackSender.command)."""
    trigger_id = f"trigger-{uuid.uuid4().hex}"
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
    """Command texts: valid sends to distinct numbers (each a real send through the fake OVH), or help."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def send(self) -> str:
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


def run_sequential(port: int, make_text: Callable[[], str], count: int) -> tuple[Latencies, list[Sample]]:
    """``count`` requests one after the other."""
    result, samples = Latencies(), []
    for _ in range(count):
        sample = post(port, slash_command(make_text()))
        samples.append(sample)
        result.samples.append(sample.elapsed)
        result.errors += sample.status != 200
    return result, samples


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


def run_concurrent(
    port: int,
    make_text: Callable[[], str],
    concurrency: int,
    rounds: int,
    between: Callable[[], None],
) -> tuple[Latencies, list[Sample]]:
    """``rounds`` bursts; ``between`` runs after each (to let the sends of a round settle)."""
    result, samples = Latencies(), []
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bench-client") as pool:
        for _ in range(rounds):
            burst = run_burst(port, make_text, concurrency, pool)
            between()
            samples.extend(burst)
            result.samples.extend(sample.elapsed for sample in burst)
            result.errors += sum(sample.status != 200 for sample in burst)
    return result, samples


# --- the servers ---------------------------------------------------------------------------------------


class Fakes:
    """The fake Slack Web API and OVH API, and the environment of a bot wired to them."""

    def __init__(self) -> None:
        self.slack = FakeSlack().start()
        self.ovh = FakeOvh().start()
        self.ovh.credits_left = 1e12  # thousands of sends: never the limit here

    def env(self, database_url: str, **overrides: str) -> dict[str, str]:
        return {
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "OVH_ENDPOINT": self.ovh.endpoint,
            "OVH_APPLICATION_KEY": self.ovh.application_key,
            "OVH_APPLICATION_SECRET": self.ovh.application_secret,
            "OVH_CONSUMER_KEY": self.ovh.consumer_key,
            "OVH_SMS_SERVICE": self.ovh.services[0],
            "SMS_DEFAULT_REGION": "ES",
            "SMS_ALLOWED_COUNTRIES": "ES",
            "SMS_ALLOWED_USERS": ",".join(USERS),
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            **overrides,
        }

    def settings(self, database_url: str, **overrides: str) -> Settings:
        return load_settings(self.env(database_url, **overrides), Mode.HTTP)

    def close(self) -> None:
        self.slack.stop()
        self.ovh.stop()


class Databases:
    """Fresh, empty ledgers: SQLite files in a temporary folder, or scratch PostgreSQL databases
    created on the server of ``--database-url`` and dropped at the end."""

    def __init__(self, folder: Path, postgres_url: str | None) -> None:
        self._folder = folder
        self._admin: sa.Engine | None = None
        self._created: list[str] = []
        self._count = 0
        if postgres_url:
            url = sa.engine.make_url(postgres_url)
            if url.drivername in ("postgresql", "postgres"):
                url = url.set(drivername="postgresql+psycopg")
            self._base = url
            self._admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    @property
    def kind(self) -> str:
        return "PostgreSQL" if self._admin is not None else "SQLite"

    def fresh(self) -> str:
        self._count += 1
        if self._admin is None:
            return f"sqlite:///{self._folder / f'bench-{self._count}.db'}"
        name = f"smsbot_bench_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return self._base.set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            for name in self._created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


class BareBolt:
    """A Bolt app that only acknowledges `/sms`: waitress and Bolt's own WSGI adapter, with the settings
    of the bot's HttpServer (threads, backlog), and nothing else."""

    def __init__(self, fakes: Fakes, workers: int | None) -> None:
        self.executor = (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bare-listener") if workers else None
        )
        options: dict[str, Any] = {"listener_executor": self.executor} if self.executor else {}
        app = App(
            client=WebClient(token=fakes.slack.bot_token, base_url=fakes.slack.api_url),
            signing_secret=SIGNING_SECRET,
            **options,
        )

        @app.command("/sms")
        def acknowledge(ack: Ack) -> None:
            ack()

        self.server = create_server(
            SlackRequestHandler(app, path="/slack/events"),
            host="127.0.0.1",
            port=0,
            threads=SERVER_THREADS,
            backlog=2048,
            ident="bare-bolt",
            clear_untrusted_proxy_headers=True,
        )
        self.port = int(self.server.effective_port)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self.server.run()
        finally:
            self.server.task_dispatcher.shutdown()

    def close(self) -> None:
        self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
        self._thread.join(timeout=10)
        if self.executor:
            self.executor.shutdown(wait=True)


def settled(engine: sa.Engine) -> int:
    """Sends settled with OVH's answer and with their audit trail posted (or given up on)."""
    query = (
        sa.select(sa.func.count())
        .select_from(sends)
        .where(sends.c.status != SendStatus.PENDING.value, sends.c.audit_status != AuditStatus.PENDING.value)
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def wait_settled(engine: sa.Engine, count: int, timeout: float = 60.0, poll: float = 0.01) -> float:
    """Wait until ``count`` sends are settled and audited; return when (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while True:
        if settled(engine) >= count:
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise RuntimeError(f"only {settled(engine)} of {count} sends settled within {timeout:g} s")
        time.sleep(poll)


# --- the measurements ----------------------------------------------------------------------------------


@dataclass
class AckRow:
    label: str
    latencies: Latencies
    floor: Latencies | None = None  # the bare app's figures in the same scenario, for the ratio


@dataclass
class Row:
    label: str
    figure: str
    target: str = ""
    verdict: str = ""


def met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def measure_acks(
    fakes: Fakes, dbs: Databases, args: argparse.Namespace, texts: Texts
) -> tuple[list[AckRow], list[Row]]:
    """Ack latency of the bare app and of the bot (help and valid sends), sequential and in bursts;
    then `/sms` alone → views.open."""
    bare = BareBolt(fakes, SERVER_THREADS)
    bare_default = BareBolt(fakes, None)
    real = RunningBot(fakes.settings(dbs.fresh()))
    engine = real.bot.services.engine
    port = real.server.port
    issued = 0

    def sends_settle() -> None:
        wait_settled(engine, issued)

    def counted_send() -> str:
        nonlocal issued
        issued += 1
        return texts.send()

    rows: list[AckRow] = []
    try:
        for server in (bare, bare_default):
            run_sequential(server.port, texts.help, 30)  # warm-up
        run_sequential(port, texts.help, 30)
        run_sequential(port, counted_send, 30)
        sends_settle()

        n = args.sequential
        progress(f"ack latency: {n} sequential requests per app")
        seq_bare, _ = run_sequential(bare.port, texts.help, n)
        seq_default, _ = run_sequential(bare_default.port, texts.help, n)
        seq_help, _ = run_sequential(port, texts.help, n)
        seq_send, _ = run_sequential(port, counted_send, n)
        sends_settle()
        rows += [
            AckRow(f"sequential ({n}): bare Bolt, {SERVER_THREADS} listener threads", seq_bare),
            AckRow("sequential: bare Bolt, Bolt's default executor (5 threads)", seq_default),
            AckRow("sequential: smsbot `/sms help`", seq_help, seq_bare),
            AckRow("sequential: smsbot valid send", seq_send, seq_bare),
        ]

        c, r = args.concurrency, args.rounds
        progress(f"ack latency: {c} concurrent requests x {r} rounds per app")
        con_bare, _ = run_concurrent(bare.port, texts.help, c, r, lambda: None)
        con_default, _ = run_concurrent(bare_default.port, texts.help, c, r, lambda: None)
        con_help, _ = run_concurrent(port, texts.help, c, r, lambda: None)
        con_send, _ = run_concurrent(port, counted_send, c, r, sends_settle)
        rows += [
            AckRow(f"{c} concurrent x {r}: bare Bolt, {SERVER_THREADS} listener threads", con_bare),
            AckRow(f"{c} concurrent: bare Bolt, Bolt's default executor (5 threads)", con_default),
            AckRow(f"{c} concurrent: smsbot `/sms help`", con_help, con_bare),
            AckRow(f"{c} concurrent: smsbot valid send", con_send, con_bare),
        ]

        progress("`/sms` alone → views.open")
        modal_rows = []
        _, seq_modal = run_sequential(port, texts.modal, args.modal)
        _, con_modal = run_concurrent(port, texts.modal, c, max(1, r // 2), lambda: None)
        for label, samples in (
            (f"`/sms` → views.open at the fake Slack, sequential ({args.modal})", seq_modal),
            (f"`/sms` → views.open, {c} concurrent x {max(1, r // 2)}", con_modal),
        ):
            delays = views_open_delays(fakes.slack, samples)
            ok = delays.p99 < MODAL_P99_TARGET and not delays.errors
            figure = f"p50 {ms(delays.p50)}, p99 {ms(delays.p99)}, max {ms(delays.max)}"
            if delays.errors:
                figure += f" ({delays.errors} never opened)"
            modal_rows.append(Row(label, figure, f"p99 < {ms(MODAL_P99_TARGET)}", met(ok)))
        return rows, modal_rows
    finally:
        real.close()
        bare.close()
        bare_default.close()


def views_open_delays(fake_slack: FakeSlack, samples: list[Sample], timeout: float = 10.0) -> Latencies:
    """From each `/sms` request's start to the fake Slack receiving its views.open."""
    wanted = {sample.trigger_id for sample in samples}
    deadline = time.monotonic() + timeout
    while True:
        calls = list(fake_slack.calls)
        opened = {call.params.get("trigger_id"): call.at for call in calls if call.method == "views.open"}
        if wanted <= opened.keys() or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    result = Latencies()
    for sample in samples:
        at = opened.get(sample.trigger_id)
        if at is None:
            result.errors += 1
        else:
            result.samples.append(at - sample.started_at)
    return result


def measure_slow_burst(fakes: Fakes, dbs: Databases, workers: int, count: int, texts: Texts) -> Row:
    """``count`` sends at once while OVH takes 1 s per job: time until all are settled and audited."""
    real = RunningBot(fakes.settings(dbs.fresh(), SMSBOT_SEND_WORKERS=str(workers)))
    try:
        # A burst at full speed first, so that the worker threads and their OVH clients already exist,
        # as in a bot that has been running for a while; then the measured burst against a slow OVH.
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="bench-burst") as pool:
            run_burst(real.server.port, texts.send, count, pool)
        wait_settled(real.bot.services.engine, count)
        fakes.ovh.delay = 1.0
        requests = [slash_command(texts.send()) for _ in range(count)]
        barrier = threading.Barrier(count + 1)

        def one(request: Prepared) -> Sample:
            barrier.wait()
            return post(real.server.port, request)

        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="bench-burst") as pool:
            futures = [pool.submit(one, request) for request in requests]
            barrier.wait()
            started = time.perf_counter()
            samples = [future.result() for future in futures]
        finished = wait_settled(real.bot.services.engine, 2 * count, poll=0.005)
        acks = Latencies([s.elapsed for s in samples], sum(s.status != 200 for s in samples))
    finally:
        fakes.ovh.delay = 0.0
        real.close()
    total = finished - started
    figure = f"{total:.2f} s; acks p50 {ms(acks.p50)}, p99 {ms(acks.p99)}, max {ms(acks.max)}"
    if acks.errors:
        figure += f"; {acks.errors} acks failed"
    default = " (default)" if workers == DEFAULT_WORKERS else ""
    return Row(
        f"{count} concurrent sends, OVH answering in 1 s, SMSBOT_SEND_WORKERS={workers}{default}: "
        "all settled in the ledger and audited",
        figure,
        f"< {SLOW_BURST_TARGET:g} s, acks < 3 s",
        met(total < SLOW_BURST_TARGET and acks.max < 3 and not acks.errors),
    )


def measure_big_send(fakes: Fakes, dbs: Databases, receivers: int) -> list[Row]:
    """A send to ``receivers`` numbers, in a process of its own so that its memory is the bot's alone."""
    # The default limits allow 50 receivers per send and 100 SMS per person a day: lift them for this one.
    limits = {
        "SMS_LIMIT_RECEIVERS_PER_SEND": str(receivers),
        "SMS_LIMIT_USER_SMS_PER_DAY": "0",
        "SMS_LIMIT_CHANNEL_SMS_PER_DAY": "0",
    }
    env = {**os.environ, **fakes.env(dbs.fresh(), **limits)}
    before = len(fakes.ovh.jobs)
    out = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "bench.run", "--child-big-send", str(receivers)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(
            f"the {receivers}-receiver send failed (exit {out.returncode}):\n{out.stderr[-3000:]}"
        )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    jobs = [job for job in fakes.ovh.jobs[before:] if job.tag == result["tag"]]
    sizes = "+".join(str(len(job.valid) + len(job.invalid)) for job in jobs)
    rss_growth = result["rss_peak"] - result["rss_before"] if result["rss_peak"] else None
    return [
        Row(
            f"send to {receivers:,} receivers (parse, ledger, OVH, audit thread), SendService in a fresh process",
            f"{result['seconds'] * 1000:.0f} ms; {len(jobs)} OVH jobs ({sizes}); status {result['status']}, "
            f"audit {result['audit']}",
            "jobs of ≤ 500",
            met(bool(jobs) and all(len(job.valid) + len(job.invalid) <= 500 for job in jobs)),
        ),
        Row(
            f"memory of that send: tracemalloc peak; RSS peak over the process's {mib(result['rss_before'])}",
            f"{mib(result['traced_peak'])}; "
            + (f"+{mib(rss_growth)} (peak {mib(result['rss_peak'])})" if rss_growth is not None else "n/a"),
        ),
    ]


def child_big_send(count: int) -> None:
    """Runs in the child process of :func:`measure_big_send`: prints one JSON line."""
    from bot.domain.receivers import parse_receivers
    from bot.sending.service import SendRequest
    from bot.services import build_services
    from bot.slack.listeners.requester import send_and_report

    settings = load_settings(os.environ, Mode.HTTP)
    services = build_services(settings)
    numbers = [f"+346{n:08d}" for n in range(1, count + 1)]

    def send(key: str, typed: list[str]) -> str:
        # Typed inputs are read in pieces: the bot reads at most a few thousand characters at a time.
        receivers = tuple(
            receiver
            for start in range(0, len(typed), 200)
            for receiver in parse_receivers(
                "\n".join(typed[start : start + 200]), settings.sms_default_region
            )
        )
        request = SendRequest(
            request_key=key,
            source="modal",
            user_id=USERS[0],
            channel_id=CHANNELS[0],
            team_id=TEAM_ID,
            receivers=receivers,
            message="Bench: the server is down, call me",
        )
        send_and_report(services, request, None)
        return key

    send("bench:warm-up", numbers[:1])  # imports, connections, the service name: not the send's cost
    before = proc_status()
    tracked = reset_peak_rss()
    started = time.perf_counter()
    key = send("bench:big", numbers)
    seconds = time.perf_counter() - started
    after = proc_status()
    tracemalloc.start()
    send("bench:big-traced", numbers)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    record = services.ledger.find_by_key(key)
    if record is None:
        raise RuntimeError("the big send was not recorded: a rule or a limit refused it")
    print(
        json.dumps(
            {
                "seconds": seconds,
                "tag": record.tag,
                "status": record.status.value,
                "audit": record.audit_status.value,
                "jobs": len(record.ovh_job_ids),
                "rss_before": before.get("VmRSS", 0),
                "rss_peak": after.get("VmHWM", 0) if tracked else 0,
                "traced_peak": traced_peak,
            }
        )
    )
    services.engine.dispose()


class BotProcess:
    """`python -m bot run --http`, as deployed, in a process of its own (CPU and memory are its alone)."""

    def __init__(self, fakes: Fakes, database_url: str, folder: Path) -> None:
        self.port = free_port()
        # As deployed: logging at INFO (a few lines per send), to a file here.
        env = {**os.environ, **fakes.env(database_url, LOG_LEVEL="INFO")}
        self._log_path = folder / f"bot-{self.port}.log"
        self._log = self._log_path.open("w")
        started = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "bot", "run", "--http", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=folder,  # no .env here: the environment alone configures it
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_healthy(started)
        except BaseException:
            self.kill()
            raise
        self.ready = time.perf_counter() - started

    def _wait_healthy(self, started: float) -> None:
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode}:\n{self.output()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return
            if time.perf_counter() - started > 60:
                raise RuntimeError(f"the bot was not ready within 60 s:\n{self.output()}")
            time.sleep(0.005)

    def output(self) -> str:
        self._log.flush()
        return self._log_path.read_text()[-3000:]

    @property
    def rss(self) -> int:
        return proc_status(self.process.pid).get("VmRSS", 0)

    @property
    def cpu_seconds(self) -> float:
        """User + system CPU time of the whole process, all threads (Linux; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> tuple[float, int]:
        """SIGTERM, as an orchestrator stops it: seconds until it exited, and its exit status."""
        stopping = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        finally:
            self.kill()
        return time.perf_counter() - stopping, code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


def measure_process(fakes: Fakes, dbs: Databases, folder: Path, texts: Texts, requests: int) -> list[Row]:
    """Start-up, idle memory, CPU per request and SIGTERM of the bot in its own process."""
    database_url = dbs.fresh()
    engine = sa.create_engine(database_url)
    try:
        first = BotProcess(fakes, database_url, folder)
        time.sleep(1.0)  # idle: settled after start-up
        idle = first.rss
        before = first.cpu_seconds
        run_sequential(first.port, texts.help, requests)
        help_cpu = (first.cpu_seconds - before) / requests
        before = first.cpu_seconds
        run_sequential(first.port, texts.send, requests)
        wait_settled(engine, requests)
        time.sleep(0.2)  # the last send lets go of its row after its audit
        send_cpu = (first.cpu_seconds - before) / requests
        loaded = first.rss
        idle_stop, idle_code = first.stop()

        again = BotProcess(fakes, database_url, folder)
        fakes.ovh.delay = 1.0
        try:
            run_sequential(again.port, texts.send, 10)
            busy_stop, busy_code = again.stop()
        finally:
            fakes.ovh.delay = 0.0
        in_flight_settled = settled(engine) - requests
    finally:
        engine.dispose()
    return [
        Row(
            "start-up to ready (`python -m bot run --http` until /health answers 200)",
            f"{first.ready:.2f} s on an empty database (migrates it), {again.ready:.2f} s on a migrated one",
        ),
        Row(
            "memory (RSS) of that process",
            f"{mib(idle)} idle, 1 s after ready; {mib(loaded)} after {requests} help and {requests} sends",
        ),
        Row(
            "bot CPU per request, its process alone (all threads)",
            f"{ms(help_cpu)} per `/sms help`; {ms(send_cpu)} per send (ack, ledger, OVH, audit thread): "
            f"about {1 / send_cpu:.0f} sends/s per core",
        ),
        Row(
            "SIGTERM to exit",
            f"idle: {ms(idle_stop)} (exit {idle_code}); with 10 sends waiting on a 1 s OVH: "
            f"{busy_stop:.2f} s (exit {busy_code}), {in_flight_settled}/10 settled and audited",
            "in-flight sends finish",
            met(in_flight_settled == 10 and busy_code == 0),
        ),
    ]


# --- report --------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = proc_meminfo_total()
    parts = [f"{os.cpu_count()} cores" + (f" ({cpu})" if cpu else ""), memory, platform.platform()]
    parts.append(f"Python {platform.python_version()}")
    return ", ".join(part for part in parts if part)


def revision() -> str:
    """The commit measured, and whether bot/ differs from it (empty outside a git checkout)."""
    git = shutil.which("git")
    if git is None:
        return ""

    def ask(*args: str) -> str:
        return subprocess.run(  # noqa: S603 - git, read-only commands
            [git, *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head, changes = ask("rev-parse", "--short", "HEAD"), ask("status", "--porcelain", "--", "bot")
    except (OSError, subprocess.CalledProcessError):
        return ""
    return f"commit {head}" + (" with uncommitted changes in bot/" if changes else "")


def load_average() -> float | None:
    """The machine's 1-minute load average (None where the OS does not tell)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def proc_meminfo_total() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.0f} GiB RAM"
    return ""


def ack_table(rows: list[AckRow]) -> list[str]:
    lines = [
        "| ack latency, HTTP request → response | p50 | p99 | max | x bare (p50 / p99) | target |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lat = row.latencies
        ratio, target = "", ""
        if row.floor is not None:
            r50, r99 = lat.p50 / row.floor.p50, lat.p99 / row.floor.p99
            ratio = f"{r50:.2f}x / {r99:.2f}x"
            ok = max(r50, r99) <= ACK_RATIO_TARGET and lat.p99 < ACK_P99_TARGET and not lat.errors
            target = f"≤ {ACK_RATIO_TARGET}x, p99 < {ms(ACK_P99_TARGET)}: {met(ok)}"
        label = row.label + (f" ({lat.errors} not 200)" if lat.errors else "")
        lines.append(f"| {label} | {ms(lat.p50)} | {ms(lat.p99)} | {ms(lat.max)} | {ratio} | {target} |")
    return lines


def row_table(rows: list[Row]) -> list[str]:
    lines = ["| measurement | figure | target |", "|---|---|---|"]
    for row in rows:
        target = f"{row.target}: {row.verdict}" if row.verdict else row.target
        lines.append(f"| {row.label} | {row.figure} | {target} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to run on (scratch databases are created there and dropped); "
        "default: SQLite files in a temporary folder",
    )
    parser.add_argument("--sequential", type=int, default=300, help="sequential requests per app (300)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests per burst (50)")
    parser.add_argument("--rounds", type=int, default=6, help="bursts per app (6)")
    parser.add_argument("--modal", type=int, default=100, help="sequential `/sms` → views.open (100)")
    parser.add_argument("--slow-sends", type=int, default=100, help="concurrent sends with a 1 s OVH (100)")
    parser.add_argument(
        "--workers",
        default=f"32,64,{DEFAULT_WORKERS}",
        help=f"SMSBOT_SEND_WORKERS values to run the slow-OVH burst with (default: 32,64,{DEFAULT_WORKERS})",
    )
    parser.add_argument("--receivers", type=int, default=1000, help="receivers of the big send (1000)")
    parser.add_argument(
        "--process-requests", type=int, default=200, help="requests of each kind to the bot process (200)"
    )
    parser.add_argument("--child-big-send", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.database_url and not args.database_url.startswith(("postgresql", "postgres:")):
        parser.error("--database-url takes a PostgreSQL URL; without it, the run uses SQLite")
    if args.child_big_send:
        child_big_send(args.child_big_send)
        return

    # waitress warns "Task queue depth is N" whenever a burst outnumbers its threads: expected here.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    load_before = load_average()
    if load_before is not None and load_before > 0.5:
        progress(f"the machine is busy (load {load_before:.2f}): other work will show in these figures")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="smsbot-bench-") as tmp:
        folder = Path(tmp)
        fakes = Fakes()
        dbs = Databases(folder, args.database_url)
        try:
            texts = Texts()
            ack_rows, other_rows = measure_acks(fakes, dbs, args, texts)
            for workers in [int(w) for w in args.workers.split(",") if w.strip()]:
                progress(f"{args.slow_sends} concurrent sends, OVH answering in 1 s, {workers} send workers")
                other_rows.append(measure_slow_burst(fakes, dbs, workers, args.slow_sends, texts))
            progress(f"a send to {args.receivers:,} receivers")
            other_rows += measure_big_send(fakes, dbs, args.receivers)
            progress("the bot in its own process: start-up, memory, CPU per request, SIGTERM")
            other_rows += measure_process(fakes, dbs, folder, texts, args.process_requests)
        finally:
            dbs.close()
            fakes.close()

    print()
    measured = revision()
    print(
        f"smsbot benchmark, {dt.date.today().isoformat()}: `{command.strip()}`"
        + (f", {measured}" if measured else "")
    )
    loads = "" if load_before is None else f"; load average {load_before:.2f} when it began"
    print(f"Machine: {machine()}; ledger: {dbs.kind}; whole run {time.perf_counter() - began:.0f} s{loads}")
    print()
    print("\n".join(ack_table(ack_rows)))
    print()
    print("\n".join(row_table(other_rows)))


if __name__ == "__main__":
    main()
