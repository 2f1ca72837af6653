"""``make bench``: every measurement, then the report. ``python -m bench.run --help`` for the sizes.

    .venv/bin/python -m bench.run                      # SQLite in a temporary folder
    .venv/bin/python -m bench.run --database-url postgresql://postgres@127.0.0.1:5432/test

It prints figures next to their targets; it asserts nothing (it exits non-zero only if it crashes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bench.apps import ROOT, Databases, Fakes
from bench.big_send import measure_big_send
from bench.keystrokes import measure_keystrokes
from bench.measure import load_average, progress
from bench.report import ack_table, machine, revision, row_table
from bench.scenarios import DEFAULT_WORKERS, AckSizes, measure_acks, measure_process, measure_slow_burst
from bench.traffic import Texts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to run on (scratch databases are created there and dropped); "
        "default: SQLite files in a temporary folder",
    )
    parser.add_argument("--sequential", type=int, default=200, help="requests one at a time per app (200)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests per burst (50)")
    parser.add_argument("--rounds", type=int, default=6, help="bursts per app (6)")
    parser.add_argument("--ovh-delay", type=float, default=0.3, help="OVH's answer time during acks (0.3 s)")
    parser.add_argument("--modal", type=int, default=100, help="`/sms` → views.open one at a time (100)")
    parser.add_argument("--slow-sends", type=int, default=100, help="concurrent sends with a 1 s OVH (100)")
    parser.add_argument(
        "--workers",
        default=str(DEFAULT_WORKERS),
        help=f"SMSBOT_SEND_WORKERS values for the slow-OVH burst, comma-separated ({DEFAULT_WORKERS})",
    )
    parser.add_argument("--receivers", type=int, default=1000, help="receivers of the big send (1000)")
    parser.add_argument(
        "--process-requests", type=int, default=200, help="requests of each kind for CPU per request (200)"
    )
    parser.add_argument("--keystrokes", type=int, default=200, help="form keystrokes → views.update (200)")
    parser.add_argument("--only-acks", action="store_true", help="measure the acks only (a quick look)")
    parser.add_argument(
        "--only-keystrokes", action="store_true", help="measure the form's live summary only (a quick look)"
    )
    parser.add_argument(
        "--baseline",
        help="another version of the bot to measure in the same run: a git revision (main, HEAD~3...) or "
        "the root of a checkout; its valid sends take turns with the others",
    )
    args = parser.parse_args(argv)
    if args.database_url and not args.database_url.startswith(("postgresql", "postgres:")):
        parser.error("--database-url takes a PostgreSQL URL; without it, the run uses SQLite")
    return args


def checkout(revision: str, folder: Path) -> Path:
    """The root of a checkout of ``revision``'s ``bot`` package (a folder given as is)."""
    if Path(revision, "bot").is_dir():
        return Path(revision).absolute()
    git = shutil.which("git")
    if git is None:
        raise SystemExit("--baseline takes a folder here: git is not installed")
    archive = subprocess.run(  # noqa: S603 - git, read-only, fixed arguments
        [git, "archive", revision, "bot"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    root = folder / "baseline"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    return root


def main(argv: list[str] | None = None) -> None:
    """Measure, then print the report."""
    args = parse_args(argv)
    # waitress warns "Task queue depth is N" whenever a burst outnumbers its threads: expected here.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    load_before = load_average()
    if load_before is not None and load_before > 0.5:
        progress(f"the machine is busy (load {load_before:.2f}): other work will show in these figures")
    began = time.perf_counter()
    sizes = AckSizes(args.sequential, args.concurrency, args.rounds, args.ovh_delay, args.modal)
    with tempfile.TemporaryDirectory(prefix="smsbot-bench-") as tmp:
        folder = Path(tmp)
        fakes = Fakes()
        dbs = Databases(folder, args.database_url)
        try:
            texts = Texts()
            baseline = (args.baseline, checkout(args.baseline, folder)) if args.baseline else None
            ack_rows, other_rows = [], []
            if not args.only_keystrokes:
                ack_rows, other_rows = measure_acks(fakes, dbs, folder, sizes, texts, baseline)
            if not args.only_acks:
                progress(f"{args.keystrokes} keystrokes in the form, one at a time")
                other_rows += measure_keystrokes(fakes, dbs, folder, args.keystrokes)
            if not (args.only_acks or args.only_keystrokes):
                for workers in [int(w) for w in args.workers.split(",") if w.strip()]:
                    progress(
                        f"{args.slow_sends} concurrent sends, OVH answering in 1 s, {workers} send workers"
                    )
                    for version in (None, baseline) if baseline else (None,):
                        other_rows.append(
                            measure_slow_burst(
                                fakes, dbs, folder, workers, args.slow_sends, texts, baseline=version
                            )
                        )
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
    if ack_rows:
        print("\n".join(ack_table(ack_rows)))
        print()
    print("\n".join(row_table(other_rows)))


if __name__ == "__main__":
    main()
