"""The ledger as a file for the monthly cost report: one row per send, CSV or JSON.

`smsbot export` writes it to the terminal; admins get the same CSV in Slack from `/sms history`. Receivers
are masked unless asked otherwise (``full_numbers``); a send whose text and numbers retention erased shows
its counts, credits and status, with ``erased`` set.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from bot.domain.receivers import mask
from bot.domain.records import SendRecord
from bot.domain.sms_text import measure

COLUMNS = (
    "id",
    "created_at",
    "user_id",
    "channel_id",
    "source",
    "receivers",
    "receiver_count",
    "accepted",
    "rejected",
    "parts",
    "credits_estimated",
    "credits_used",
    "status",
    "error_code",
    "ovh_job_ids",
    "sender",
    "simulated",
    "erased",
)
FORMATS = ("csv", "json")


def is_erased(record: SendRecord) -> bool:
    """Whether retention erased this send's text and numbers (a send always has a text otherwise)."""
    return record.message == ""


def export_row(
    record: SendRecord, *, full_numbers: bool = False, stop_clause: bool = False
) -> dict[str, Any]:
    """One send as a row of :data:`COLUMNS`; JSON-ready values (lists and None stay as they are)."""
    erased = is_erased(record)
    receivers = (
        record.receivers if full_numbers else [mask(n) if "*" not in n else n for n in record.receivers]
    )
    return {
        "id": record.id,
        "created_at": record.created_at.isoformat(),
        "user_id": record.user_id,
        "channel_id": record.channel_id,
        "source": record.source,
        "receivers": receivers,
        "receiver_count": record.receiver_count,
        "accepted": len(record.accepted_receivers),
        "rejected": len(record.rejected_receivers),
        # The parts are counted from the text; once it is erased, they are unknown (the credits stay).
        "parts": None if erased else measure(record.message, stop_clause=stop_clause).parts,
        "credits_estimated": record.estimated_credits,
        "credits_used": record.credits_used,
        "status": str(record.status),
        "error_code": record.error_code,
        "ovh_job_ids": list(record.ovh_job_ids),
        "sender": record.sender,
        "simulated": record.simulated,
        "erased": erased,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


# Numbers, masked numbers and amounts: a spreadsheet may compute them, but no function hides in them.
_PLAIN = re.compile(r"[0-9+*.\s-]*")


def _safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet (CSV injection: `=HYPERLINK(…)` in a user
    # id or an error text). One that could call a function is quoted as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _PLAIN.fullmatch(text) else text


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The rows as CSV text, header first, a chunk per row (for the terminal or a file)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_safe(_cell(row[column])) for column in COLUMNS])
        yield buffer.getvalue()


def json_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The rows as one JSON array, a chunk per row (never the whole ledger in memory at once)."""
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n  " + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"


def render(rows: Iterable[dict[str, Any]], fmt: str) -> Iterator[str]:
    """The rows in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    return csv_lines(rows) if fmt == "csv" else json_lines(rows)


def parse_day(text: str) -> datetime:
    """A date (``2026-11-01``) or date-time (``2026-11-01T08:00``, with a zone or read as UTC); raises
    ValueError saying what is expected."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"`{text}` is not a date: write it as 2026-11-01 (or 2026-11-01T08:00, in UTC)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
