"""Logging set-up for every `smsbot` command: readable text, or one JSON object per line for collectors.

Our own log lines never hold a secret or a whole phone number (numbers go through
:func:`bot.domain.receivers.mask`). Libraries are another matter: at DEBUG, slack_sdk logs the bodies of Web API
calls (SMS texts, numbers in the audit blocks) and Bolt logs payloads, so those stay at INFO whatever
LOG_LEVEL says. Below DEBUG, Alembic's narration of each migration is left out too.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers that write request bodies or payloads at DEBUG.
_BODY_LOGGERS = ("slack_sdk", "slack_bolt", "smsbot.bolt")
# Alembic narrates every migration context at INFO; bot.storage.db already logs the one line that matters.
_CHATTY_LOGGERS = ("alembic",)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, and
    ``exc_info`` (the formatted traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record, as logging's last resort does.

    A handler holding on to the stream it was given would keep writing to a replaced (or closed) one.
    """

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(settings: Settings) -> None:
    """Send log records to stderr at ``settings.log_level``, as text or JSON (``settings.log_format``).

    Calling it again replaces what an earlier call installed, and leaves other handlers alone.
    """
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    debug = settings.log_level == "DEBUG"
    for name in _BODY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if debug else logging.NOTSET)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.WARNING)
