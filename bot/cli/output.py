"""What every subcommand shares: reading the settings for the terminal, and printing for a terminal."""

from __future__ import annotations

import logging
import os
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from dotenv import load_dotenv

from bot.domain.errors import ConfigurationError, LedgerUnavailable
from bot.i18n import Translator, for_locale, languages
from bot.settings import Mode, Settings, load_settings
from bot.storage.db import create_engine, migrate

WIDTH = 100
# Where gettext looks for the language of messages, first set first (LANGUAGE, a GNU list of fallbacks, aside).
_LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def environment_locale(environ: Mapping[str, str] | None = None) -> str | None:
    """The locale the environment asks messages in: ``es_ES`` from ``LANG=es_ES.UTF-8`` (the first of
    LC_ALL, LC_MESSAGES and LANG that is set, as gettext reads them); None when none is."""
    values = os.environ if environ is None else environ
    for name in _LOCALE_VARIABLES:
        if value := values.get(name):
            return value.split(".")[0].split("@")[0]
    return None


def cli_translator(environ: Mapping[str, str] | None = None) -> Translator:
    """The command line's translator: the environment's language when there is a catalogue for it, English
    otherwise (``C``, ``POSIX``, unset, or any other language). Flags, variable names and what scripts read
    (CSV, JSON, exit statuses) are never translated."""
    return for_locale(environment_locale(environ))


def audit_language(settings: Settings, environ: Mapping[str, str] | None = None) -> str:
    """The language of what the bot posts in Slack about a send from the command line: the terminal's when
    it asks for a language the bot speaks (``LANG=es_ES.UTF-8``, ``LANG=en_GB``), else the team's
    (SMS_LANGUAGE: for ``C``, ``POSIX``, an unset locale or another language)."""
    locale = environment_locale(environ)
    asked = locale.split("_")[0].lower() if locale else None
    return asked if asked in languages() else settings.language


def settings_or_exit(mode: Mode) -> Settings:
    """The settings from ``./.env`` and the environment; on a problem, name each one and exit with 2."""
    env_file = Path.cwd() / ".env"
    load_dotenv(env_file, override=False)
    try:
        return load_settings(os.environ, mode)
    except ConfigurationError as error:
        t = cli_translator()
        print(error.user_message_in(t), file=sys.stderr)
        if not env_file.exists():
            advice = t._(
                "No .env file here: copy .env.example to .env and fill it in. Create the Slack app from "
                "manifest.yml and the OVH keys as the README's Set-up section says."
            )
            print(f"\n{advice}", file=sys.stderr)
        raise SystemExit(2) from None


def database_or_exit(settings: Settings) -> sa.Engine:
    """The database of DATABASE_URL, migrated to this code's schema (the caller disposes of it); when it
    cannot be used (unreachable, or a schema newer than this code), say why and exit with 2."""
    engine = create_engine(settings.database_url)
    try:
        migrate(engine)
    except (ConfigurationError, LedgerUnavailable) as error:
        engine.dispose()
        t = cli_translator()
        why = error.reason if isinstance(error, LedgerUnavailable) else error.user_message_in(t)
        told = t._("The database (DATABASE_URL) cannot be used: {reason}").format(reason=why)
        say(f"{Marks().failed} {told}", stream=sys.stderr)
        raise SystemExit(2) from None
    return engine


class Marks:
    """✓ ✗ ! - where the terminal can show them, ASCII words where it cannot (a C locale, a Windows pipe)."""

    def __init__(self) -> None:
        try:
            "✓✗".encode(sys.stdout.encoding or "ascii")
        except (UnicodeEncodeError, LookupError):
            self.ok, self.failed, self.warning, self.skipped = "OK", "FAIL", "WARN", "SKIP"
        else:
            self.ok, self.failed, self.warning, self.skipped = "✓", "✗", "!", "-"


def say(text: str, *, indent: str = "", stream: TextIO | None = None) -> None:
    """Print ``text`` wrapped for a terminal; URLs and long words are never broken."""
    lines = textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + "    ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    print("\n".join(lines) or indent, file=stream or sys.stdout)


@contextmanager
def sdk_logs_quiet(settings: Settings) -> Iterator[None]:
    """Keep slack_sdk's own lines about a failed call (and its retries) out of what a command prints.

    The SDK logs a failure at ERROR, and each retry at INFO, before raising; the command explains the
    exception itself (a start-up failure's line, a check's result). At LOG_LEVEL=DEBUG the lines stay:
    someone debugging wants them.
    """
    if settings.log_level == "DEBUG":
        yield
        return
    logger = logging.getLogger("slack_sdk")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
