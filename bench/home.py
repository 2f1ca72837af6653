"""``python -m bench.home``: `app_home_opened` → `views.publish` at the fake Slack, the bot against the floor.

The bot runs as deployed (``python -m bot run --http``) on a ledger holding the person's sends (each with its
audit thread, so the Home tab lists ten of them with their permalinks), once for a sender and once for an
admin (whose tab adds the team's use, the latest failures and the opt-out list). The floor is
:mod:`bench.bare_app`, whose listener publishes a fixed one-section tab at once. Each sample runs from the
signed event's start to the fake Slack receiving the views.publish. Events go one at a time; it asserts nothing.

    .venv/bin/python -m bench.home [--events 200] [--sends 30]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.apps import BareProcess, BotProcess, Databases, Fakes
from bench.measure import Latencies, load_average, ms
from bench.report import machine, revision
from bench.traffic import USERS
from tests.events import event_body, home_opened_event
from tests.fakes.slack_api import FakeSlack
from tests.harness import SlackSender

ADMIN = USERS[1]


def publishes(fake: FakeSlack, user_id: str) -> list[float]:
    """When each views.publish for ``user_id`` reached the fake Slack."""
    return [
        c.at for c in list(fake.calls) if c.method == "views.publish" and c.params.get("user_id") == user_id
    ]


def open_once(fakes: Fakes, sender: SlackSender, user_id: str, into: Latencies) -> None:
    """One Home-tab opening by ``user_id``: from the signed event's start to its views.publish."""
    before = len(publishes(fakes.slack, user_id))
    body = json.dumps(event_body(home_opened_event(user_id)))
    started = time.time()
    answer = sender.post(body, headers={"Content-Type": "application/json"})
    deadline = time.monotonic() + 10
    while len(published := publishes(fakes.slack, user_id)) <= before and time.monotonic() < deadline:
        time.sleep(0.0005)
    if answer.status != 200 or len(published) <= before:
        into.errors += 1
    else:
        into.samples.append(published[before] - started)


def seed(fakes: Fakes, bot: BotProcess, sends: int) -> None:
    """``sends`` sends by the measured user and the admin, each with its audit thread, one of them failed."""
    sender = SlackSender(f"http://127.0.0.1:{bot.port}")
    fakes.slack.joined.add("COPS")
    for user in (USERS[0], ADMIN, USERS[2]):  # members of the workspace, with a locale, as in real life
        fakes.slack.users[user] = {"locale": "en-US"}
    for index in range(sends):
        user = USERS[0] if index % 3 else ADMIN
        sender.command(f"+3460000{index:04d} Aviso número {index}", user_id=user)
    fakes.ovh.fail_next(400, message="Invalid sender", method="POST")
    sender.command("+34600009999 this one fails", user_id=USERS[0])
    deadline = time.monotonic() + 60
    while len([c for c in fakes.slack.calls_to("chat.postMessage") if c.get("thread_ts")]) < sends + 1:
        if time.monotonic() > deadline:
            raise RuntimeError("the seeded sends were not all reported")
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    """Measure and print a table fit for docs/performance.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.home", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200, help="openings per app and person (200)")
    parser.add_argument("--sends", type=int, default=30, help="sends in the ledger before measuring (30)")
    args = parser.parse_args(argv)
    fakes = Fakes()
    floor, sender, admin = Latencies(), Latencies(), Latencies()
    with tempfile.TemporaryDirectory(prefix="smsbot-bench-home-") as tmp:
        folder = Path(tmp)
        dbs = Databases(folder, None)
        try:
            with (
                BareProcess(fakes, folder) as bare,
                BotProcess(fakes, dbs.fresh(), folder, SMS_ADMIN_USERS=ADMIN) as bot,
            ):
                seed(fakes, bot, args.sends)
                to_bare = SlackSender(f"http://127.0.0.1:{bare.port}")
                to_bot = SlackSender(f"http://127.0.0.1:{bot.port}")
                # Turn by turn, so that other work on the machine weighs on the floor and the bot alike.
                for _ in range(args.events):
                    open_once(fakes, to_bare, USERS[2], floor)
                    open_once(fakes, to_bot, USERS[0], sender)
                    open_once(fakes, to_bot, ADMIN, admin)
        finally:
            dbs.close()
            fakes.close()
    rows = [
        ("floor: bare Bolt app, a fixed one-section tab", floor),
        ("smsbot, a sender (10 latest sends with links)", sender),
        ("smsbot, an admin (+ team use, failures, opt-outs)", admin),
    ]
    print(f"{machine()}; {revision()}; load average {load_average()}")
    print(
        f"`app_home_opened` → views.publish at the fake Slack, {args.events} events one at a time, SQLite\n"
    )
    print("| app | p50 | p99 | max | x floor (p50 / p99) | errors |")
    print("|---|---|---|---|---|---|")
    for label, latencies in rows:
        ratio = (
            f"{latencies.p50 / floor.p50:.2f}x / {latencies.p99 / floor.p99:.2f}x"
            if latencies is not floor
            else ""
        )
        figures = f"{ms(latencies.p50)} | {ms(latencies.p99)} | {ms(latencies.max)}"
        print(f"| {label} | {figures} | {ratio} | {latencies.errors} |")


if __name__ == "__main__":
    main()
