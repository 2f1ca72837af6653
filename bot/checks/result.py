"""What one check found (:class:`CheckResult`), and the helpers every area's checks share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from bot.i18n import Translatable


class Status(StrEnum):
    """How a check went. Only ``FAILED`` makes `smsbot check` exit with 1."""

    OK = "ok"
    WARNING = "warning"  # works, but deserves attention (expiring key, no credits, pending migrations)
    FAILED = "failed"  # the bot cannot work like this
    SKIPPED = "skipped"  # not checked, because something it depends on failed


@dataclass(frozen=True)
class CheckResult:
    """One line of `smsbot check`: what was checked, how it went, and for a problem, the fix.

    The name, detail and fix are marked strings (``N_``) or :class:`~bot.i18n.Text` objects: the command line
    tells them in the language of its environment (``bot.i18n.in_``)."""

    area: str  # "Settings", "Slack", "OVH", "Database"
    name: str
    status: Status
    detail: str | Translatable
    fix: str | Translatable | None = None


def shown_url(url: str) -> str:
    """``url`` fit to print: a user name and password in it (a proxy's) become ``***``."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}:{parts.port}" if parts.port else f"***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def exit_status(results: Iterable[CheckResult]) -> int:
    """1 when any check failed, else 0 (warnings do not fail the check)."""
    return 1 if any(result.status is Status.FAILED for result in results) else 0
