"""A send to 1,000 receivers, in a fresh process of its own so that its memory is the bot's alone.

The bench runs ``python -m bench.big_send N`` with the bot's environment; it prints one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc

from bench.apps import ROOT, Databases, Fakes
from bench.measure import mib, proc_status, reset_peak_rss
from bench.report import Row, met
from bench.traffic import CHANNELS, USERS
from bot.settings import Mode, load_settings
from tests.harness import TEAM_ID


def measure_big_send(fakes: Fakes, dbs: Databases, receivers: int) -> list[Row]:
    """Run the child process, then read what it sent from the fake OVH."""
    # The default limits allow 50 receivers per send and 100 SMS per person a day: lift them for this one.
    limits = {
        "SMS_LIMIT_RECEIVERS_PER_SEND": str(receivers),
        "SMS_LIMIT_USER_SMS_PER_DAY": "0",
        "SMS_LIMIT_CHANNEL_SMS_PER_DAY": "0",
    }
    env = {**os.environ, **fakes.env(dbs.fresh(), **limits)}
    before = len(fakes.ovh.jobs)
    out = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "bench.big_send", str(receivers)],
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


def main(count: int) -> None:
    """The child: warm up with one receiver, then send to ``count``, timed, then again under tracemalloc."""
    from bot.app import build_core
    from bot.domain.receivers import parse_receivers
    from bot.sending.service import SendRequest

    settings = load_settings(os.environ, Mode.HTTP)
    services = build_core(settings)
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
        services.sending.send_and_report(request, services.reporter)
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


if __name__ == "__main__":
    main(int(sys.argv[1]))
