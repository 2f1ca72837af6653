"""``python -m bench.delivery``: how gently deliveries are followed, and how fast OVH's push shows.

1. OVH reads per minute with 1,000 SMS pending, at the default settings (SMS_DELIVERY_POLL_SECONDS=30,
   SMS_OVH_READS_PER_MINUTE=30): the bot runs as deployed (``python -m bot run --http``, its own delivery
   loop) after one admin send to 1,000 numbers that stay pending at the fake OVH; every OVH call is counted
   minute by minute of wall time (``--minutes``). A second bot process on the same ledger shows the budget
   holds across instances.
2. Callback → thread: with polling set to an hour (so only the push can explain an update), each SMS is
   set delivered at the fake OVH, its callback is sent to ``/ovh/callback/<token>``, and the time until the
   fake Slack receives the ``chat.update`` of its status message is taken. Callbacks go one at a time, a
   little over a second apart (the loop runs passes at least a second apart, so a burst of pushes makes one
   pass), and the read budget is raised to 60 a minute (each push costs two reads: at the default 30, pushes
   past 15 a minute wait for the next minute). The floor is :mod:`bench.bare_app` answering a signed request (a Bolt app that only acks).

    .venv/bin/python -m bench.delivery [--minutes 3] [--callbacks 30]

It asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import requests

from bench.apps import BareProcess, BotProcess, Databases, Fakes
from bench.measure import Latencies, load_average, ms
from bench.report import machine, revision
from bench.traffic import USERS
from tests.fakes.ovh_api import PENDING, Delivery
from tests.harness import SlackSender

ADMIN = USERS[1]
TOKEN = "bench-callback-token-0123456789"  # noqa: S105 - the fakes' made-up token
DELIVERED = Delivery(receipt=1, ptt=4, sent_after=1.0, delivered_after=3.0)


def _wait(what: str, ready, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _reads(fakes: Fakes) -> int:
    return len([r for r in list(fakes.ovh.requests) if r.method == "GET" and "/sms/" in r.path])


def reads_per_minute(fakes: Fakes, folder: Path, dbs: Databases, minutes: int, pending: int) -> list[int]:
    """OVH reads in each wall-clock minute with ``pending`` SMS pending, two instances on one ledger."""
    fakes.ovh.delivery = PENDING
    database = dbs.fresh()
    with BotProcess(fakes, database, folder, SMS_ADMIN_USERS=ADMIN) as one:
        before = sum(len(job.ids) for job in fakes.ovh.jobs)
        sender = SlackSender(f"http://127.0.0.1:{one.port}")
        for start in range(1, pending + 1, 100):  # sends of 100 receivers: a command's text stays short
            numbers = ",".join(f"+346{n:08d}" for n in range(start, min(start + 100, pending + 1)))
            answer = sender.command(f"{numbers} Aviso", user_id=ADMIN)
            if answer.status != 200 or answer.body:
                raise RuntimeError(f"the send was refused: {answer.status} {answer.body[:300]}")
        _wait("the sends", lambda: sum(len(job.ids) for job in fakes.ovh.jobs) >= before + pending)
        with BotProcess(fakes, database, folder, SMS_ADMIN_USERS=ADMIN):
            counts = []
            start = _reads(fakes)
            for _ in range(minutes):
                time.sleep(60)
                now = _reads(fakes)
                counts.append(now - start)
                start = now
    return counts


def callback_latencies(fakes: Fakes, folder: Path, dbs: Databases, count: int) -> tuple[Latencies, Latencies]:
    """Callback → chat.update of the status message; and the floor, a bare Bolt app's answer."""
    fakes.ovh.delivery = PENDING
    fakes.slack.joined.add("COPS")
    pushed, floor = Latencies(), Latencies()
    with (
        BareProcess(fakes, folder) as bare,
        BotProcess(
            fakes,
            dbs.fresh(),
            folder,
            OVH_CALLBACK_TOKEN=TOKEN,
            SMS_DELIVERY_POLL_SECONDS="3600",
            # Each push costs two reads (the SMS, and the replies' list): at the default 30 a minute,
            # pushes past 15 a minute wait for the next minute's budget, which is not what is timed here.
            SMS_OVH_READS_PER_MINUTE="60",
        ) as bot,
    ):
        sender = SlackSender(f"http://127.0.0.1:{bot.port}")
        first = len(fakes.ovh.jobs)
        for index in range(count):
            sender.command(f"+3461{index:07d} Aviso {index}", user_id=USERS[0])
        _wait("the sends", lambda: len(fakes.ovh.jobs) >= first + count)
        jobs = fakes.ovh.jobs[first:]
        _wait("the status messages", lambda: len(_status_posts(fakes)) >= count)
        to_bare = SlackSender(f"http://127.0.0.1:{bare.port}")
        url = f"http://127.0.0.1:{bot.port}/ovh/callback/{TOKEN}"
        for job in jobs:
            started = time.time()
            answer = to_bare.command("+34600000001 floor", user_id=USERS[0])
            floor.samples.append(time.time() - started) if answer.status == 200 else None
            [sms_id] = job.ids
            fakes.ovh.set_delivery(sms_id, DELIVERED)
            before = len(fakes.slack.calls)
            started = time.time()
            if requests.get(url, params={"id": str(sms_id), "ptt": "4"}, timeout=5).status_code != 200:
                pushed.errors += 1
                continue
            updated = _updated_after(fakes, before, started)
            if updated is None:
                pushed.errors += 1
            else:
                pushed.samples.append(updated - started)
            time.sleep(2.2)  # one push at a time, within the 60 reads a minute set above
    return pushed, floor


def _status_posts(fakes: Fakes) -> list:
    return [
        c
        for c in list(fakes.slack.calls)
        if c.method == "chat.postMessage" and "smsbot_delivery_status" in str(c.params.get("metadata"))
    ]


def _updated_after(fakes: Fakes, before: int, started: float, timeout: float = 10.0) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in list(fakes.slack.calls)[before:]:
            if call.method == "chat.update" and "1 of 1 delivered" in str(call.params.get("text")):
                return call.at
        time.sleep(0.0005)
    return None


def main(argv: list[str] | None = None) -> None:
    """Measure and print tables fit for docs/performance.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=3, help="wall-clock minutes of reads counted (3)")
    parser.add_argument("--pending", type=int, default=1000, help="SMS pending at the fake OVH (1000)")
    parser.add_argument("--callbacks", type=int, default=30, help="callbacks measured one at a time (30)")
    args = parser.parse_args(argv)
    fakes = Fakes()
    with tempfile.TemporaryDirectory(prefix="smsbot-bench-delivery-") as tmp:
        folder = Path(tmp)
        dbs = Databases(folder, None)
        try:
            pushed, floor = callback_latencies(fakes, folder, dbs, args.callbacks)
            counts = reads_per_minute(fakes, folder, dbs, args.minutes, args.pending)
        finally:
            dbs.close()
            fakes.close()
    print(f"{machine()}; {revision()}; load average {load_average()}")
    print(
        f"\nOVH reads per minute, {args.pending:,} SMS pending, default settings, two instances on one SQLite ledger\n"
    )
    print("| minute | " + " | ".join(str(n + 1) for n in range(len(counts))) + " |")
    print("|---|" + "---|" * len(counts))
    print("| reads | " + " | ".join(str(c) for c in counts) + " |")
    print(
        f"\nOVH callback → status message updated (chat.update at the fake Slack), {args.callbacks} one at a time\n"
    )
    print("| what | p50 | p99 | max | errors |")
    print("|---|---|---|---|---|")
    for label, latencies in (
        ("floor: bare Bolt app answering a signed request", floor),
        ("callback → thread updated", pushed),
    ):
        print(
            f"| {label} | {ms(latencies.p50)} | {ms(latencies.p99)} | {ms(latencies.max)} | {latencies.errors} |"
        )


if __name__ == "__main__":
    main()
