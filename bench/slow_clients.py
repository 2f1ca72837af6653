"""HTTP mode's edge: acks while slow clients hold connections open, and peak memory under huge bodies.

``python -m bench.slow_clients`` starts the bot (``python -m bot run --http``, as deployed) against the fake
Slack and OVH, and prints a table:
- ack times of valid signed ``/sms`` sends, one at a time, with 0, 200 and 800 connections held open by
  clients that send their request headers one line a second (a slowloris), and whether ``/health`` answers;
- the process's peak memory (``VmHWM``) before and after ten concurrent 50 MB bodies, five announced by
  their Content-Length and five chunked.
Talks to 127.0.0.1 only; every connection it opens it closes.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import select
import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.apps import BotProcess, Fakes
from bench.measure import Latencies, ms, proc_status
from bench.traffic import Texts, post, slash_command

HUGE = 50 * 1024 * 1024
PIECE = b"a" * 65536


class SlowClients:
    """``count`` connections that each send a request's headers one line every ``every`` seconds."""

    def __init__(self, port: int, count: int, every: float = 1.0) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        for sock in self.sockets:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self._stop = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        line = 0
        while not self._stop.wait(self._every):
            line += 1
            for sock in self.sockets:
                with contextlib.suppress(OSError):  # closed by the server: that is what is measured
                    sock.sendall(b"X-Slow-%d: 1\r\n" % line)

    def open(self) -> int:
        """How many the server has not closed (a closed one reads as ready, at its end)."""
        poller = select.poll()  # not select(): it stops at descriptor 1,024
        for sock in self.sockets:
            poller.register(sock, select.POLLIN)
        return len(self.sockets) - len(poller.poll(0))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.sockets:
            sock.close()


def health(port: int) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/health")
        status = conn.getresponse().status
    finally:
        conn.close()
    return status, time.perf_counter() - started


def acks_with_slow_clients(bot: BotProcess, texts: Texts, count: int, sends: int) -> str:
    opened = time.perf_counter()
    clients = SlowClients(bot.port, count) if count else None
    try:
        time.sleep(1.5)  # they have all sent a line or two more: each is a request in progress
        acks = Latencies()
        for _ in range(sends):
            started = time.perf_counter()
            try:
                sample = post(bot.port, slash_command(texts.send()))
            except OSError:  # no answer within 30 s
                acks.samples.append(time.perf_counter() - started)
                acks.errors += 1
                continue
            acks.samples.append(sample.elapsed)
            acks.errors += sample.status != 200
        try:
            status, seconds = health(bot.port)
        except OSError:
            status, seconds = 0, 30.0
        held = clients.open() if clients else 0
        closed_after = "not within 30 s" if clients else "n/a"
        while clients and time.perf_counter() - opened < 30:
            if clients.open() == 0:
                closed_after = f"{time.perf_counter() - opened:.1f} s"
                break
            time.sleep(0.1)
    finally:
        if clients:
            clients.close()
    return (
        f"| {count} | {held} | {sends - acks.errors}/{sends} | {ms(acks.p50)} | {ms(acks.max)} "
        f"| {status} in {ms(seconds)} | {closed_after} |"
    )


def post_huge(port: int, chunked: bool) -> int:
    """Send a 50 MB body as fast as the server takes it; the body bytes it took before it answered."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUGE}"
        sock.sendall(f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n{length}\r\n\r\n".encode())
        try:
            while sent < HUGE and not select.select([sock], [], [], 0)[0]:
                sock.sendall(b"%x\r\n%s\r\n" % (len(PIECE), PIECE) if chunked else PIECE)
                sent += len(PIECE)
        except OSError:
            pass
    return sent


def peak_memory(bot: BotProcess) -> str:
    before = proc_status(bot.process.pid)["VmHWM"]
    with ThreadPoolExecutor(max_workers=10) as pool:
        sent = list(pool.map(lambda i: post_huge(bot.port, chunked=i % 2 == 0), range(10)))
    after = proc_status(bot.process.pid)["VmHWM"]
    return (
        f"peak RSS (VmHWM) {before / 2**20:.0f} MB before, +{(after - before) / 2**20:.1f} MB after ten "
        f"concurrent 50 MB bodies; the server stopped taking each after {min(sent) / 2**20:.1f} to "
        f"{max(sent) / 2**20:.1f} MB had been sent (kernel buffers included)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, nargs="+", default=[0, 200, 800])
    parser.add_argument("--sends", type=int, default=20)
    args = parser.parse_args(argv)
    fakes = Fakes()
    texts = Texts()
    try:
        with (
            tempfile.TemporaryDirectory() as folder,
            BotProcess(fakes, f"sqlite:///{folder}/bench.db", Path(folder)) as bot,
        ):
            print(
                "| slow connections | still open after the sends | acks 200 | ack p50 | ack max | /health "
                "| all closed by the server after |"
            )
            print("|---|---|---|---|---|---|---|")
            for count in args.connections:
                print(acks_with_slow_clients(bot, texts, count, args.sends), flush=True)
            print(peak_memory(bot))
    finally:
        fakes.close()


if __name__ == "__main__":
    main()
