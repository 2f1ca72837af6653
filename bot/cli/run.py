"""`smsbot run`: serve Slack until stopped, in Socket Mode (default) or over HTTP (`--http`)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING, Protocol

from bot.cli.output import sdk_logs_quiet, settings_or_exit
from bot.cli.startup import UNREACHABLE, explain
from bot.logs import configure_logging
from bot.settings import Mode, Settings

if TYPE_CHECKING:
    from bot.app import SmsBot

log = logging.getLogger("smsbot")

DEFAULT_PORT = 3000


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Declare `smsbot run` and its options."""
    parser = commands.add_parser("run", help="run the bot (Socket Mode by default)")
    parser.add_argument("--http", action="store_true", help="serve POST /slack/events instead of Socket Mode")
    parser.add_argument(
        "--host",
        default="0.0.0.0",  # noqa: S104 - a server's default; --host 127.0.0.1 narrows it
        help="address to listen on in HTTP mode (default 0.0.0.0)",
    )
    parser.add_argument(
        "--port", type=int, help=f"HTTP port (default: the PORT variable, else {DEFAULT_PORT})"
    )
    parser.add_argument("--threads", type=int, default=32, help="HTTP server threads (default 32)")
    parser.set_defaults(handler=run)


def _stop_on_sigterm() -> None:
    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def run(args: argparse.Namespace) -> int:
    """Start the bot and serve until interrupted; in-flight sends finish before exit."""
    from bot.app import create_bot

    settings = settings_or_exit(Mode.HTTP if args.http else Mode.SOCKET)
    if args.http and args.port is None:
        args.port = _port_from_environment()  # read after the settings, so that PORT may be in .env
    configure_logging(settings)
    try:
        with sdk_logs_quiet(settings):
            bot = create_bot(settings)
    except Exception as error:
        failure = explain(error, settings)
        if failure is None:
            raise
        print(failure.line, file=sys.stderr)
        return failure.status
    _stop_on_sigterm()
    try:
        if args.http:
            return _serve_http(bot, args)
        return _serve_socket_mode(bot, settings)
    except KeyboardInterrupt:
        log.info("stopping: waiting for sends in flight")
        return 0
    finally:
        bot.close()


def _port_from_environment() -> int:
    value = os.environ.get("PORT", "").strip()
    if not value:
        return DEFAULT_PORT
    if not value.isdigit() or not 0 < int(value) < 65536:
        print(f"PORT must be a port number between 1 and 65535 (not `{value}`).", file=sys.stderr)
        raise SystemExit(2)
    return int(value)


def _start_background_work(bot: SmsBot) -> None:
    # Only once the server could be set up: a bot that cannot listen stops in one line, without passes of
    # recovery, retention or delivery racing each other on a ledger it is about to leave.
    bot.start_recovery()
    bot.start_retention()
    bot.start_delivery()


def _serve_http(bot: SmsBot, args: argparse.Namespace) -> int:
    from bot.server.http import HttpServer

    try:
        server = HttpServer(bot, args.host, args.port, threads=args.threads)
    except OSError as error:
        print(
            f"smsbot cannot start: it cannot listen on {args.host}:{args.port} ({error.strerror or error}). "
            "Choose another port with PORT or --port, or stop what listens there.",
            file=sys.stderr,
        )
        return UNREACHABLE

    _start_background_work(bot)
    _stop_on_signals(server)
    log.info("smsbot listening on http://%s:%s/slack/events", args.host, server.port)
    server.serve()
    log.info("stopping: waiting for sends in flight")
    return 0


def _serve_socket_mode(bot: SmsBot, settings: Settings) -> int:
    from bot.server.socket_mode import AppTokenRefused, SocketModeServer

    assert settings.slack_app_token is not None  # Mode.SOCKET requires it
    server = SocketModeServer(bot.app, settings.slack_app_token, settings.slack_api_url, gate=bot.acks)

    _start_background_work(bot)
    _stop_on_signals(server)
    log.info("smsbot connecting to Slack in Socket Mode")
    try:
        server.serve()
    except AppTokenRefused as refusal:
        print(
            f"Slack refused SLACK_APP_TOKEN ({refusal.code}): generate an app-level token with the "
            "`connections:write` scope (Basic Information → App-Level Tokens) and put it in SLACK_APP_TOKEN.",
            file=sys.stderr,
        )
        return 2
    log.info("stopping: waiting for sends in flight")
    return 0


class _Stoppable(Protocol):
    @property
    def stopping(self) -> bool: ...

    def stop(self) -> None: ...


def _stop_on_signals(server: _Stoppable) -> None:
    """SIGTERM or SIGINT asks ``server`` to stop; a second one stops waiting (KeyboardInterrupt).

    A KeyboardInterrupt could land anywhere in the server's loop; its own stop lets it finish the step it
    is in, stop taking requests (HTTP) or envelopes (Socket Mode) and answer or ack what it took.
    """

    def stop(_signum: int, _frame: FrameType | None) -> None:
        if server.stopping:
            raise KeyboardInterrupt
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
