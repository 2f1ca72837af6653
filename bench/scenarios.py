"""Each measurement: what it does, and the rows it adds to the report."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bench.apps import ROOT, BareProcess, BotProcess, Databases, Fakes, settled, wait_settled
from bench.measure import Latencies, mib, ms, progress
from bench.report import ACK_RATIO_SEQUENTIAL_TARGET, AckRow, Row, met
from bench.traffic import Sample, Texts, add, post, run_burst, run_sequential, slash_command
from tests.fakes.slack_api import FakeSlack

MODAL_P99_TARGET = 0.100
SLOW_BURST_TARGET = 3.0
DEFAULT_WORKERS = 100  # the bot's own default (bot/settings.py)


@dataclass(frozen=True)
class AckSizes:
    sequential: int  # requests per app, one at a time
    concurrency: int  # requests per burst
    rounds: int  # bursts per app
    ovh_delay: float  # seconds OVH takes to answer each job
    modal: int  # sequential `/sms` → views.open


def measure_acks(
    fakes: Fakes,
    dbs: Databases,
    folder: Path,
    sizes: AckSizes,
    texts: Texts,
    baseline: tuple[str, Path] | None = None,
) -> tuple[list[AckRow], list[Row]]:
    """Ack latency of the bare app and of the bot (help and valid sends), side by side.

    The apps take turns, request by request one at a time, burst by burst fifty at once, so that whatever
    else runs on the machine meanwhile weighs on all alike. Valid sends are real sends: OVH answers each
    after ``ovh_delay``, and their work after the ack (ledger, OVH, the audit thread) runs in the bot's
    process while the next acks are answered; each burst of sends settles before the next round. With
    ``baseline`` (a name, and another checkout's root), that bot's valid sends take their turns too.
    """
    fakes.ovh.delay = sizes.ovh_delay
    issued: Counter[str] = Counter()
    n, c, r = sizes.sequential, sizes.concurrency, sizes.rounds
    with contextlib.ExitStack() as stack:
        bare = stack.enter_context(BareProcess(fakes, folder))
        bots = {"send": stack.enter_context(BotProcess(fakes, dbs.fresh(), folder))}
        if baseline is not None:
            bots["baseline"] = stack.enter_context(BotProcess(fakes, dbs.fresh(), folder, root=baseline[1]))
        engines = {key: sa.create_engine(bot.database_url) for key, bot in bots.items()}
        stack.callback(lambda: [engine.dispose() for engine in engines.values()])
        stack.callback(lambda: setattr(fakes.ovh, "delay", 0.0))

        def send_to(key: str) -> Callable[[], str]:
            def text() -> str:
                issued[key] += 1
                return texts.send()

            return text

        def settle() -> None:
            for key, engine in engines.items():
                wait_settled(engine, issued[key])

        # Who takes a turn, in order: (row key, port, texts).
        turns = [("bare", bare.port, texts.help), ("help", bots["send"].port, texts.help)]
        turns += [(key, bot.port, send_to(key)) for key, bot in bots.items()]
        for _ in range(30):  # warm-up: imports, first connections, caches
            for _key, port, text in turns:
                post(port, slash_command(text()))
        settle()

        progress(f"ack latency: {n} requests one at a time per app, taking turns")
        seq = {key: Latencies() for key, _, _ in turns}
        for _ in range(n):
            for key, port, text in turns:
                add(seq[key], [post(port, slash_command(text()))])
        settle()

        progress(f"ack latency: {c} concurrent requests x {r} rounds per app, taking turns")
        con = {key: Latencies() for key, _, _ in turns}
        cpu = 0.0
        with ThreadPoolExecutor(max_workers=c, thread_name_prefix="bench-client") as pool:
            for _ in range(r):
                for key, port, text in turns:
                    before = bots["send"].cpu_seconds
                    add(con[key], run_burst(port, text, c, pool))
                    settle()
                    if key == "send":
                        cpu += bots["send"].cpu_seconds - before
        names = {
            "help": "smsbot `/sms help`",
            "send": "smsbot valid send",
            "baseline": f"valid send, smsbot at {baseline[0] if baseline else ''}",
        }
        rows = [AckRow(f"one at a time ({n}): bare Bolt app", seq["bare"])]
        rows += [
            AckRow(f"one at a time: {names[key]}", seq[key], seq["bare"], ACK_RATIO_SEQUENTIAL_TARGET)
            for key, _, _ in turns[1:]
        ]
        rows.append(AckRow(f"{c} concurrent x {r}: bare Bolt app", con["bare"]))
        rows += [AckRow(f"{c} concurrent: {names[key]}", con[key], con["bare"]) for key, _, _ in turns[1:]]
        progress("`/sms` alone → views.open")
        fakes.ovh.delay = 0.0
        others = [
            Row(
                f"bot CPU per send in those bursts (ack, ledger, OVH at {sizes.ovh_delay:g} s, audit "
                "thread; all threads)",
                f"{ms(cpu / (c * r))}",
            ),
            *measure_modal(fakes, bots["send"], sizes.modal, c, max(1, r // 2), texts),
        ]
        return rows, others


def measure_modal(
    fakes: Fakes, bot: BotProcess, count: int, concurrency: int, rounds: int, texts: Texts
) -> list[Row]:
    """`/sms` alone opens the form: from the request's start to the fake Slack receiving views.open."""
    one_by_one = run_sequential(bot.port, texts.modal, count)
    bursts: list[Sample] = []
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bench-client") as pool:
        for _ in range(rounds):
            bursts += run_burst(bot.port, texts.modal, concurrency, pool)
    rows = []
    for label, samples in (
        (f"`/sms` → views.open at the fake Slack, one at a time ({count})", one_by_one),
        (f"`/sms` → views.open, {concurrency} concurrent x {rounds}", bursts),
    ):
        delays = views_open_delays(fakes.slack, samples)
        ok = delays.p99 < MODAL_P99_TARGET and not delays.errors
        figure = f"p50 {ms(delays.p50)}, p99 {ms(delays.p99)}, max {ms(delays.max)}"
        if delays.errors:
            figure += f" ({delays.errors} never opened)"
        rows.append(Row(label, figure, f"p99 < {ms(MODAL_P99_TARGET)}", met(ok)))
    return rows


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


def measure_slow_burst(
    fakes: Fakes,
    dbs: Databases,
    folder: Path,
    workers: int,
    count: int,
    texts: Texts,
    *,
    repeats: int = 2,
    baseline: tuple[str, Path] | None = None,
) -> Row:
    """``count`` sends at once while OVH takes 1 s per job: time until all are settled and audited.

    ``repeats`` measured bursts; with ``baseline``, the bot at ``baseline`` takes the same bursts
    (``"name", root``), after this one's.
    """
    database_url = dbs.fresh()
    engine = sa.create_engine(database_url)
    root = ROOT if baseline is None else baseline[1]
    totals, acks = [], Latencies()
    try:
        with (
            BotProcess(fakes, database_url, folder, root=root, SMSBOT_SEND_WORKERS=str(workers)) as bot,
            ThreadPoolExecutor(max_workers=count, thread_name_prefix="bench-burst") as pool,
        ):
            # A burst at full speed first, so that the worker threads and their connections exist, as
            # in a bot that has been running for a while; then the measured bursts against a slow OVH.
            run_burst(bot.port, texts.send, count, pool)
            wait_settled(engine, count)
            for repeat in range(1, repeats + 1):
                fakes.ovh.delay = 1.0
                started = time.perf_counter()
                add(acks, run_burst(bot.port, texts.send, count, pool))
                totals.append(wait_settled(engine, (repeat + 1) * count, poll=0.005) - started)
    finally:
        fakes.ovh.delay = 0.0
        engine.dispose()
    figure = ", ".join(f"{total:.2f} s" for total in totals)
    figure += f"; acks p50 {ms(acks.p50)}, p99 {ms(acks.p99)}, max {ms(acks.max)}"
    if acks.errors:
        figure += f"; {acks.errors} acks failed"
    default = " (default)" if workers == DEFAULT_WORKERS else ""
    who = "" if baseline is None else f", smsbot at {baseline[0]}"
    return Row(
        f"{count} concurrent sends, OVH answering in 1 s, SMSBOT_SEND_WORKERS={workers}{default}{who}: "
        f"all settled in the ledger and audited ({repeats} bursts)",
        figure,
        f"< {SLOW_BURST_TARGET:g} s, acks < 3 s",
        met(max(totals) < SLOW_BURST_TARGET and acks.max < 3 and not acks.errors),
    )


def measure_process(fakes: Fakes, dbs: Databases, folder: Path, texts: Texts, requests: int) -> list[Row]:
    """Start-up, idle memory, CPU per request (OVH answering at once) and SIGTERM of the bot."""
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
