"""The `smsbot` command."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from dotenv import load_dotenv

from bot.errors import ConfigurationError
from bot.settings import Mode, Settings, load_settings

log = logging.getLogger("smsbot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smsbot", description="Send SMS from Slack through OVHcloud.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (Socket Mode by default)")
    run.add_argument("--http", action="store_true", help="serve POST /slack/events instead of Socket Mode")
    run.add_argument("--host", default="0.0.0.0", help="address to listen on in HTTP mode (default 0.0.0.0)")  # noqa: S104
    run.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", "3000")), help="HTTP port (default 3000)"
    )
    run.add_argument("--threads", type=int, default=16, help="HTTP server threads (default 16)")
    return parser


def _settings(mode: Mode) -> Settings:
    env_file = Path.cwd() / ".env"
    load_dotenv(env_file, override=False)
    try:
        return load_settings(os.environ, mode)
    except ConfigurationError as error:
        print(error.user_message, file=sys.stderr)
        if not env_file.exists():
            print(
                "\nNo .env file here: copy .env.example to .env and fill it in. Create the Slack app from "
                "manifest.yml and the OVH keys as the README's Set-up section says.",
                file=sys.stderr,
            )
        raise SystemExit(2) from None


def _stop_on_sigterm() -> None:
    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def run(args: argparse.Namespace) -> None:
    """Start the bot and serve until interrupted; in-flight sends finish before exit."""
    from bot.app import create_bot

    settings = _settings(Mode.HTTP if args.http else Mode.SOCKET)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        bot = create_bot(settings)
    except ConfigurationError as error:
        print(error.user_message, file=sys.stderr)
        raise SystemExit(2) from None
    _stop_on_sigterm()
    bot.start_recovery()
    try:
        if args.http:
            from bot.http_server import HttpServer

            server = HttpServer(bot, args.host, args.port, threads=args.threads)
            log.info("smsbot listening on http://%s:%s/slack/events", args.host, server.port)
            server.serve()
        else:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("smsbot connecting to Slack in Socket Mode")
            SocketModeHandler(bot.app, settings.slack_app_token).start()
    except KeyboardInterrupt:
        log.info("stopping: waiting for sends in flight")
    finally:
        bot.close()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `smsbot` script."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        run(args)


if __name__ == "__main__":
    main()
