"""Where a send's CPU goes, phase by phase: ``python -m bench.profile`` (about 20 s).

The bot runs as deployed (``python -m bot run --http``, in a process of its own) with a sampler thread in
it. Every few milliseconds the sampler reads each thread's own CPU clock and charges the CPU the thread
used since the last look to what that thread is doing now: the innermost frame of its stack that belongs
to a phase (a SQLAlchemy call inside the ledger is "ledger", a log line written from inside it is
"logging"). Frames of the standard library belong to their caller's phase. It is a statistical profile:
its figures are CPU milliseconds per send, and they add up to the process's CPU over the same sends,
which the bench reads from /proc to show how much the sampler saw.

The traffic is the ack benchmark's: bursts of fifty valid `/sms` sends, OVH answering each in 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType

import sqlalchemy as sa

from bench.apps import AppProcess, Fakes, wait_settled
from bench.measure import free_port, progress
from bench.traffic import Texts, run_burst

# The phase of a frame, by its module: the first prefix that matches, tried on the innermost frame first.
PHASES: tuple[tuple[str, str], ...] = (
    ("logging", "logging"),
    ("bot.logs", "logging"),
    ("slack_sdk.signature", "signature check"),
    ("bot.slack.blocks", "Block Kit"),
    ("bot.slack.audit", "Slack Web API calls (audit, views)"),
    ("bot.slack.client", "Slack Web API calls (audit, views)"),
    ("slack_sdk", "Slack Web API calls (audit, views)"),
    ("bot.ovh", "OVH client (signing, HTTP)"),
    ("ovh", "OVH client (signing, HTTP)"),
    ("requests", "OVH client (signing, HTTP)"),
    ("urllib3", "OVH client (signing, HTTP)"),
    ("bot.storage", "ledger (SQL)"),
    ("sqlalchemy", "ledger (SQL)"),
    ("sqlite3", "ledger (SQL)"),
    ("psycopg", "ledger (SQL)"),
    ("bot.domain.receivers", "parsing (numbers, text)"),
    ("bot.domain.sms_text", "parsing (numbers, text)"),
    ("phonenumbers", "parsing (numbers, text)"),
    ("bot.domain.access", "access, destinations, limits"),
    ("bot.domain.destinations", "access, destinations, limits"),
    ("bot.domain.limits", "access, destinations, limits"),
    ("bot.server", "HTTP server (waitress, reading the request)"),
    ("waitress", "HTTP server (waitress, reading the request)"),
    ("slack_bolt", "Bolt dispatch (middleware, listener runner, ack)"),
    ("bot", "the bot's own code (listeners, use case, records)"),
)
OUTSIDE = "other (thread start, standard library alone)"
THREAD_KINDS = (
    ("waitress", "HTTP threads (until the ack)"),
    ("smsbot-listener", "listener threads"),
    ("smsbot-send", "send workers (after the ack)"),
)


def phase_of(module: str) -> str | None:
    for prefix, phase in PHASES:
        if module == prefix or module.startswith(prefix + "."):
            return phase
    return None


def _classify(frame: FrameType | None) -> tuple[str, str]:
    """The phase of a stack, and the function it was in (``module:function``)."""
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        phase = phase_of(module)
        if phase is not None:
            return phase, f"{module}:{frame.f_code.co_name}"
        frame = frame.f_back
    return OUTSIDE, ""


def _kind(thread: threading.Thread) -> str:
    for prefix, kind in THREAD_KINDS:
        if thread.name.startswith(prefix):
            return kind
    return "other threads"


class CpuSampler(threading.Thread):
    """Charges each thread's CPU time to what it is doing, every ``interval`` seconds."""

    def __init__(self, interval: float = 0.001) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self.interval = interval
        self._lock = threading.Lock()
        self._last: dict[int, int] = {}
        self.reset()

    def reset(self) -> None:
        """Forget what was counted (after the warm-up)."""
        with self._lock:
            self._own_start = time.thread_time_ns() if self.is_alive() else 0
            self.phases: Counter[str] = Counter()
            self.functions: Counter[str] = Counter()
            self.kinds: Counter[str] = Counter()

    def run(self) -> None:
        self._own_start = time.thread_time_ns()
        while True:
            time.sleep(self.interval)
            frames = sys._current_frames()
            with self._lock:
                for thread in threading.enumerate():
                    if thread is self or thread.ident is None:
                        continue
                    try:
                        now = time.clock_gettime_ns(time.pthread_getcpuclockid(thread.ident))
                    except (OSError, AttributeError):
                        continue
                    used = now - self._last.get(thread.ident, now)
                    self._last[thread.ident] = now
                    if used <= 0:
                        continue
                    phase, function = _classify(frames.get(thread.ident))
                    self.phases[phase] += used
                    self.functions[f"{phase} | {function}"] += used
                    self.kinds[_kind(thread)] += used
                self.own = time.thread_time_ns() - self._own_start

    def dump(self, path: str) -> None:
        with self._lock:
            data = {
                "phases": self.phases,
                "functions": self.functions,
                "kinds": self.kinds,
                "sampler": getattr(self, "own", 0),
            }
            Path(path).write_text(json.dumps(data))


def serve(port: int, out: str) -> None:
    """The child: the bot's own `run --http`, with the sampler; SIGUSR1 resets it, exit writes ``out``."""
    # Python lets a thread hold the interpreter 5 ms before it must let another run: the sampler would
    # mostly see threads where they release it by themselves (I/O), and charge their Python work before it
    # to that I/O. Switching every 0.2 ms spreads its looks over whatever the threads run.
    sys.setswitchinterval(0.0002)
    sampler = CpuSampler()
    sampler.start()
    signal.signal(signal.SIGUSR1, lambda *_: sampler.reset())
    from bot.cli import main

    try:
        main(["run", "--http", "--host", "127.0.0.1", "--port", str(port)])
    finally:
        sampler.dump(out)


def measure(sends: int, concurrency: int, ovh_delay: float) -> None:
    """The parent: the fakes, the traffic, then the table."""
    texts = Texts()
    with tempfile.TemporaryDirectory(prefix="smsbot-profile-") as tmp:
        folder = Path(tmp)
        fakes = Fakes()
        database_url = f"sqlite:///{folder / 'profile.db'}"
        engine = sa.create_engine(database_url)
        out = folder / "profile.json"
        port = free_port()
        command = [sys.executable, "-m", "bench.profile", "--serve", str(port), "--out", str(out)]
        try:
            fakes.ovh.delay = ovh_delay
            bot = AppProcess(command, fakes.env(database_url, LOG_LEVEL="INFO"), folder, port)
            try:
                with ThreadPoolExecutor(max_workers=concurrency) as pool:
                    progress("warm-up")
                    run_burst(port, texts.send, concurrency, pool)
                    wait_settled(engine, concurrency)
                    bot.process.send_signal(signal.SIGUSR1)
                    time.sleep(0.2)
                    cpu_before = bot.cpu_seconds
                    done = concurrency
                    progress(f"{sends} sends, {concurrency} at a time, OVH answering in {ovh_delay:g} s")
                    while done < concurrency + sends:
                        run_burst(port, texts.send, concurrency, pool)
                        done += concurrency
                        wait_settled(engine, done)
                    cpu = bot.cpu_seconds - cpu_before
                bot.stop()
            finally:
                bot.kill()
            if not out.exists():
                raise RuntimeError(f"the profiled bot wrote no profile:\n{bot.output()}")
            data = json.loads(out.read_text())
        finally:
            engine.dispose()
            fakes.close()
    measured = done - concurrency
    report(data, measured, cpu)


def report(data: dict[str, dict[str, int]], sends: int, process_cpu: float) -> None:
    """Print CPU per send by phase, by thread kind, and the costliest functions."""
    total = sum(data["phases"].values())

    def per_send(ns: int) -> str:
        return f"{ns / sends / 1e6:.2f} ms"

    print(
        f"\nCPU per send, {sends} sends: {process_cpu / sends * 1000:.2f} ms for the whole process (/proc), "
        f"of which {per_send(total)} seen by the sampler and {per_send(data['sampler'])} the sampler's own.\n"
    )
    print("| phase | CPU per send | share |\n|---|---|---|")
    for phase, ns in sorted(data["phases"].items(), key=lambda item: -item[1]):
        print(f"| {phase} | {per_send(ns)} | {ns / total:.0%} |")
    print("\n| threads | CPU per send | share |\n|---|---|---|")
    for kind, ns in sorted(data["kinds"].items(), key=lambda item: -item[1]):
        print(f"| {kind} | {per_send(ns)} | {ns / total:.0%} |")
    print("\nCostliest places (innermost frame of the phase):")
    for function, ns in sorted(data["functions"].items(), key=lambda item: -item[1])[:30]:
        print(f"  {per_send(ns):>9}  {function}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=300, help="sends measured, after a warm-up (300)")
    parser.add_argument("--concurrency", type=int, default=50, help="sends per burst (50)")
    parser.add_argument("--ovh-delay", type=float, default=0.3, help="OVH's answer time (0.3 s)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.out)
    else:
        measure(args.sends, args.concurrency, args.ovh_delay)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
