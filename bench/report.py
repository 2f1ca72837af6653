"""The report: what was measured, on what, and the tables with their targets."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.measure import Latencies, ms

ROOT = Path(__file__).absolute().parent.parent
ACK_RATIO_TARGET = 1.5  # at 50 concurrent sends, p99 against the bare app's
ACK_RATIO_SEQUENTIAL_TARGET = 1.2  # one at a time
ACK_P99_TARGET = 0.100


@dataclass
class AckRow:
    """Ack latencies of one app in one scenario, and the bare app's in the same scenario (the floor)."""

    label: str
    latencies: Latencies
    floor: Latencies | None = None
    ratio_target: float = ACK_RATIO_TARGET


@dataclass
class Row:
    """Any other figure, with its target and whether it was met."""

    label: str
    figure: str
    target: str = ""
    verdict: str = ""


def met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def ack_table(rows: list[AckRow]) -> list[str]:
    """Markdown: p50, p99, max, and the ratios to the bare app."""
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
            ok = r99 <= row.ratio_target and lat.p99 < ACK_P99_TARGET and not lat.errors
            target = f"p99 ≤ {row.ratio_target}x and < {ms(ACK_P99_TARGET)}: {met(ok)}"
        label = row.label + (f" ({lat.errors} not 200)" if lat.errors else "")
        lines.append(f"| {label} | {ms(lat.p50)} | {ms(lat.p99)} | {ms(lat.max)} | {ratio} | {target} |")
    return lines


def row_table(rows: list[Row]) -> list[str]:
    """Markdown: one measurement a line."""
    lines = ["| measurement | figure | target |", "|---|---|---|"]
    for row in rows:
        target = f"{row.target}: {row.verdict}" if row.verdict else row.target
        lines.append(f"| {row.label} | {row.figure} | {target} |")
    return lines


def machine() -> str:
    """Cores, CPU model, memory, OS and Python."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 2**20:.0f} GiB RAM"
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
